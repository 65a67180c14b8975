"""What the baseline learns: a minute that a rule judges unusual is not taught to it, so a long
incident cannot hide the next one; the hold is bounded and kept in the stored state."""

from __future__ import annotations

import json

import numpy as np
import pytest

from proctor.monitor import AgentState, StoreBackend, fold
from proctor.monitor._baseline import MAX_HELD
from proctor.policy._monitor_schema import MonitoringPolicy
from proctor.store import create_store_engine, migrate

M0 = 28_401_120  # Monday 2024-01-01 00:00 UTC
DAY = 1440
REFUND = "calls:payments.refund"
TOOLS = ("payments.refund",)


def policy() -> MonitoringPolicy:
    return MonitoringPolicy.model_validate({"enabled": True, "warmup": 7 * DAY})  # default rules


def quiet_refunds(state: AgentState, pol: MonitoringPolicy, first: int, minutes: int) -> list:
    """An agent that refunds about once every two hours (Poisson, a fixed seed)."""
    rng = np.random.default_rng(5)
    alerts = []
    for m in range(first, first + minutes):
        n = int(rng.poisson(1 / 120))
        alerts += fold(state, m, {"calls": n, REFUND: n} if n else {}, pol, TOOLS)
    return alerts


def test_a_long_incident_does_not_teach_the_baseline_to_hide_the_next():
    """The seed-400 miss of ``proctor bench monitor``: an hour-long runaway loop of refunds
    (40 a minute), detected, then a spike of refunds (one a minute) the next day. When every
    minute of the loop was learned, clipped at mean ± 4 sd, the dispersion of the refunds grew
    by a fifth each minute (twentyfold over the hour) and the spike, a day later, scored as
    usual. Unusual minutes are not learned now: the spike is caught within minutes."""
    pol = policy()
    state = AgentState.new("a", M0 - 1)
    assert quiet_refunds(state, pol, M0, 8 * DAY) == []
    disp = state.rates[REFUND].disp
    loop = M0 + 8 * DAY + 7 * 60  # Tuesday 07:00
    alerts = []
    for m in range(loop, loop + 60):
        alerts += fold(state, m, {"calls": 40, REFUND: 40}, pol, TOOLS)
    assert {a.rule for a in alerts if a.tool == "payments.refund"} >= {"calls.spike"}
    assert state.held[REFUND] >= 60  # the whole loop was held out of the baseline
    assert state.rates[REFUND].disp < 1.5 * max(disp, 1.0)  # its dispersion unchanged
    spike = loop + 60 + 20 * 60  # 21 hours after the loop began: another hour of the week
    quiet_refunds(state, pol, loop + 60, 60)  # the rules' windows still hold the loop
    assert quiet_refunds(state, pol, loop + 120, spike - loop - 120) == []
    assert REFUND not in state.held  # the hold ends when the series is usual again
    caught = []
    for i, m in enumerate(range(spike, spike + 30)):
        caught += [(i, a.rule) for a in fold(state, m, {"calls": 1, REFUND: 1}, pol, TOOLS)]
    assert caught, "the spike was not caught"
    assert caught[0][0] <= 10, caught


def test_a_series_unusual_for_longer_than_the_hold_learns_again():
    pol = policy()
    state = AgentState.new("a", M0 - 1)
    quiet_refunds(state, pol, M0, 8 * DAY)
    seen = state.rates[REFUND].n
    start = M0 + 8 * DAY
    for m in range(start, start + MAX_HELD + 10):  # a new normal: 20 refunds a minute
        fold(state, m, {"calls": 20, REFUND: 20}, pol, TOOLS)
    assert state.held[REFUND] == MAX_HELD + 10
    assert state.rates[REFUND].n == seen + 10  # learning again (clipped) after the hold


def test_the_hold_is_part_of_the_stored_state():
    state = AgentState.new("a", M0 - 1)
    state.held = {REFUND: 42}
    again = AgentState.from_state(json.loads(json.dumps(state.to_state())))
    assert again.held == {REFUND: 42}
    old = state.to_state()
    del old["held"]  # a baseline stored before the hold loads with none
    assert AgentState.from_state(old).held == {}


@pytest.mark.parametrize("url", ["sqlite", "postgres"])
def test_the_hold_survives_in_the_store(url, request, tmp_path):
    """Another process (a new engine) finds the series still held, and goes on holding it."""
    db = f"sqlite:///{tmp_path / 'p.db'}" if url == "sqlite" else request.getfixturevalue("pg_url")
    engine = create_store_engine(db)
    migrate(engine)

    def work(state, due, conn):
        state = state or AgentState.new("held-agent", 99)
        state.held = {REFUND: 17}
        state.closed = 100
        return state, None

    StoreBackend(engine).close("held-agent", 100, work)
    other = create_store_engine(db)
    loaded = StoreBackend(other).load("held-agent")
    assert loaded is not None
    assert loaded.held == {REFUND: 17}
    other.dispose()
    engine.dispose()
