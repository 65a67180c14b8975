"""CircuitBreaker: closed → open after N consecutive failures → half-open after the cool-down."""

from __future__ import annotations

import threading

import pytest

from proctor.tools import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def breaker(clock):
    return CircuitBreaker(failures=3, reset_seconds=30, clock=clock)


def trip(breaker):
    for _ in range(breaker.threshold):
        assert breaker.allow()
        breaker.record_failure()


def test_starts_closed_and_allows(breaker):
    assert breaker.state is BreakerState.CLOSED
    assert all(breaker.allow() for _ in range(10))


def test_opens_after_consecutive_failures(breaker):
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()


def test_success_resets_the_count(breaker):
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_half_open_after_reset_seconds(breaker, clock):
    trip(breaker)
    clock.now += 29.999
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    assert breaker.retry_after() == pytest.approx(0.001)
    clock.now += 0.001
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.retry_after() == 0.0


def test_one_trial_at_a_time(breaker, clock):
    trip(breaker)
    clock.now += 30
    assert breaker.allow()
    assert not breaker.allow()
    assert not breaker.allow()
    assert breaker.state is BreakerState.HALF_OPEN


@pytest.mark.parametrize(
    ("outcome", "state"),
    [
        pytest.param("success", BreakerState.CLOSED, id="success-closes"),
        pytest.param("failure", BreakerState.OPEN, id="failure-reopens"),
    ],
)
def test_trial_result_decides(breaker, clock, outcome, state):
    trip(breaker)
    clock.now += 30
    assert breaker.allow()
    if outcome == "success":
        breaker.record_success()
    else:
        breaker.record_failure()
    assert breaker.state is state


def test_failed_trial_restarts_the_cool_down(breaker, clock):
    trip(breaker)
    clock.now += 30
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.retry_after() == 30
    clock.now += 29
    assert not breaker.allow()
    clock.now += 1
    assert breaker.allow()


def test_closed_after_successful_trial_needs_n_failures_again(breaker, clock):
    trip(breaker)
    clock.now += 30
    assert breaker.allow()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN


def test_concurrent_callers_get_exactly_one_trial(breaker, clock):
    trip(breaker)
    clock.now += 30
    threads = 16
    barrier = threading.Barrier(threads)
    allowed = []
    lock = threading.Lock()

    def worker():
        barrier.wait(timeout=10)
        ok = breaker.allow()
        with lock:
            allowed.append(ok)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    assert allowed.count(True) == 1
    assert len(allowed) == threads
