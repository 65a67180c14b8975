"""Rate limits through the gate: per session, per agent, session-wide; only executions count."""

from __future__ import annotations

import threading

import pytest

from proctor import OutcomeStatus, Verdict
from proctor.tools import RateLimiter

POLICY = """
version: 1
agent: {name: research-bot, role: svc-research, owner: research@acme.test}
environments: {production: {max_autonomy: write}}
tools:
  web.search:
    autonomy: read
    args: {q: string}
    rate_limit: 2/minute
  crm.lookup:
    autonomy: read
    args: {customer_id: string}
    rate_limit: {per_agent: 3/minute}
  payments.refund:
    autonomy: write
    args: {amount: number}
    constraints:
      - {id: refund.over-100, when: args.amount > 100.0, verdict: hold}
      - {id: refund.over-1000, when: args.amount > 1000.0, verdict: deny}
    rate_limit: 1/minute
  tickets.escalate:
    autonomy: write
    rate_limit: {per_session: 1/hour, on_exceed: hold}
  report.export:
    autonomy: read
    rate_limit: 1/minute
"""

SESSION_WIDE = """
version: 1
agent: {name: research-bot, role: svc-research, owner: research@acme.test}
environments: {production: {max_autonomy: write}}
defaults:
  rate_limits: {per_session: 3/minute}
tools:
  web.search: {autonomy: read, args: {q: string}}
  web.fetch: {autonomy: read, args: {url: string}}
"""


@pytest.fixture
def ran():
    return []


@pytest.fixture
def gate(make_gate, ran):
    gate = make_gate(POLICY)

    @gate.tool("web.search")
    def search(q: str) -> str:
        ran.append(("web.search", q))
        return "results"

    @gate.tool("crm.lookup")
    def lookup(customer_id: str) -> str:
        ran.append(("crm.lookup", customer_id))
        return "record"

    @gate.tool("payments.refund")
    def refund(amount: float) -> str:
        ran.append(("payments.refund", amount))
        return "refunded"

    @gate.tool("tickets.escalate")
    def escalate() -> str:
        ran.append(("tickets.escalate",))
        return "escalated"

    @gate.tool("report.export")
    def export() -> str:
        ran.append(("report.export",))
        return "exported"

    return gate


def new_session(gate):
    return gate.open_session("research-bot", principal="alice", tenant="acme")


def search(gate, session, q="proctor"):
    return gate.call(session, "web.search", {"q": q})


def test_per_session_limit_of_one_tool(gate, ran):
    s1, s2 = new_session(gate), new_session(gate)
    assert search(gate, s1).status is OutcomeStatus.EXECUTED
    assert search(gate, s1).status is OutcomeStatus.EXECUTED
    third = search(gate, s1)
    assert third.status is OutcomeStatus.DENIED
    assert third.decision.rule_ids == ("rate.web.search.session",)
    assert "2/minute" in (third.error or "")
    assert search(gate, s2).status is OutcomeStatus.EXECUTED  # its own quota
    assert len(ran) == 3


def test_per_session_limit_counts_one_tool_only(gate):
    s = new_session(gate)
    search(gate, s)
    search(gate, s)
    assert search(gate, s).status is OutcomeStatus.DENIED
    assert gate.call(s, "crm.lookup", {"customer_id": "C1"}).status is OutcomeStatus.EXECUTED


def test_per_agent_limit_spans_sessions(gate, ran):
    for _ in range(3):
        out = gate.call(new_session(gate), "crm.lookup", {"customer_id": "C1"})
        assert out.status is OutcomeStatus.EXECUTED
    fourth = gate.call(new_session(gate), "crm.lookup", {"customer_id": "C1"})
    assert fourth.status is OutcomeStatus.DENIED
    assert fourth.decision.rule_ids == ("rate.crm.lookup.agent",)
    assert len(ran) == 3


def test_session_wide_default_counts_every_tool(make_gate):
    gate = make_gate(SESSION_WIDE)
    ran = []

    @gate.tool("web.search")
    def search_(q: str) -> str:
        ran.append(q)
        return "results"

    @gate.tool("web.fetch")
    def fetch(url: str) -> str:
        ran.append(url)
        return "<html>"

    s1 = gate.open_session("research-bot", principal="alice", tenant="acme")
    s2 = gate.open_session("research-bot", principal="bob", tenant="acme")
    assert search(gate, s1).status is OutcomeStatus.EXECUTED
    assert gate.call(s1, "web.fetch", {"url": "a"}).status is OutcomeStatus.EXECUTED
    assert search(gate, s1).status is OutcomeStatus.EXECUTED
    fourth = gate.call(s1, "web.fetch", {"url": "b"})
    assert fourth.status is OutcomeStatus.DENIED
    assert fourth.decision.rule_ids == ("rate.session",)
    assert search(gate, s2).status is OutcomeStatus.EXECUTED
    assert len(ran) == 4


def test_window_slides_with_the_clock(gate, clock):
    s = new_session(gate)
    assert search(gate, s).status is OutcomeStatus.EXECUTED  # t = 0
    clock.advance(30)
    assert search(gate, s).status is OutcomeStatus.EXECUTED  # t = 30
    clock.advance(29.9)
    assert search(gate, s).status is OutcomeStatus.DENIED  # t = 59.9: both in the window
    clock.advance(0.1)
    assert search(gate, s).status is OutcomeStatus.EXECUTED  # t = 60: the first has left it
    clock.advance(29.9)
    assert search(gate, s).status is OutcomeStatus.DENIED  # t = 89.9: 30 and 60 remain
    clock.advance(0.1)
    assert search(gate, s).status is OutcomeStatus.EXECUTED  # t = 90


def test_denied_and_held_calls_do_not_consume_quota(gate, ran):
    s = new_session(gate)
    for _ in range(3):
        assert gate.call(s, "payments.refund", {"amount": 5000.0}).status is OutcomeStatus.DENIED
    for _ in range(2):
        assert gate.call(s, "payments.refund", {"amount": 500.0}).status is OutcomeStatus.PENDING
    assert gate.call(s, "payments.refund", {"amount": "ten"}).status is OutcomeStatus.DENIED
    assert gate.call(s, "payments.refund", {"amount": 50.0}).status is OutcomeStatus.EXECUTED
    over = gate.call(s, "payments.refund", {"amount": 50.0})
    assert over.status is OutcomeStatus.DENIED
    assert over.decision.rule_ids == ("rate.payments.refund.session",)
    assert ran == [("payments.refund", 50.0)]


def test_rate_denied_calls_do_not_consume_quota(gate, clock):
    s = new_session(gate)
    search(gate, s)  # t = 0
    clock.advance(30)
    search(gate, s)  # t = 30
    for _ in range(10):
        clock.advance(1)
        assert search(gate, s).status is OutcomeStatus.DENIED
    clock.advance(20)  # t = 60: only the call at t = 30 remains in the window
    assert search(gate, s).status is OutcomeStatus.EXECUTED


def test_on_exceed_hold_queues_the_call(gate, ran):
    s = new_session(gate)
    assert gate.call(s, "tickets.escalate", {}).status is OutcomeStatus.EXECUTED
    second = gate.call(s, "tickets.escalate", {})
    assert second.status is OutcomeStatus.PENDING
    assert second.decision.verdict is Verdict.HOLD
    assert second.decision.rule_ids == ("rate.tickets.escalate.session",)
    assert gate.approvals.get(second.approval_id) is not None
    assert ran == [("tickets.escalate",)]


@pytest.mark.parametrize("round_", range(5))
def test_threads_racing_for_one_slot_get_exactly_one_execution(gate, ran, round_):
    session = new_session(gate)
    threads = 16
    barrier = threading.Barrier(threads)
    outcomes = []
    lock = threading.Lock()

    def worker():
        barrier.wait(timeout=10)
        out = gate.call(session, "report.export", {})
        with lock:
            outcomes.append(out)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    statuses = sorted(o.status for o in outcomes)
    assert len(outcomes) == threads
    assert statuses.count(OutcomeStatus.EXECUTED) == 1
    assert statuses.count(OutcomeStatus.DENIED) == threads - 1
    assert ran == [("report.export",)]
    for o in outcomes:
        if o.status is OutcomeStatus.DENIED:
            assert o.decision.rule_ids == ("rate.report.export.session",)


class LockstepLimiter(RateLimiter):
    """The real limiter, except that every reader of ``usage`` waits for all the others: every
    racer sees the slot free, so only ``acquire``'s re-check can stop all but one."""

    def __init__(self, clock, parties: int) -> None:
        super().__init__(clock)
        self.barrier = threading.Barrier(parties)

    def usage(self, rules, agent, session_id):
        counts = super().usage(rules, agent, session_id)
        self.barrier.wait(timeout=10)
        return counts


def test_racers_that_all_saw_a_free_slot_still_get_one_execution(gate, ran, clock):
    threads = 16
    gate.rates = LockstepLimiter(clock, threads)
    session = new_session(gate)
    outcomes = []
    lock = threading.Lock()

    def worker():
        out = gate.call(session, "report.export", {})
        with lock:
            outcomes.append(out)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    executed = [o for o in outcomes if o.status is OutcomeStatus.EXECUTED]
    denied = [o for o in outcomes if o.status is OutcomeStatus.DENIED]
    assert len(executed) == 1
    assert len(denied) == threads - 1
    assert ran == [("report.export",)]
    for o in denied:
        assert o.decision.rule_ids == ("rate.report.export.session",)
        assert "reached by a concurrent call" in (o.error or "")
