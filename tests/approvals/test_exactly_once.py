"""Approval executes the action exactly once: concurrent approvers and executors in separate
processes, a process killed (SIGKILL) between approval and execution, a process killed during
execution; denied and expired requests never execute. On SQLite and on real PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from proctor import OutcomeStatus
from proctor.approvals import ApprovalState
from proctor.errors import ApprovalStateError

from ._child import world_for
from ._world import WallClock, make_world

CHILD = str(Path(__file__).with_name("_child.py"))
ROUNDS = 6


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def _racer(
    url: str,
    effects: str,
    ids: list[str],
    name: str,
    key: str,
    vote: str,
    ready: Any,
    start: Any,
    results: Any,
) -> None:
    """One person and one executor in its own process: vote on every request at the same
    moment as the other racer, then try to execute each."""
    world = world_for(url, effects)
    who = world.queue.authenticate(name, key)
    worker = world.queue.worker()
    ready.release()
    start.wait()
    for rid in ids:
        try:
            getattr(world.queue, vote)(rid, by=who, note="race")
            outcome = "voted"
        except ApprovalStateError:
            outcome = "refused"
        ran = worker.execute(rid)
        results.put(
            (
                name,
                rid,
                outcome,
                None if ran is None else str(ran.status),
                None if ran is None else ran.error,
            )
        )
    world.close()


def race(world, effects: Path, ids: list[str], votes: dict[str, str]) -> list[tuple]:
    ctx = multiprocessing.get_context("spawn")
    ready, start, results = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(
            target=_racer,
            args=(
                world.url,
                str(effects),
                ids,
                name,
                world.keys[name],
                vote,
                ready,
                start,
                results,
            ),
        )
        for name, vote in votes.items()
    ]
    for p in procs:
        p.start()
    for _ in procs:
        assert ready.acquire(timeout=120)
    start.set()
    got = [results.get(timeout=120) for _ in range(len(procs) * len(ids))]
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * len(procs)
    return got


def hold_many(world, n: int, tool: str = "payments.refund") -> list[str]:
    s = world.session()
    ids = []
    for i in range(n):
        args = (
            {"order_id": f"O-{i}", "amount": 250.0}
            if tool == "payments.refund"
            else {"account": f"ACC-{i}", "amount": 5.0}
        )
        out = world.gate.call(s, tool, args)
        assert out.status is OutcomeStatus.PENDING
        ids.append(out.approval_id)
    return ids


def test_two_approvers_at_the_same_moment_execute_once(world, tmp_path):
    """One approver is enough; both approve and both try to execute, in two processes."""
    effects = tmp_path / "effects"
    ids = hold_many(world, ROUNDS)
    got = race(world, effects, ids, {"alice": "approve", "bob": "approve"})
    for rid in ids:
        mine = [g for g in got if g[1] == rid]
        assert sorted(g[2] for g in mine) == ["refused", "voted"]  # one vote won, under the lock
        assert [g[3] for g in mine if g[3] is not None] == ["executed"], mine  # one executor ran it
        assert world.queue.get(rid).state is ApprovalState.EXECUTED
    assert sorted(line.split()[1] for line in lines(effects)) == sorted(
        f"O-{i}" for i in range(ROUNDS)
    )


def test_two_person_rule_approved_at_the_same_moment_executes_once(world, tmp_path):
    effects = tmp_path / "effects"
    ids = hold_many(world, ROUNDS, "payouts.send")
    # payouts.send is not the counted tool: count the claims instead (one key per request)
    got = race(world, effects, ids, {"alice": "approve", "bob": "approve"})
    for rid in ids:
        mine = [g for g in got if g[1] == rid]
        assert [g[2] for g in mine] == ["voted", "voted"]  # both votes count: two people
        assert [g[3] for g in mine if g[3] is not None] == ["executed"]
        req = world.queue.get(rid)
        assert req.state is ApprovalState.EXECUTED
        assert set(req.approved_by) == {"alice", "bob"}
    with world.queue.engine.connect() as conn:
        claims = conn.exec_driver_sql("SELECT COUNT(*) FROM proctor_approval_executions").scalar()
    assert claims == ROUNDS


def test_approve_and_deny_at_the_same_moment_never_execute_a_denied_request(world, tmp_path):
    effects = tmp_path / "effects"
    ids = hold_many(world, ROUNDS)
    got = race(world, effects, ids, {"alice": "approve", "bob": "deny"})
    executed = 0
    for rid in ids:
        req = world.queue.get(rid)
        ran = [g for g in got if g[1] == rid and g[3] is not None]
        if req.state is ApprovalState.DENIED:
            assert ran == []
        else:
            assert req.state is ApprovalState.EXECUTED
            assert len(ran) == 1
            executed += 1
    assert len(lines(effects)) == executed


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, CHILD, *args],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_for(child: subprocess.Popen[str], word: str) -> None:
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith(word):
            return
    raise AssertionError(f"child exited ({child.wait()}) before saying {word!r}")


def recover(world, effects: Path, at: float) -> dict[str, list[str]]:
    res = subprocess.run(
        [sys.executable, CHILD, "recover", world.url, str(effects), str(at)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    return {ln.split()[0]: ln.split()[1:] for ln in res.stdout.splitlines()}


def test_killed_between_approval_and_execution_recovery_executes_once(world, tmp_path):
    effects = tmp_path / "effects"
    (rid,) = hold_many(world, 1)
    child = spawn("approve-then-hang", world.url, str(effects), rid, "alice", world.keys["alice"])
    wait_for(child, "approved")
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    assert world.queue.get(rid).state is ApprovalState.APPROVED
    assert lines(effects) == []

    first = recover(world, effects, world.clock.now + 5)  # the restarted process
    assert first["executed"] == [rid]
    second = recover(world, effects, world.clock.now + 10)  # and once more: nothing to do
    assert second["executed"] == []
    assert [line.split()[1] for line in lines(effects)] == ["O-0"]
    req = world.queue.get(rid)
    assert req.state is ApprovalState.EXECUTED
    assert req.result == "refunded 250.00 on O-0"


def test_killed_during_execution_is_never_run_again(world, tmp_path):
    """The tool acted, then its process died before recording it: recovery must not run it a
    second time. Once the claim's lease runs out the request fails as 'unknown'."""
    effects = tmp_path / "effects"
    (rid,) = hold_many(world, 1)
    world.queue.approve(rid, by=world.people["alice"])
    child = spawn("execute-and-hang", world.url, str(effects), rid)
    wait_for(child, "running")
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    assert world.queue.get(rid).state is ApprovalState.EXECUTING

    early = recover(world, effects, world.clock.now + 5)  # lease still running: leave it
    assert early == {"executed": [], "failed": []}
    late = recover(world, effects, world.clock.now + 3600)
    assert late == {"executed": [], "failed": [rid]}
    req = world.queue.get(rid)
    assert req.state is ApprovalState.FAILED
    assert "may or may not have run" in (req.error or "")
    assert f"idem_{rid}" in (req.error or "")
    assert len(lines(effects)) == 1  # the one run before the crash, never a second


def test_in_process_executors_racing_on_one_request(world, tmp_path):
    """Many threads of one process all try to execute the same approved request."""
    import threading

    (rid,) = hold_many(world, 1)
    world.queue.approve(rid, by=world.people["alice"])
    other = make_world(world.url, clock=WallClock(world.clock.now), people=False)
    try:
        results: list[object] = []
        barrier = threading.Barrier(8)

        def go(w):
            barrier.wait()
            results.append(w.queue.worker().execute(rid))

        threads = [threading.Thread(target=go, args=(w,)) for w in [world, other] * 4]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sum(r is not None for r in results) == 1
        assert len(world.refunds) + len(other.refunds) == 1
    finally:
        other.close()


@pytest.mark.parametrize("end", ["deny", "cancel", "expire"])
def test_a_request_that_did_not_end_approved_never_executes(world, end):
    (rid,) = hold_many(world, 1)
    if end == "deny":
        world.queue.deny(rid, by=world.people["bob"], note="no")
    elif end == "cancel":
        world.queue.ticket(rid, world.queue.get(rid).session()).cancel("no longer needed")
    else:
        world.clock.advance(3601)
        world.queue.requests.expire_due()
    assert world.queue.worker().execute(rid) is None
    assert world.queue.worker().run_once().executed == []
    assert world.queue.ticket(rid, world.queue.get(rid).session()).outcome(timeout=0).done
    assert world.refunds == []
