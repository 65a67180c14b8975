"""The ``budgets:`` section: loaded with file:line errors, evaluated purely, amounts exact."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from proctor import (
    DecisionRequest,
    Environment,
    PolicyError,
    Verdict,
    evaluate,
    load_policy,
    load_policy_text,
)
from proctor.policy import budget_charges
from proctor.policy._budget import BudgetAmountError, account_key, show, to_units

ROOT = Path(__file__).resolve().parents[2]
U = 1_000_000


def req(tool: str, args: dict[str, object], **kw: object) -> DecisionRequest:
    base = DecisionRequest(
        tool, args, "billing-bot", Environment.PRODUCTION, tenant="acme", session="ses_1"
    )
    return replace(base, **kw)


def test_the_example_policy_loads_and_charges_each_scope():
    pol = load_policy(ROOT / "examples" / "budgets.yaml")
    assert [b.rule_id for b in pol.budgets] == [
        "budget.refunds-daily",
        "budget.goodwill",
        "budget.goodwill-tenant",
        "budget.outbound-email",
    ]
    (refund,) = budget_charges(
        pol, req("payments.refund", {"order_id": "O", "customer_id": "C1", "amount": 12.5})
    )
    assert (refund.key, refund.amount, refund.limit, refund.window) == (
        "billing-bot/refunds-daily|agent",
        12_500_000,
        2000 * U,
        86400,
    )
    credit, tenant = budget_charges(pol, req("billing.credit", {"account": "C7", "value": 3.0}))
    discount, _ = budget_charges(pol, req("billing.discount", {"customer_id": "C7", "amount": 2.0}))
    assert tenant.key == "billing-bot/goodwill-tenant|tenant:acme"
    assert (
        credit.key
        == discount.key
        == "billing-bot/goodwill|tenant:acme|key:" + account_key("C7", "acme")
    )  # one account
    (mail,) = budget_charges(
        pol, req("email.send", {"to": ["a@x.test", "b@x.test"], "subject": "s", "body": "b"})
    )
    assert (mail.key, mail.amount, mail.window) == (
        "billing-bot/outbound-email|tenant:acme",
        2 * U,
        3600,
    )


def test_tenants_and_keys_never_share_an_account():
    pol = load_policy(ROOT / "examples" / "budgets.yaml")
    a = budget_charges(pol, req("billing.credit", {"account": "C7", "value": 1.0}, tenant="t1"))
    b = budget_charges(pol, req("billing.credit", {"account": "C7", "value": 1.0}, tenant="t2"))
    c = budget_charges(
        pol, req("billing.credit", {"account": "key:C7", "value": 1.0}, tenant="t1|key")
    )
    assert len({a[0].key, b[0].key, c[0].key}) == 3
    long = budget_charges(pol, req("billing.credit", {"account": "x" * 500, "value": 1.0}))
    assert long[0].key.endswith("key:" + account_key("x" * 500, "acme"))
    assert "x" * 20 not in long[0].key


SESSION = """
version: 1
agent: {name: billing-bot, role: svc, owner: finance}
environments: {production: {max_autonomy: write}}
tools:
  t.a: {autonomy: write, args: {n: integer}}
budgets:
  per-session: {limit: 3, window: hour, scope: session, tools: {t.a: args.n}, on_exceed: deny}
"""


def test_evaluate_compares_usage_with_the_limit_exactly():
    pol = load_policy_text(SESSION)
    key = "billing-bot/per-session|session:ses_1"
    at = evaluate(pol, req("t.a", {"n": 1}, budget_usage={key: 2 * U}))
    assert at.verdict is Verdict.ALLOW
    (hit,) = [h for s in at.steps for h in s.hits if h.rule_id == "budget.per-session"]
    assert hit.seen == {"account": key, "spent": "2", "amount": "1", "limit": "3", "over": False}
    over = evaluate(pol, req("t.a", {"n": 1}, budget_usage={key: 2 * U + 1}))
    assert over.verdict is Verdict.DENY
    assert over.rule_ids == ("budget.per-session",)
    other = evaluate(pol, req("t.a", {"n": 3}, session="ses_2", budget_usage={key: 3 * U}))
    assert other.verdict is Verdict.DENY
    assert "no usage supplied" in other.reasons[0]


@pytest.mark.parametrize(
    ("value", "units"),
    [
        (0, 0),
        (1, U),
        (0.1, 100_000),
        (0.1 + 0.2, 300_001),
        (1e-7, 1),
        (12.345678, 12_345_678),
        (2**29, 2**29 * U),
    ],
)
def test_amounts_become_micro_units_rounded_up(value, units):
    assert to_units(value) == units


@pytest.mark.parametrize(
    "value", [-1, -0.000001, float("nan"), float("inf"), True, "5", None, [1], 10**10]
)
def test_what_cannot_be_spent_is_refused(value):
    with pytest.raises(BudgetAmountError):
        to_units(value)


def test_show():
    assert [show(v) for v in (0, U, 2000 * U, 12_500_000, 1)] == [
        "0",
        "1",
        "2,000",
        "12.5",
        "0.000001",
    ]


BAD = """version: 1
agent: {name: billing-bot, role: svc, owner: finance}
environments: {production: {max_autonomy: write}}
tools:
  t.a: {autonomy: write, args: {n: integer}}
budgets:
  b:
    limit: {limit}
    window: {window}
    scope: {scope}
    tools: {tools}
"""


@pytest.mark.parametrize(
    ("fields", "line", "message"),
    [
        ({"tools": "{t.nope: args.n}"}, 11, "tool 't.nope' is not one of the policy's tools"),
        ({"tools": "{t.a: args.m}"}, 11, "unknown argument(s) m"),
        ({"tools": "{t.a: 'args.n +'}"}, 11, "CEL syntax error"),
        ({"scope": "key"}, 11, "scope 'key' needs a key expression"),
        ({"tools": "{t.a: {amount: args.n, key: args.n}}"}, 7, "a key only applies to scope 'key'"),
        ({"limit": "0"}, 8, "must be above 0"),
        ({"limit": "1.0000001"}, 8, "more than 6 decimals"),
        ({"limit": "1e10"}, 8, "at most 1,000,000,000"),
        ({"window": "fortnight"}, 9, "invalid window"),
        ({"window": "30 seconds"}, 9, "greater than or equal to 60"),
    ],
)
def test_a_bad_budget_names_file_line_and_field(fields, line, message):
    values = {
        "limit": "10",
        "window": "1 day",
        "scope": "agent",
        "tools": "{t.a: args.n}",
        **fields,
    }
    text = BAD
    for k, v in values.items():
        text = text.replace("{" + k + "}", v)
    with pytest.raises(PolicyError) as err:
        load_policy_text(text, "budgets.yaml")
    (problem,) = err.value.problems
    assert (problem.file, problem.line) == ("budgets.yaml", line), str(problem)
    assert message in problem.message
    assert problem.field.startswith("budgets.b")
