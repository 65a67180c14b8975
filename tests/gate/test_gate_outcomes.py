"""What a call comes to: executed, pending, or denied — and a refused call never runs."""

from __future__ import annotations

import pytest

from proctor import (
    Decision,
    Environment,
    OutcomeStatus,
    Step,
    UnknownAgentError,
    Verdict,
)

POLICY = """
version: 1
agent: {name: support-bot, role: svc-support, owner: support@acme.test}
environments:
  production: {max_autonomy: write}
tools:
  tickets.read:
    autonomy: read
    args: {ticket_id: string}
  payments.refund:
    autonomy: write
    args: {amount: {type: number, minimum: 0}}
    constraints:
      - id: refund.over-100
        when: args.amount > 100.0
        verdict: hold
        group: finance
        reason: Refunds above 100 need a finance approver.
      - id: refund.over-1000
        when: args.amount > 1000.0
        verdict: deny
        reason: Refunds above 1000 are never made by an agent.
  crm.delete:
    autonomy: execute
    args: {customer_id: string}
  orders.get:
    autonomy: read
    args: {order_id: string}
  email.send:
    autonomy: write
    flags: [customer_visible]
    args: {to: string}
"""


@pytest.fixture
def calls():
    return []


@pytest.fixture
def gate(make_gate, calls):
    gate = make_gate(POLICY)

    @gate.tool("tickets.read")
    def read(ticket_id: str) -> str:
        calls.append(("tickets.read", ticket_id))
        return f"ticket {ticket_id}"

    @gate.tool("payments.refund")
    def refund(amount: float) -> str:
        calls.append(("payments.refund", amount))
        return f"refunded {amount}"

    @gate.tool("crm.delete")
    def delete(customer_id: str) -> None:
        calls.append(("crm.delete", customer_id))

    return gate  # orders.get and email.send stay unregistered


@pytest.fixture
def session(gate):
    return gate.open_session("support-bot", principal="alice", tenant="acme")


def test_allow_executes_and_returns_the_result(gate, session, calls):
    out = gate.call(session, "tickets.read", {"ticket_id": "T-1"})
    assert out.status is OutcomeStatus.EXECUTED
    assert out.result == "ticket T-1"
    assert out.error is None
    assert out.approval_id is None
    assert out.decision.verdict is Verdict.ALLOW
    assert "allow.tickets.read" in out.decision.rule_ids
    assert calls == [("tickets.read", "T-1")]


def test_hold_queues_an_approval_and_does_not_execute(gate, session, calls):
    out = gate.call(session, "payments.refund", {"amount": 150.0}, reason="customer asked")
    assert out.status is OutcomeStatus.PENDING
    assert out.result is None
    assert out.decision.verdict is Verdict.HOLD
    assert out.decision.rule_ids == ("refund.over-100",)
    assert out.decision.approval is not None
    assert out.decision.approval.groups == ("finance",)
    assert out.approval_id is not None
    pending = gate.approvals.pending()
    assert [p.id for p in pending] == [out.approval_id]
    item = gate.approvals.get(out.approval_id)
    assert item is not None
    assert item.session == session
    assert item.call.id == out.call_id
    assert item.call.tool == "payments.refund"
    assert item.call.args == {"amount": 150.0}
    assert item.call.reason == "customer asked"
    assert item.decision == out.decision
    assert calls == []


@pytest.mark.parametrize(
    ("tool", "args", "rule"),
    [
        pytest.param("payments.refund", {"amount": 5000.0}, "refund.over-1000", id="constraint"),
        pytest.param("payments.refund", {"amount": -1.0}, "schema.payments.refund", id="minimum"),
        pytest.param("payments.refund", {"amount": "5"}, "schema.payments.refund", id="type"),
        pytest.param("payments.refund", {}, "schema.payments.refund", id="missing-arg"),
        pytest.param(
            "payments.refund", {"amount": 5.0, "to": "x"}, "schema.payments.refund", id="extra-arg"
        ),
        pytest.param("crm.delete", {"customer_id": "C1"}, "boundary.autonomy", id="autonomy"),
        pytest.param("shell.exec", {"cmd": "rm -rf /"}, "default-deny", id="not-in-policy"),
    ],
)
def test_deny_never_calls_the_function(gate, session, calls, tool, args, rule):
    out = gate.call(session, tool, args)
    assert out.status is OutcomeStatus.DENIED
    assert out.decision.verdict is Verdict.DENY
    assert rule in out.decision.rule_ids
    assert out.result is None
    assert out.approval_id is None
    assert out.error
    assert calls == []
    assert gate.approvals.pending() == []


def test_denied_outcome_explains_itself(gate, session):
    out = gate.call(session, "payments.refund", {"amount": 5000.0})
    assert out.error == "Refunds above 1000 are never made by an agent."
    assert out.decision.reasons == ("Refunds above 1000 are never made by an agent.",)


def test_policy_named_but_unregistered_tool_is_denied(gate, session):
    out = gate.call(session, "orders.get", {"order_id": "O1234"})
    assert out.status is OutcomeStatus.DENIED
    assert out.decision.rule_ids == ("resolve.unregistered",)
    assert "no registered implementation" in (out.error or "")


def test_unregistered_tool_that_would_hold_is_denied_not_queued(gate, session):
    out = gate.call(session, "email.send", {"to": "bob@customers.acme.test"})
    assert out.status is OutcomeStatus.DENIED
    assert "resolve.unregistered" in out.decision.rule_ids
    assert gate.approvals.pending() == []


def test_unregistered_tool_with_bad_arguments_is_denied_by_the_schema(gate, session):
    out = gate.call(session, "orders.get", {"order_id": 7})
    assert out.status is OutcomeStatus.DENIED
    assert out.decision.rule_ids == ("schema.orders.get",)


def test_unknown_agent_cannot_open_a_session(gate):
    with pytest.raises(UnknownAgentError, match=r"'billing-bot'.*loaded: support-bot"):
        gate.open_session("billing-bot", principal="alice", tenant="acme")


def test_environment_the_policy_does_not_grant_is_denied(gate, calls):
    session = gate.open_session(
        "support-bot", principal="alice", tenant="acme", environment=Environment.DEV
    )
    out = gate.call(session, "tickets.read", {"ticket_id": "T-1"})
    assert out.status is OutcomeStatus.DENIED
    assert out.decision.rule_ids == ("boundary.environment",)
    assert calls == []


@pytest.mark.parametrize(
    ("tool", "args", "verdict"),
    [
        pytest.param("tickets.read", {"ticket_id": "T-1"}, Verdict.ALLOW, id="allow"),
        pytest.param("payments.refund", {"amount": 150.0}, Verdict.HOLD, id="hold"),
        pytest.param("payments.refund", {"amount": 5000.0}, Verdict.DENY, id="deny"),
    ],
)
def test_decide_returns_the_verdict_without_executing(gate, session, calls, tool, args, verdict):
    decision = gate.decide(session, tool, args)
    assert isinstance(decision, Decision)
    assert decision.verdict is verdict
    assert decision.step(Step.RESOLVE) is not None
    assert calls == []
    assert gate.approvals.pending() == []


def test_decide_does_not_consume_rate_quota(make_gate):
    gate = make_gate(
        POLICY.replace(
            "args: {ticket_id: string}", "args: {ticket_id: string}\n    rate_limit: 1/minute"
        )
    )
    ran = []

    @gate.tool("tickets.read")
    def read(ticket_id: str) -> str:
        ran.append(ticket_id)
        return ticket_id

    session = gate.open_session("support-bot", principal="alice", tenant="acme")
    for _ in range(3):
        assert gate.decide(session, "tickets.read", {"ticket_id": "T-1"}).allowed
    assert gate.call(session, "tickets.read", {"ticket_id": "T-1"}).status is OutcomeStatus.EXECUTED
    assert ran == ["T-1"]
