"""A call whose outcome is known when it is decided (``Gate.aauthorize``'s ALLOW or DENY, any
DENY) has its decision and outcome records written in one append (``AuditHook.on_settled``):
the same records, links and receipt as two appends wrote, one transaction instead of two."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from proctor import Gate, OutcomeStatus, Verdict, load_policy_text
from proctor.audit import AuditError, AuditHook, AuditLog, Signer, verify
from proctor.audit._receipts import receipt_for, verify_receipt
from proctor.hooks import GateHooks
from proctor.model import Outcome, ToolCall

from ._policy import refunds_policy
from .conftest import SEED

RATED = """
version: 1
agent: {name: pay-bot, role: svc-pay, owner: pay@acme.test}
environments: {production: {max_autonomy: write}}
tools:
  payments.refund:
    autonomy: write
    args: {order_id: string, amount: number}
    rate_limit: 1/hour
"""


class Appends:
    """Wraps the log's ``append_many`` (which ``aappend_many`` calls): the kinds of each batch,
    and a failure to inject into the next ones."""

    def __init__(self, log: AuditLog, journal: list[Any] | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail = 0
        self.journal = journal if journal is not None else []
        self._append = log.append_many
        log.append_many = self  # type: ignore[method-assign]

    def __call__(self, events: Any) -> Any:
        batch = list(events)
        kinds = [str(e.kind) for e in batch]
        if self.fail:
            self.fail -= 1
            self.journal.append(("refused", kinds))
            raise AuditError("cannot append to the audit log: injected")
        self.batches.append(kinds)
        self.journal.append(("append", kinds))
        return self._append(batch)


class Journal(GateHooks):
    """Another hook: what it saw, in order, in the journal it shares with the log's spy."""

    def __init__(self, journal: list[Any], fail: bool = False) -> None:
        self.journal = journal
        self.fail = fail

    async def on_decision(self, session, call, decision):
        self.journal.append(("decision", decision.verdict.name))
        if self.fail:
            raise RuntimeError("this hook cannot record")

    async def on_outcome(self, session, call, outcome):
        self.journal.append(("outcome", outcome.status.name))


@pytest.fixture
def log(sqlite_url, make_log):
    return make_log(sqlite_url)


def authorize(gate: Gate, session, amount: float, tool: str = "payments.refund"):
    return asyncio.run(gate.aauthorize(session, tool, {"order_id": "O-1", "amount": amount}))


def test_a_decide_records_its_decision_and_outcome_in_one_append(log):
    appends = Appends(log)
    gate = Gate(refunds_policy(), hooks=[AuditHook(log)])
    session = gate.open_session("refunds-bot", principal="p", tenant="t")
    allowed = authorize(gate, session, 40.0)
    again = authorize(gate, session, 50.0)
    denied = authorize(gate, session, 5000.0)
    gate.close()
    assert [o.status for o in (allowed, again, denied)] == [
        OutcomeStatus.ALLOWED,
        OutcomeStatus.ALLOWED,
        OutcomeStatus.DENIED,
    ]
    # one append per call: the session's first record goes with its first decision
    assert appends.batches == [
        ["session.opened", "decision", "outcome"],
        ["decision", "outcome"],
        ["decision", "outcome"],
    ]
    records = list(log.records(session_id=session.id))
    assert [r.kind for r in records] == ["session.opened"] + ["decision", "outcome"] * 3
    opened, decisions, results = records[0], records[1::2], records[2::2]
    assert all(d.links == (opened.id,) for d in decisions)
    assert [o.links for o in results] == [(d.id,) for d in decisions]
    assert [d.body["verdict"] for d in decisions] == ["ALLOW", "ALLOW", "DENY"]
    assert [o.body["status"] for o in results] == ["allowed", "allowed", "denied"]
    assert results[2].body["error"] == "Refunds above 1000 are never made by an agent."
    key = Signer.from_seed(SEED)
    for outcome, record, amount in zip(
        (allowed, again, denied), results, (40.0, 50.0, 5000.0), strict=True
    ):
        receipt = outcome.receipt
        assert receipt is not None
        assert receipt.record_id == record.id
        assert receipt == receipt_for(record, key)  # as the log rebuilds it later
        args = {"order_id": "O-1", "amount": amount}
        assert verify_receipt(receipt, [key.public_key], args=args).args_checked
    report = verify(log.engine, [key.public_key])
    assert report.ok, report.problems


def test_a_hold_is_recorded_as_before(log):
    appends = Appends(log)
    gate = Gate(refunds_policy(), hooks=[AuditHook(log)])
    session = gate.open_session("refunds-bot", principal="p", tenant="t")
    held = authorize(gate, session, 250.0)
    gate.close()
    assert held.status is OutcomeStatus.PENDING
    # the approval is queued between the decision and the outcome: two appends, as before
    assert appends.batches == [["session.opened", "decision"], ["outcome"]]
    records = list(log.records(session_id=session.id))
    assert records[2].links == (records[1].id,)
    assert records[2].body["approval_id"] == held.approval_id


def test_a_failed_append_refuses_and_gives_the_rate_slot_back(log):
    appends = Appends(log)
    gate = Gate(load_policy_text(RATED), hooks=[AuditHook(log)])
    session = gate.open_session("pay-bot", principal="p", tenant="t")
    appends.fail = 1
    refused = authorize(gate, session, 10.0)
    assert refused.status is OutcomeStatus.DENIED
    assert refused.decision.verdict is Verdict.DENY
    assert "record.error" in refused.decision.rule_ids
    assert "cannot append to the audit log" in (refused.error or "")
    # the refusal still reaches the log as an outcome (the store answers again)
    assert appends.batches == [["outcome"]]
    # the one slot of the hour was given back: the next call is allowed, the one after not
    assert authorize(gate, session, 10.0).status is OutcomeStatus.ALLOWED
    assert authorize(gate, session, 10.0).status is OutcomeStatus.DENIED
    gate.close()


def test_other_hooks_see_the_decision_before_it_is_recorded_and_the_outcome_after(log):
    journal: list[Any] = []
    Appends(log, journal)
    gate = Gate(refunds_policy(), hooks=[AuditHook(log), Journal(journal)])
    session = gate.open_session("refunds-bot", principal="p", tenant="t")
    authorize(gate, session, 40.0)
    gate.close()
    assert journal == [
        ("decision", "ALLOW"),
        ("append", ["session.opened", "decision", "outcome"]),
        ("outcome", "ALLOWED"),
    ]


def test_a_hook_that_cannot_record_refuses_before_anything_is_recorded_as_allowed(log):
    journal: list[Any] = []
    appends = Appends(log, journal)
    gate = Gate(refunds_policy(), hooks=[AuditHook(log), Journal(journal, fail=True)])
    session = gate.open_session("refunds-bot", principal="p", tenant="t")
    refused = authorize(gate, session, 40.0)
    gate.close()
    assert refused.status is OutcomeStatus.DENIED
    assert "record.error" in refused.decision.rule_ids
    # the audit hook records the decision alone, then the refusal: never an allowed outcome
    assert appends.batches == [["session.opened", "decision"], ["outcome"]]
    assert journal[0] == ("decision", "ALLOW")
    assert journal[-1] == ("outcome", "DENIED")
    records = list(log.records(session_id=session.id))
    assert records[1].body["verdict"] == "ALLOW"
    assert records[2].body["status"] == "denied"
    assert records[2].links == (records[1].id,)


def test_the_default_on_settled_is_on_decision_then_on_outcome():
    journal: list[Any] = []
    gate = Gate(refunds_policy())
    session = gate.open_session("refunds-bot", principal="p", tenant="t")
    call = ToolCall("payments.refund", {"order_id": "O-1", "amount": 1.0}, session.id)
    decision = asyncio.run(gate.adecide(session, call))
    outcome = Outcome(OutcomeStatus.ALLOWED, decision, call.id)
    gate.close()
    assert asyncio.run(Journal(journal).on_settled(session, call, decision, outcome)) is None
    assert journal == [("decision", "ALLOW"), ("outcome", "ALLOWED")]
