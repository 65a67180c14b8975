"""The policy decides the approval rule: approvers, group, two-person, expiry and what expiry
does, and the confidence below which a call holds; the controls section sets the kill switch's
verdict and break-glass limits. Errors name the file, line and field."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proctor import DecisionRequest, Environment, PolicyError, Verdict, evaluate
from proctor.policy import ApprovalRule, load_policy_text

from ._world import policy_text

BASE = """\
version: 1
agent: {name: bot, role: svc-bot, owner: owner-team}
environments:
  production: {max_autonomy: write}
"""


def load(extra: str):
    return load_policy_text(BASE + extra, "p.yaml")


def test_tool_rules_inherit_what_they_leave_unset_from_the_defaults():
    pol = load(
        """\
defaults:
  approval: {approvers: 2, group: finance, expires_after: 4 hours, on_expiry: escalate,
             two_person: true, min_confidence: 0.7}
tools:
  a: {autonomy: write}
  b:
    autonomy: write
    approval: {expires_after: 30 minutes, min_confidence: 0.9, on_flags: false}
  c:
    autonomy: write
    approval: {on_expiry: deny, two_person: false}
"""
    )
    assert pol.tools["a"].approval_rule == ApprovalRule(
        4 * 3600, "escalate", "owner-team", True, 0.7
    )
    assert pol.tools["b"].approval_rule == ApprovalRule(1800, "escalate", "owner-team", True, 0.9)
    assert pol.tools["c"].approval_rule == ApprovalRule(4 * 3600, "deny", "owner-team", False, 0.7)


def test_defaults_without_an_approval_section():
    pol = load("tools:\n  a: {autonomy: read}\n")
    assert pol.tools["a"].approval_rule == ApprovalRule(86400, "deny", "owner-team", False, None)
    assert pol.spec.controls.on_pause == "hold"
    assert pol.spec.controls.break_glass.allowed is True
    assert pol.spec.controls.break_glass.max_minutes == 60


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (
            "defaults:\n  approval: {expires_after: soon}\n",
            6,
            "defaults.approval.expires_after",
            "invalid duration 'soon'",
        ),
        (
            "defaults:\n  approval: {expires_after: 10 seconds}\n",
            6,
            "defaults.approval.expires_after",
            "greater than or equal to 60",
        ),
        (
            "defaults:\n  approval: {on_expiry: ignore}\n",
            6,
            "defaults.approval.on_expiry",
            "'deny' or 'escalate'",
        ),
        (
            "tools:\n  a:\n    autonomy: write\n    approval: {min_confidence: 1.5}\n",
            8,
            "tools.a.approval.min_confidence",
            "less than or equal to 1",
        ),
        (
            "controls:\n  on_pause: allow\n",
            6,
            "controls.on_pause",
            "'hold' or 'deny'",
        ),
        (
            "controls:\n  break_glass: {max_minutes: 5000}\n",
            6,
            "controls.break_glass.max_minutes",
            "less than or equal to 1440",
        ),
    ],
    ids=["duration", "too-short", "on-expiry", "confidence", "on-pause", "break-glass-cap"],
)
def test_bad_approval_settings_name_file_line_and_field(text, line, field, message):
    with pytest.raises(PolicyError) as err:
        load(text)
    (problem,) = err.value.problems
    assert (problem.file, problem.line, problem.field) == ("p.yaml", line, field)
    assert message in problem.message


# -- confidence-based escalation ---------------------------------------------------------------

POLICY = load_policy_text(policy_text(), "refunds.yaml")


def decide(confidence, amount=50.0, tool="payments.refund"):
    args = {"order_id": "O-1", "amount": amount} if tool == "payments.refund" else {"order_id": "O"}
    req = DecisionRequest(
        tool=tool,
        args=args,
        agent="refunds-bot",
        environment=Environment.PRODUCTION,
        usage={},
        confidence=confidence,
    )
    return evaluate(POLICY, req)


def test_confidence_below_the_threshold_holds_a_call_everything_else_allows():
    assert decide(None).verdict is Verdict.ALLOW
    assert decide(0.95).verdict is Verdict.ALLOW
    low = decide(0.62)
    assert low.verdict is Verdict.HOLD
    assert low.rule_ids == ("confidence.payments.refund",)
    assert "0.62 is below 0.8" in low.reasons[0]
    assert low.approval is not None
    assert low.approval.groups == ("finance",)


def test_confidence_exactly_at_the_threshold_does_not_hold():
    assert decide(0.8).verdict is Verdict.ALLOW


@pytest.mark.parametrize("bad", [math.nan, -0.1, 1.01, math.inf, True], ids=repr)
def test_a_confidence_that_is_not_a_probability_holds(bad):
    d = decide(bad)
    assert d.verdict is Verdict.HOLD
    assert "not a number from 0 to 1" in d.reasons[0]


def test_confidence_never_loosens_a_deny_or_a_hold():
    assert decide(1.0, amount=5000.0).verdict is Verdict.DENY
    assert decide(0.99, amount=500.0).rule_ids == ("refund.over-100",)
    both = decide(0.1, amount=500.0)
    assert set(both.rule_ids) == {"refund.over-100", "confidence.payments.refund"}


def test_tools_without_a_threshold_ignore_confidence():
    assert decide(0.0, tool="orders.get").verdict is Verdict.ALLOW


@given(st.floats(allow_nan=True, allow_infinity=True) | st.none())
def test_confidence_can_only_tighten(confidence):
    """Whatever the agent says about itself, the verdict is at least as strict as without."""
    for amount in (50.0, 500.0, 5000.0):
        assert decide(confidence, amount).verdict >= decide(None, amount).verdict


def test_the_gate_passes_confidence_and_reason_through(make_plain_gate):
    gate, session = make_plain_gate
    out = gate.call(
        session,
        "payments.refund",
        {"order_id": "O-1", "amount": 20.0},
        reason="the customer asked twice",
        confidence=0.62,
    )
    assert out.decision.verdict is Verdict.HOLD
    assert out.decision.rule_ids == ("confidence.payments.refund",)
    decided = gate.decide(
        session, "payments.refund", {"order_id": "O-1", "amount": 20.0}, confidence=0.9
    )
    assert decided.verdict is Verdict.ALLOW


@pytest.fixture
def make_plain_gate():
    from proctor import Gate

    gate = Gate(POLICY)

    @gate.tool("payments.refund")
    def refund(order_id: str, amount: float) -> str:
        return "ok"

    yield gate, gate.open_session("refunds-bot", principal="u", tenant="acme")
    gate.close()
