"""The shipped demo policy loads and decides the support agent's calls as its comments say."""

from __future__ import annotations

from importlib.resources import files

import pytest

from proctor.model import ApprovalRequirement, Environment, Verdict
from proctor.policy import evaluate, load_policy_text

from ._texts import request

DEMO = load_policy_text(
    (files("proctor.demo") / "support-agent.yaml").read_text(encoding="utf-8"), "support-agent.yaml"
)
ORDER = {"order_id": "O12345", "currency": "USD", "reason": "damaged"}
EMAIL = {"subject": "Your order", "body": "Hello"}
PROD = Environment.PRODUCTION

# (id, tool, args, environment, verdict, deciding rule ids)
CALLS = [
    ("lookup", "crm.lookup_customer", {"customer_id": "C1234"}, PROD, Verdict.ALLOW, None),
    (
        "lookup-bad-id",
        "crm.lookup_customer",
        {"customer_id": "1234"},
        PROD,
        Verdict.DENY,
        ("schema.crm.lookup_customer",),
    ),
    ("small-refund", "payments.refund", {**ORDER, "amount": 40.0}, PROD, Verdict.ALLOW, None),
    (
        "refund-over-100",
        "payments.refund",
        {**ORDER, "amount": 150.0},
        PROD,
        Verdict.HOLD,
        ("refund.over-100",),
    ),
    (
        "refund-over-1000",
        "payments.refund",
        {**ORDER, "amount": 5000.0},
        PROD,
        Verdict.DENY,
        ("refund.over-1000",),
    ),
    (
        "negative-refund",
        "payments.refund",
        {**ORDER, "amount": -5.0},
        PROD,
        Verdict.DENY,
        ("schema.payments.refund",),
    ),
    (
        "refund-in-yen",
        "payments.refund",
        {**ORDER, "currency": "JPY", "amount": 5.0},
        PROD,
        Verdict.DENY,
        ("schema.payments.refund",),
    ),
    (
        "email-internal",
        "email.send",
        {**EMAIL, "to": ["a@acme.test", "b@customers.acme.test"]},
        PROD,
        Verdict.ALLOW,
        None,
    ),
    (
        "email-external",
        "email.send",
        {**EMAIL, "to": ["a@gmail.test"]},
        PROD,
        Verdict.HOLD,
        ("flags.email.send",),
    ),
    (
        "email-lookalike-domain",
        "email.send",
        {**EMAIL, "to": ["a@evilacme.test"]},
        PROD,
        Verdict.HOLD,
        ("flags.email.send",),
    ),
    (
        "email-too-many",
        "email.send",
        {**EMAIL, "to": [f"u{i}@acme.test" for i in range(11)]},
        PROD,
        Verdict.DENY,
        ("email.too-many-recipients",),
    ),
    (
        "bulk-update-small",
        "crm.bulk_update",
        {"customer_ids": ["C1"] * 50, "field": "tier", "value": "gold"},
        PROD,
        Verdict.ALLOW,
        None,
    ),
    (
        "bulk-update-large",
        "crm.bulk_update",
        {"customer_ids": ["C1"] * 51, "field": "tier", "value": "gold"},
        PROD,
        Verdict.HOLD,
        ("bulk.over-50",),
    ),
    (
        "delete-in-production",
        "crm.delete_customer",
        {"customer_id": "C1"},
        PROD,
        Verdict.DENY,
        ("boundary.autonomy",),
    ),
    (
        "delete-in-dev",
        "crm.delete_customer",
        {"customer_id": "C1"},
        Environment.DEV,
        Verdict.HOLD,
        ("flags.crm.delete_customer",),
    ),
    ("unlisted-tool", "shell.exec", {"cmd": "rm -rf /"}, PROD, Verdict.DENY, ("default-deny",)),
]


@pytest.mark.parametrize(
    ("tool", "args", "env", "verdict", "rule_ids"),
    [c[1:] for c in CALLS],
    ids=[c[0] for c in CALLS],
)
def test_demo_call(
    tool: str, args: dict, env: Environment, verdict: Verdict, rule_ids: tuple | None
) -> None:
    decision = evaluate(DEMO, request(tool, args, agent="support-bot", env=env))
    assert decision.verdict is verdict
    if rule_ids is not None:
        assert decision.rule_ids == rule_ids


def test_refund_hold_goes_to_finance() -> None:
    decision = evaluate(
        DEMO, request("payments.refund", {**ORDER, "amount": 150.0}, agent="support-bot")
    )
    assert decision.approval == ApprovalRequirement(1, ("finance",))


def test_external_email_goes_to_support_leads() -> None:
    args = {**EMAIL, "to": ["a@gmail.test"]}
    decision = evaluate(DEMO, request("email.send", args, agent="support-bot"))
    assert decision.approval == ApprovalRequirement(1, ("support-leads",))
