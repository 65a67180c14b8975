"""The value a call moves: ``monitoring.value`` (CEL per tool), its defaults (the budgets'
amounts, an argument whose role is amount), the ``value_moved`` signal and its alert rule."""

from __future__ import annotations

from typing import Any

import pytest

from proctor import Gate, load_policy_text
from proctor.errors import PolicyError
from proctor.model import Decision, Environment, Session, ToolCall, Verdict
from proctor.monitor import Alert, MemoryBackend, Monitor, MonitorHook, call_signals
from proctor.monitor._signals import call_value, value_expressions

START = 28_401_120 * 60.0 + 9 * 3600  # Monday 2024-01-01 09:00 UTC

HEAD = """\
version: 1
agent: {name: pay-bot, role: svc-pay, owner: ops}
environments: {production: {max_autonomy: write}}
tools:
  orders.get: {autonomy: read, args: {order_id: string}, output: {trust: trusted}}
  payments.refund:
    autonomy: write
    args: {order_id: string, amount: number, currency: {type: string, required: false}}
    approval: {on_flags: false}
"""

RULE = """\
  warmup: 1 day
  alerts: {sinks: [], dedup: 30 minutes}
  contain: {at: null}
  rules:
    - {id: value.spike, signal: value_moved, score: 6, window: 5 minutes, min_ratio: 4}
"""


def policy(monitoring: str = "", extra: str = "") -> Any:
    text = HEAD + extra + "monitoring:\n  enabled: true\n" + monitoring + RULE
    return load_policy_text(text, "pay.yaml")


def session() -> Session:
    return Session("pay-bot", "ticket:T-1", "acme", Environment.PRODUCTION)


def call(tool: str, **args: Any) -> ToolCall:
    return ToolCall(tool=tool, args=args, session_id="ses_1")


# -- the policy key ----------------------------------------------------------------------------


def test_the_default_is_the_argument_whose_role_is_amount() -> None:
    exprs = value_expressions(policy())
    assert set(exprs) == {"payments.refund"}
    assert call_value(exprs, session(), call("payments.refund", order_id="1", amount=-40.5)) == 40.5


def test_the_default_prefers_the_budgets_amount() -> None:
    budgets = """\
budgets:
  refunds:
    limit: 5000
    window: 1 day
    tools: {payments.refund: args.amount * 2, orders.get: "1"}
"""
    exprs = value_expressions(policy(extra=budgets))
    assert set(exprs) == {"payments.refund", "orders.get"}
    assert call_value(exprs, session(), call("payments.refund", order_id="1", amount=10)) == 20.0
    assert call_value(exprs, session(), call("orders.get", order_id="1")) == 1.0


def test_an_explicit_value_replaces_the_defaults() -> None:
    pol = policy("  value: {orders.get: \"agent == 'pay-bot' ? 3 : 0\"}\n")
    exprs = value_expressions(pol)
    assert set(exprs) == {"orders.get"}
    assert call_value(exprs, session(), call("orders.get", order_id="1")) == 3.0
    assert call_value(exprs, session(), call("payments.refund", order_id="1", amount=9)) is None


def test_an_empty_value_turns_it_off() -> None:
    assert value_expressions(policy("  value: {}\n")) == {}


@pytest.mark.parametrize(
    ("value", "line", "fragment"),
    [
        ("payments.refund: 'args.amount +'", 13, "CEL syntax error"),
        ("payments.refund: args.amout", 13, "unknown argument(s) amout"),
        ("payments.refnud: args.amount", 13, "'payments.refnud' is not one of the policy's tools"),
        ("payments.refund: args.amount + nobody", 13, "nobody"),
    ],
    ids=["syntax", "unknown-argument", "unknown-tool", "unknown-variable"],
)
def test_a_malformed_value_is_a_policy_error_with_file_and_line(
    value: str, line: int, fragment: str
) -> None:
    with pytest.raises(PolicyError) as info:
        policy(f"  value:\n    {value}\n")
    problems = info.value.problems
    assert [(p.file, p.line) for p in problems] == [("pay.yaml", line)]
    assert fragment in problems[0].message
    assert problems[0].field.startswith("monitoring.value.")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"order_id": "1", "amount": 12}, 12.0),
        ({"order_id": "1", "amount": "12.5"}, 12.5),
        ({"order_id": "1"}, None),  # no amount: the expression fails; the call still counts
        ({"order_id": "1", "amount": "lots"}, None),
        ({"order_id": "1", "amount": True}, None),
        ({"order_id": "1", "amount": float("inf")}, None),
    ],
    ids=["number", "numeric-string", "missing", "text", "boolean", "infinite"],
)
def test_only_a_finite_number_is_a_value(args: dict[str, Any], expected: float | None) -> None:
    exprs = value_expressions(policy())
    assert call_value(exprs, session(), call("payments.refund", **args)) == expected


def test_a_decided_call_carries_its_value() -> None:
    pol = policy()
    decision = Decision("payments.refund", Verdict.DENY, ())
    signals = call_signals(pol.tools["payments.refund"], call("payments.refund"), decision, 40.0)
    assert signals["value_moved"] == 40.0
    assert signals["denials"] == 1.0
    assert "value_moved" not in call_signals(None, call("orders.get"), decision, 0.0)


# -- through the gate --------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


def refunds(monitoring: str, minutes: list[list[float]]) -> list[Alert]:
    """Run ``minutes`` (each: the amounts refunded in it) through a gate; return the alerts."""
    pol = policy(monitoring)
    clock = Clock()
    monitor = Monitor(pol, MemoryBackend(), clock=clock)
    hook = MonitorHook(monitor, auto_tick=False)
    gate = Gate(pol, hooks=[hook])

    @gate.tool("payments.refund")
    def refund(order_id: str, amount: float, currency: str = "EUR") -> str:
        return "refunded"

    s = gate.open_session("pay-bot", principal="ticket:T-1", tenant="acme")
    alerts: list[Alert] = []
    try:
        for i, amounts in enumerate(minutes):
            clock.now = START + 60 * i + 1
            for amount in amounts:
                out = gate.call(s, "payments.refund", {"order_id": f"O-{i}", "amount": amount})
                assert out.status == "executed"
            alerts += monitor.tick(START + 60 * i + 59)
        alerts += monitor.tick(START + 60 * (len(minutes) + 2))
    finally:
        gate.close()
    return alerts


# a day and an hour (the warm-up, and the first day a spread of amounts learns unclipped), two
# refunds every 5 minutes
USUAL = [[40.0], [], [25.0, 60.0], [], [35.0]] * 300


def test_usual_refunds_raise_no_alert() -> None:
    assert refunds("", USUAL) == []


def test_a_spike_in_the_value_refunded_alerts() -> None:
    alerts = refunds("", [*USUAL, [900.0, 1500.0], [1200.0]])
    assert [(a.rule, a.signal) for a in alerts] == [("value.spike", "value_moved")]
    assert alerts[0].value == 25.0 + 60.0 + 35.0 + 900.0 + 1500.0  # the 5-minute window


def test_value_off_means_no_value_alert() -> None:
    assert refunds("  value: {}\n", [*USUAL, [900.0, 1500.0], [1200.0]]) == []


# -- the default rule, on a sparse agent -------------------------------------------------------


def test_the_default_rule_spares_sparse_refunds_and_catches_a_huge_one() -> None:
    """One refund of 200 to 400 every five hours for eight days, the default rules: no alert.
    Then one refund of 20,000: value_moved.spike."""
    import random

    from proctor.monitor import AgentState, fold
    from proctor.policy._monitor_schema import MonitoringPolicy

    spec = MonitoringPolicy.model_validate({"enabled": True, "warmup": "7 days"})
    rnd = random.Random(5)
    state = AgentState.new("pay-bot", int(START // 60) - 1)
    first = int(START // 60)
    alerts = []
    for m in range(8 * 1440):
        values = {"value_moved": rnd.uniform(200, 400)} if m % 300 == 17 else {}
        alerts += fold(state, first + m, values, spec)
    assert [a.rule for a in alerts] == []
    spike = fold(state, first + 8 * 1440, {"value_moved": 20_000.0}, spec)
    assert [a.rule for a in spike] == ["value_moved.spike"]


@pytest.mark.parametrize("signal", ["data_read", "value_moved", "denials"])
def test_the_poisson_test_is_for_counts_only(signal: str) -> None:
    rules = f"  rules:\n    - {{id: r, signal: {signal}, score: 6, test: poisson}}\n"
    text = HEAD + "monitoring:\n  enabled: true\n" + rules
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, "pay.yaml")
    assert info.value.problems[0].line == 13  # the rule
    assert "test: poisson" in info.value.problems[0].message
