"""Allowed calls that go wrong: the tool raises, hangs, returns junk, or keeps failing."""

from __future__ import annotations

import asyncio
import threading

import pytest

from proctor import OutcomeStatus, Verdict
from proctor.tools import BreakerState

POLICY = """
version: 1
agent: {name: ops-bot, role: svc-ops, owner: ops@acme.test}
environments: {production: {max_autonomy: write}}
tools:
  db.query:
    autonomy: read
    args: {sql: string}
  slow.sync:
    autonomy: read
    timeout_seconds: 0.05
  slow.async:
    autonomy: read
    timeout_seconds: 0.05
  weather.get:
    autonomy: read
    args: {city: string}
  inventory.check:
    autonomy: read
    args: {sku: {type: string, required: false}}
    circuit_breaker: {failures: 3, reset_seconds: 30}
    fallback: {status: unavailable}
  pricing.quote:
    autonomy: read
    circuit_breaker: {failures: 1, reset_seconds: 10}
"""


@pytest.fixture
def gate(make_gate):
    return make_gate(POLICY)


@pytest.fixture
def session(gate):
    return gate.open_session("ops-bot", principal="svc", tenant="acme")


@pytest.fixture
def release():
    """An event a blocking tool waits on; always set at teardown so no thread is left hanging."""
    event = threading.Event()
    yield event
    event.set()


class Flaky:
    """A tool body whose next calls fail or succeed as the test says."""

    def __init__(self) -> None:
        self.failing = True
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failing:
            raise ConnectionError("inventory service unreachable")
        return "in stock"


@pytest.fixture
def flaky(gate):
    body = Flaky()

    @gate.tool("inventory.check")
    def check(sku: str | None = None) -> str:
        return body()

    return body


def check(gate, session):
    return gate.call(session, "inventory.check", {"sku": "SKU-1"})


# -- raise, time out, bad output --------------------------------------------------------------


def test_tool_that_raises_fails_with_the_exception_named(gate, session):
    @gate.tool("db.query")
    def query(sql: str) -> str:
        raise ValueError("relation 'users' does not exist")

    out = gate.call(session, "db.query", {"sql": "select 1"})
    assert out.status is OutcomeStatus.FAILED
    assert out.decision.verdict is Verdict.ALLOW
    assert out.result is None
    assert not out.ok
    assert "ValueError" in (out.error or "")
    assert "relation 'users' does not exist" in (out.error or "")


def test_async_tool_that_raises_fails_with_the_exception_named(gate, session):
    @gate.tool("db.query")
    async def query(sql: str) -> str:
        raise KeyError("shard-7")

    out = gate.call(session, "db.query", {"sql": "select 1"})
    assert out.status is OutcomeStatus.FAILED
    assert "KeyError" in (out.error or "")
    assert "shard-7" in (out.error or "")


def test_sync_tool_that_hangs_times_out(gate, session, release):
    entered = threading.Event()

    @gate.tool("slow.sync")
    def slow() -> str:
        entered.set()
        release.wait()
        return "too late"

    out = gate.call(session, "slow.sync", {})
    assert entered.is_set()
    assert out.status is OutcomeStatus.FAILED
    assert out.result is None
    assert "timed out" in (out.error or "")
    assert "0.05" in (out.error or "")


def test_async_tool_that_hangs_times_out(gate, session):
    cancelled = []

    @gate.tool("slow.async")
    async def slow() -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return "never"

    out = gate.call(session, "slow.async", {})
    assert out.status is OutcomeStatus.FAILED
    assert "timed out" in (out.error or "")
    assert cancelled == [True]


@pytest.mark.parametrize(
    ("returned", "executed"),
    [
        pytest.param({"temp_c": 21.5}, True, id="valid"),
        pytest.param({"temp_c": 21}, True, id="int-is-a-valid-float"),
        pytest.param({"temp_c": "21.5"}, False, id="string-not-coerced"),
        pytest.param(["21.5"], False, id="wrong-shape"),
        pytest.param(None, False, id="none"),
    ],
)
def test_output_is_validated_against_the_return_type(gate, session, returned, executed):
    @gate.tool("weather.get")
    def weather(city: str) -> dict[str, float]:
        return returned

    out = gate.call(session, "weather.get", {"city": "Oslo"})
    if executed:
        assert out.status is OutcomeStatus.EXECUTED
        assert out.result == returned
    else:
        assert out.status is OutcomeStatus.FAILED
        assert out.result is None  # withheld: the agent never sees malformed output
        assert "fails its schema" in (out.error or "")
        assert "withheld" in (out.error or "")


# -- circuit breaker --------------------------------------------------------------------------


def test_breaker_opens_after_consecutive_failures_and_answers_with_the_fallback(
    gate, session, flaky
):
    for _ in range(3):
        assert check(gate, session).status is OutcomeStatus.FAILED
    assert gate.breaker(session, "inventory.check").state is BreakerState.OPEN
    for _ in range(5):
        out = check(gate, session)
        assert out.status is OutcomeStatus.FALLBACK
        assert out.result == {"status": "unavailable"}
        assert "circuit open" in (out.error or "")
        assert out.decision.verdict is Verdict.ALLOW
    assert flaky.calls == 3


def test_interleaved_success_resets_the_failure_count(gate, session, flaky):
    for failing in (True, True, False, True, True):
        flaky.failing = failing
        check(gate, session)
    assert gate.breaker(session, "inventory.check").state is BreakerState.CLOSED
    flaky.failing = True
    check(gate, session)
    assert gate.breaker(session, "inventory.check").state is BreakerState.OPEN


def open_circuit(gate, session, flaky):
    flaky.failing = True
    for _ in range(3):
        check(gate, session)
    assert gate.breaker(session, "inventory.check").state is BreakerState.OPEN


def test_after_reset_seconds_one_trial_succeeds_and_closes(gate, session, flaky, clock):
    open_circuit(gate, session, flaky)
    clock.advance(29.9)
    assert check(gate, session).status is OutcomeStatus.FALLBACK
    assert flaky.calls == 3
    clock.advance(0.1)
    assert gate.breaker(session, "inventory.check").state is BreakerState.HALF_OPEN
    flaky.failing = False
    out = check(gate, session)
    assert out.status is OutcomeStatus.EXECUTED
    assert out.result == "in stock"
    assert gate.breaker(session, "inventory.check").state is BreakerState.CLOSED
    assert check(gate, session).status is OutcomeStatus.EXECUTED
    assert flaky.calls == 5


def test_failed_trial_reopens_for_another_reset_period(gate, session, flaky, clock):
    open_circuit(gate, session, flaky)
    clock.advance(30)
    out = check(gate, session)
    assert out.status is OutcomeStatus.FAILED
    assert flaky.calls == 4
    assert gate.breaker(session, "inventory.check").state is BreakerState.OPEN
    clock.advance(29)
    assert check(gate, session).status is OutcomeStatus.FALLBACK
    assert flaky.calls == 4
    clock.advance(1)
    flaky.failing = False
    assert check(gate, session).status is OutcomeStatus.EXECUTED


def test_only_one_half_open_trial_at_a_time(gate, session, clock, release):
    entered = threading.Event()
    calls = []

    @gate.tool("pricing.quote")
    def quote() -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("pricing down")
        entered.set()
        release.wait(timeout=10)
        return "42.00"

    assert gate.call(session, "pricing.quote", {}).status is OutcomeStatus.FAILED
    assert gate.breaker(session, "pricing.quote").state is BreakerState.OPEN
    clock.advance(10)

    trial = []
    worker = threading.Thread(target=lambda: trial.append(gate.call(session, "pricing.quote", {})))
    worker.start()
    assert entered.wait(timeout=10), "the trial call never reached the tool"
    concurrent = gate.call(session, "pricing.quote", {})
    assert concurrent.status is OutcomeStatus.FALLBACK
    assert concurrent.result is None  # the policy declares no fallback
    release.set()
    worker.join(timeout=10)
    assert [o.status for o in trial] == [OutcomeStatus.EXECUTED]
    assert len(calls) == 2
    assert gate.breaker(session, "pricing.quote").state is BreakerState.CLOSED


def test_timeouts_count_as_failures(gate, session, release):
    @gate.tool("slow.sync")
    def slow() -> str:
        release.wait()
        return "late"

    breaker = gate.breaker(session, "slow.sync")
    for _ in range(breaker.threshold):
        assert gate.call(session, "slow.sync", {}).status is OutcomeStatus.FAILED
    assert breaker.state is BreakerState.OPEN
    assert gate.call(session, "slow.sync", {}).status is OutcomeStatus.FALLBACK


def test_invalid_output_counts_as_a_failure(gate, session):
    @gate.tool("pricing.quote")
    def quote() -> int:
        return "free"  # type: ignore[return-value]

    assert gate.call(session, "pricing.quote", {}).status is OutcomeStatus.FAILED
    assert gate.breaker(session, "pricing.quote").state is BreakerState.OPEN


def test_open_circuit_of_one_tool_leaves_others_alone(gate, session, flaky):
    @gate.tool("db.query")
    def query(sql: str) -> str:
        return "1 row"

    open_circuit(gate, session, flaky)
    assert gate.call(session, "db.query", {"sql": "select 1"}).status is OutcomeStatus.EXECUTED


def test_call_that_does_not_fit_the_function_is_no_trial(gate, session, clock):
    # The policy lets `sku` be omitted; this function requires it, so such a call fails before
    # reaching the tool. It must neither use up nor close the half-open trial.
    calls = []

    @gate.tool("inventory.check")
    def strict_check(sku: str) -> str:
        calls.append(sku)
        raise ConnectionError("still down")

    for _ in range(3):
        gate.call(session, "inventory.check", {"sku": "SKU-1"})
    clock.advance(30)
    misfit = gate.call(session, "inventory.check", {})
    assert misfit.status is OutcomeStatus.FAILED
    assert "do not fit" in (misfit.error or "")
    assert gate.breaker(session, "inventory.check").state is BreakerState.HALF_OPEN
    assert gate.call(session, "inventory.check", {"sku": "SKU-1"}).status is OutcomeStatus.FAILED
    assert len(calls) == 4
    assert gate.breaker(session, "inventory.check").state is BreakerState.OPEN
