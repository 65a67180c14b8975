"""The share's CUSUM (``Drift``): a slow drift is caught where a z-score is not, a stationary
noisy share (clustered retries) is not flagged, and its state round-trips through the store."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.monitor import AgentState, Drift, StoreBackend
from proctor.store import create_store_engine, migrate

THRESHOLD = 5.0  # the default denials.drift score
DAY = 1440


def steady(drift: Drift, rng: np.random.Generator, minutes: int, rate: float, p: float) -> int:
    """Feed ``minutes`` of Poisson calls with denials in retry clusters of 1 to 3 (as an agent
    that retries a refused call); return how many times the CUSUM reached the threshold (it
    restarts after each, as the fold does after an alert)."""
    alarms = 0
    for _ in range(minutes):
        calls = int(rng.poisson(rate))
        clusters = int(rng.binomial(calls, p / 2))
        denied = min(clusters * int(rng.integers(1, 4)), calls)
        if drift.update(denied, calls) >= THRESHOLD:
            alarms += 1
            drift.restart()
    return alarms


@pytest.mark.parametrize(
    ("rate", "p", "most"),
    [(0.1, 0.02, 2), (1.0, 0.03, 0), (6.0, 0.02, 0), (20.0, 0.04, 0)],
    ids=["sparse", "steady", "busy", "very-busy"],
)
def test_a_stationary_noisy_share_is_not_flagged(rate, p, most):
    """Four weeks after a week of warm-up: no alarm, except at most two on a sparse agent (a
    call every ten minutes: four denials among forty calls happen by chance, now and then)."""
    rng = np.random.default_rng(7)
    drift = Drift()
    steady(drift, rng, 7 * DAY, rate, p)  # learn the reference
    assert drift.phi > 1.2 or rate < 1  # clusters of retries are overdispersion, not evidence
    assert steady(drift, rng, 4 * 7 * DAY, rate, p) <= most


@pytest.mark.parametrize(
    ("rate", "rise", "hours"),
    [(0.1, 0.2, 24), (1.0, 0.15, 12), (6.0, 0.15, 6)],
    ids=["sparse-day", "steady-half-day", "busy-hours"],
)
def test_a_slow_drift_is_detected_while_no_minute_is_unusual(rate, rise, hours):
    rng = np.random.default_rng(11)
    drift = Drift()
    steady(drift, rng, 7 * DAY, rate, 0.02)
    drift.restart()
    p0, phi = drift.p, drift.phi
    raised, worst_z = None, 0.0
    for minute in range(hours * 60):  # the share climbs by `rise` over the hours
        p = 0.02 + rise * minute / (hours * 60)
        calls = int(rng.poisson(rate))
        denied = int(rng.binomial(calls, p))
        if calls:  # a minute's z-score against the baseline, corrected like the CUSUM
            z = (denied - calls * p0) / math.sqrt(calls * p0 * (1 - p0) * phi)
            worst_z = max(worst_z, z)
        if drift.update(denied, calls) >= THRESHOLD and raised is None:
            raised = minute
    assert raised is not None
    if rate >= 6:
        assert worst_z < 8  # a busy agent's minutes: no single minute crosses a z of 8


def test_a_jump_is_caught_within_minutes():
    drift = Drift()
    for i in range(3 * DAY):
        drift.update(1 if i % 20 == 0 else 0, 5)
    drift.restart()
    minutes = 0
    while drift.update(3, 5) < THRESHOLD:  # 60 % of calls denied
        minutes += 1
    assert minutes <= 3  # one minute weighs at most one denial's worth of evidence


def test_an_idle_minute_and_the_warm_up_leave_the_cusum_alone():
    drift = Drift()
    for _ in range(100):
        drift.update(0, 10)
    drift.update(10, 10)
    level = drift.cusum
    assert level > 0
    assert drift.update(0, 0) == level  # no call: no evidence
    drift.restart()
    assert drift.cusum == 0.0
    fresh = Drift()
    assert fresh.update(10, 10, score=False) == 0.0  # warming up: learns, does not score
    assert fresh.n == 1


def test_a_share_never_leaves_its_bounds():
    drift = Drift()
    assert drift.p > 0  # a prior: never a share of exactly 0
    for _ in range(500):
        drift.update(10, 10)
    assert drift.p <= 0.5
    assert drift.llr(10, 10) > 0  # still a rise to look for above a high reference
    assert drift.llr(5, 0) == 0.0
    assert drift.llr(50, 10) == drift.llr(10, 10)  # a count above the whole is the whole


def drifts() -> st.SearchStrategy[Drift]:
    minute = st.tuples(st.integers(0, 500), st.integers(0, 500))
    return st.lists(minute, max_size=200).map(_fed)


def _fed(minutes: list[tuple[int, int]]) -> Drift:
    drift = Drift()
    for a, b in minutes:
        drift.update(min(a, b), b)
    return drift


@settings(max_examples=50, deadline=None)
@given(drift=drifts())
def test_the_state_round_trips_through_json(drift):
    again = Drift.from_state(json.loads(json.dumps(drift.to_state())))
    assert again == drift
    assert again.update(3, 7) == drift.update(3, 7)


@pytest.mark.parametrize("url", ["sqlite", "postgres"])
def test_the_state_round_trips_through_the_store(url, request, tmp_path):
    """The CUSUM is part of the agent's baseline in the store: another process (here, a new
    engine) carries on from the same value, exactly."""
    db = f"sqlite:///{tmp_path / 'p.db'}" if url == "sqlite" else request.getfixturevalue("pg_url")
    engine = create_store_engine(db)
    migrate(engine)
    backend = StoreBackend(engine)

    @settings(max_examples=25, deadline=None)
    @given(drift=drifts(), agent=st.sampled_from(["a", "b", "c"]))
    def check(drift: Drift, agent: str) -> None:
        upto = (backend.closed(agent) or 0) + 1

        def work(state, due, conn):
            state = state or AgentState.new(agent, upto - 1)
            state.shares["denials"] = drift
            state.closed = upto
            return state, None

        backend.close(agent, upto, work)
        other = StoreBackend(create_store_engine(db))
        loaded = other.load(agent)
        assert loaded is not None
        assert loaded.shares["denials"] == drift
        other.engine.dispose()

    check()
    engine.dispose()


def test_a_baseline_stored_before_the_drift_estimator_loads_with_fresh_shares():
    """A state row written by the previous share estimator (key ``shares``) still loads: its
    rates are kept, and the shares' CUSUMs start afresh."""
    state = AgentState.new("a", 100)
    old = state.to_state()
    del old["drifts"]
    old["shares"] = {"denials": {"num": 0.1, "den": 5.0, "phi": 1.0, "s": 3.0, "n": 9}}
    loaded = AgentState.from_state(old)
    assert loaded.shares == {}
    assert loaded.closed == state.closed


def test_a_rise_to_several_times_the_reference_in_retry_clusters_is_evidence():
    """A share of 10 % of calls (6 times a reference of 1.5 %), denied in retries of 1 to 3:
    on average each minute raises the CUSUM. One minute weighs at most one denial's worth, so
    with a shift of 12 points (about 6 in what the cap sees) such a minute lowered it, and a
    slow drift that spent its first hours there was never flagged (seed 400 of the bench)."""
    rng = np.random.default_rng(3)
    drift = Drift()

    def minute(p: float) -> tuple[int, int]:
        calls = int(rng.poisson(5.0))
        clusters = int(rng.binomial(calls, p / 2))
        return min(clusters * int(rng.integers(1, 4)), calls), calls

    for _ in range(7 * DAY):
        drift.update(*minute(0.014))
    usual = [drift.llr(*minute(0.014)) for _ in range(20_000)]
    risen = [drift.llr(*minute(0.10)) for _ in range(20_000)]
    assert float(np.mean(usual)) < 0 < float(np.mean(risen))


def test_a_drift_that_was_alerted_on_does_not_hide_the_next():
    """Seed 700 of the bench: a drift (17 % of calls denied for 16 hours, alerted on) taught
    the reference and ``phi`` (1.9 to 6), and a second drift 14 hours later, at 8 %, moved
    the CUSUM to 2 at most. After an alert they are held for a day: the second is caught."""
    rng = np.random.default_rng(0)
    drift = Drift()

    def minute(p: float) -> bool:
        calls = int(rng.poisson(5.0))
        clusters = int(rng.binomial(calls, p / 2))
        if drift.update(min(clusters * int(rng.integers(1, 4)), calls), calls) >= THRESHOLD:
            drift.restart()  # as the fold does after an alert
            return True
        return False

    for _ in range(7 * DAY):
        minute(0.014)
    phi = drift.phi
    assert any([minute(0.17) for _ in range(16 * 60)])  # the first drift, alerted on
    assert drift.phi < 1.5 * phi  # not taught by it
    for _ in range(14 * 60):
        minute(0.014)
    assert any(minute(0.08) for _ in range(8 * 60))  # the second drift is caught


def test_the_hold_after_an_alert_lasts_a_day_and_is_not_extended():
    drift = Drift()
    for _ in range(100):
        drift.update(1, 10)
    learned = drift.n
    drift.restart()
    assert drift.held == Drift.HOLD
    drift.update(1, 10)
    drift.restart()  # an alert within the hold does not extend it
    assert drift.held == Drift.HOLD - 1
    for _ in range(Drift.HOLD - 1):
        drift.update(1, 10)
    assert drift.n == learned  # held: scored, not learned
    drift.update(1, 10)
    assert drift.n == learned + 1
    again = Drift.from_state(json.loads(json.dumps(drift.to_state())))
    assert again == drift
