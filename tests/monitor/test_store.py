"""Baselines live in the store: they survive a restart, every process adds its counts to the
same minutes, and each minute is folded exactly once however many processes tick."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import pytest

from proctor.monitor import Monitor, StoreBackend
from proctor.store import StoreError, create_store_engine

from ._world import burst


def test_the_baseline_survives_a_restart(make, db_url):
    first = make()
    s = first.session()
    for _ in range(3):
        first.gate.call(s, "orders.get", {"order_id": "O-1"})
    first.clock.advance(120)
    first.monitor.tick()
    before = first.monitor.baseline("support-bot")
    assert before is not None
    key = "calls:orders.get"
    assert sum(before.recent[key]) == 3  # the minute is folded (learned once it leaves the windows)
    first.close()

    again = make(people=False, clock=first.clock)  # a new process: new engine, new objects
    after = again.monitor.baseline("support-bot")
    assert after is not None
    assert after.to_state() == before.to_state()
    again.clock.advance(600)
    again.monitor.tick()
    later = again.monitor.baseline("support-bot")
    assert later.closed == before.closed + 10  # carried on from where the first one stopped
    # every minute folded is either learned or waiting to leave the windows: none lost
    assert later.rates[key].n + len(later.recent[key]) == (
        before.rates[key].n + len(before.recent[key]) + 10
    )


def test_two_processes_add_to_the_same_minute_and_one_folds_it(world):
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, "tests")
        from monitor._world import make_world, Clock
        w = make_world({world.url!r}, people=False, clock=Clock({world.clock.now!r}))
        s = w.gate.open_session("support-bot", principal="t", tenant="acme")
        for _ in range(3):
            w.gate.call(s, "email.send", {{"to": "a@partner.example", "body": "b"}})
        w.monitor.flush(w.clock.now + 60)  # this process hands in its minute
        w.close()
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    s = world.session()
    for _ in range(3):
        world.gate.call(s, "email.send", {"to": "a@partner.example", "body": "b"})
    world.clock.advance(120)
    alerts = world.monitor.tick()
    # 3 + 3 = 6 sends in the minute: above the rule's 5, which neither process saw alone
    assert [(a.rule, a.value) for a in alerts] == [("email.burst", 6.0)]
    state = world.monitor.baseline("support-bot")
    assert 6.0 in state.recent["calls:email.send"]


def test_concurrent_ticks_fold_each_minute_once(make):
    worlds = [make(people=False) for _ in range(1)]
    base = worlds[0]
    monitors = [Monitor.open(base.monitor.policies, base.queue, clock=base.clock) for _ in range(4)]
    burst(base)
    base.monitor.flush(base.clock.now + 60)
    base.clock.advance(120)
    raised: list[list[object]] = []
    barrier = threading.Barrier(len(monitors))

    def tick(m: Monitor) -> None:
        barrier.wait()
        raised.append(m.tick())

    threads = [threading.Thread(target=tick, args=(m,)) for m in monitors]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(len(r) for r in raised) == [0, 0, 0, 1]  # one alert, raised once
    state = base.monitor.baseline("support-bot")
    assert state is not None
    assert sum(state.recent["calls:email.send"]) == 6.0


def test_a_store_that_cannot_answer_keeps_the_counts(world, db_url):
    s = world.session()
    world.gate.call(s, "orders.get", {"order_id": "O-1"})
    engine = create_store_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE proctor_monitor_buckets RENAME TO gone")
    try:
        world.clock.advance(120)
        with pytest.raises(StoreError, match="monitor store"):
            world.monitor.tick()
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE gone RENAME TO proctor_monitor_buckets")
        engine.dispose()
    world.monitor.tick()  # the counts were kept and are folded now
    state = StoreBackend(world.queue.engine).load("support-bot")
    assert state is not None
    assert sum(state.recent["calls:orders.get"]) == 1.0
