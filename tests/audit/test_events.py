"""Event bodies: what a record keeps of a call, and what it never keeps."""

from __future__ import annotations

import json

import pytest

from proctor.audit import EventKind, events
from proctor.model import (
    Decision,
    Environment,
    Outcome,
    OutcomeStatus,
    RuleHit,
    Session,
    Step,
    StepResult,
    ToolCall,
    Verdict,
)

SESSION = Session("bot", "alice", "acme", Environment.PRODUCTION)
ARGS = {"order_id": "O-7731", "amount": 250.0, "to": ["bob@example.test"], "count": 5}


def decided(reason: str) -> Decision:
    hit = RuleHit("flow.untrusted", Verdict.HOLD, reason)
    return Decision.combine("refund", [StepResult.ok(Step.FLOW, [hit])], "bot@production")


@pytest.mark.parametrize(
    ("reason", "kept"),
    [
        (
            "order_id='O-7731' comes from untrusted content",
            "order_id='<order_id>' comes from untrusted content",
        ),
        ("amount 250.0 > 100.0", "amount <amount> > 100.0"),
        ("recipient bob@example.test is external", "recipient <to> is external"),
        ("5 items, 15 allowed, 1.5 ratio", "<count> items, 15 allowed, 1.5 ratio"),
        ("Refunds above 100 need approval", "Refunds above 100 need approval"),
    ],
)
def test_reasons_keep_their_words_but_not_the_values_they_quote(reason, kept):
    call = ToolCall("refund", ARGS, SESSION.id, reason=f"customer asked for {ARGS['order_id']}")
    event = events.decision(SESSION, call, decided(reason))
    assert event.body["reasons"] == [kept]
    assert event.body["agent_reason"] == "customer asked for <order_id>"
    text = json.dumps(event.body)
    assert "O-7731" not in text
    assert "bob@example.test" not in text


def test_a_decision_keeps_names_types_and_digests_of_arguments():
    call = ToolCall("refund", ARGS, SESSION.id)
    body = events.decision(SESSION, call, decided("r"), ["rec_1"]).body
    assert body["args"]["amount"]["type"] == "number"
    assert body["args"]["to"]["type"] == "array"
    assert body["verdict"] == "HOLD"
    assert body["rule_ids"] == ["flow.untrusted"]
    assert body["approval"] == {"approvers": 1, "groups": []}
    assert body["steps"] == [{"step": "flow", "verdict": "HOLD", "status": "ok"}]


def test_an_outcome_keeps_a_digest_of_the_output_and_scrubs_errors():
    call = ToolCall("refund", ARGS, SESSION.id)
    ok = events.outcome(
        SESSION, call, Outcome(OutcomeStatus.EXECUTED, decided("r"), call.id, "refunded O-7731")
    )
    assert ok.kind == EventKind.OUTCOME
    assert ok.body["output"]["type"] == "string"
    assert "O-7731" not in json.dumps(ok.body)
    failed = events.outcome(
        SESSION,
        call,
        Outcome(OutcomeStatus.FAILED, decided("r"), call.id, error="no order O-7731"),
    )
    assert failed.body["error"] == "no order <order_id>"
    assert "output" not in failed.body


def test_long_texts_are_cut():
    event = events.alert("x", "y" * 5000)
    assert len(event.body["message"]) < 2100
    assert event.body["message"].endswith("[3000 more characters]")
