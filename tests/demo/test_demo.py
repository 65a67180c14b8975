"""`make demo`: the scripted day runs, and the gate enforced what the table claims."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from proctor.demo import SCRIPT, BackOffice, FlakyKnowledgeBase, build_gate, run_demo
from proctor.model import OutcomeStatus, Verdict


def test_demo_prints_every_call_records_it_on_sqlite_and_exits_zero(tmp_path):
    buf = io.StringIO()
    db = tmp_path / "demo.db"
    assert run_demo(Console(file=buf, width=240), db_path=db) == 0
    out = buf.getvalue()
    for step in SCRIPT:
        assert step.tool in out
    assert "10 allowed, 3 held, 4 denied" in out
    assert "chain verified: True" in out
    assert db.exists()
    # the held calls wait in the queue; two people act on them through the queue's API
    assert "Refunds made before review: [('O51001', 45.0)]" in out
    assert "dana approves" in out
    assert "still needs a member of support-leads" in out  # two groups held the refund
    assert "lee denies" in out
    assert "Refunds actually made: [('O51001', 45.0), ('O51112', 250.0)]; emails sent: 1;" in out
    assert "3 of 3 held calls ended as their reviewers decided" in out
    # approve with edit: a forbidden edit is refused, the lowered one runs, the agent is told
    assert "dana edits amount to 1500: refused" in out
    assert "refund.over-1000: Refunds above 1000" in out
    assert "so it was reset: pending, needs a member of support-leads" in out
    assert "told: edited by dana: amount -> 60.0" in out
    keys = Path(f"{db}.keys")
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    # run again: a fresh log, not appended to the last run's
    assert run_demo(Console(file=io.StringIO(), width=240), db_path=db) == 0


def test_demo_day_verdicts_and_side_effects():
    office, kb = BackOffice.seeded(), FlakyKnowledgeBase()
    gate = build_gate(office, kb)
    session = gate.open_session("support-bot", principal="t", tenant="acme")
    try:
        outcomes = [gate.call(session, s.tool, s.args) for s in SCRIPT]
    finally:
        gate.close()
    by_intent = {s.intent: o for s, o in zip(SCRIPT, outcomes, strict=True)}
    assert by_intent["refund 45 USD (under the limit)"].status is OutcomeStatus.EXECUTED
    assert by_intent["refund 250 USD (over 100)"].status is OutcomeStatus.PENDING
    assert by_intent["refund 1,500 USD (over 1,000)"].decision.verdict is Verdict.DENY
    assert by_intent["email an unknown domain"].decision.verdict is Verdict.HOLD
    assert by_intent["retag 80 customers"].decision.rule_ids == ("bulk.over-50",)
    assert by_intent["export every customer"].decision.rule_ids == ("default-deny",)
    assert by_intent["once more: the circuit is open now"].status is OutcomeStatus.FALLBACK
    # what was held or denied did not happen
    assert [(r.order_id, r.amount) for r in office.refunds] == [("O51001", 45.0)]
    assert len(office.outbox) == 1
    assert "C1002" in office.customers
    assert kb.calls == 3
    assert len(gate.approvals.pending()) == 3


def test_demo_queue_is_durable_and_readable_afterwards(tmp_path):
    """What the demo leaves behind: one request executed, one denied, one still pending, all
    in the SQLite file, with the history in the audit log."""
    from proctor.approvals import ApprovalQueue, ApprovalState
    from proctor.audit import AuditLog, EventKind

    db = tmp_path / "demo.db"
    assert run_demo(Console(file=io.StringIO(), width=240), db_path=db) == 0
    queue = ApprovalQueue.open(f"sqlite:///{db}")
    try:
        states = {r.tool: r.state for r in queue.requests.find(None)}
    finally:
        queue.close()
    assert states == {
        "payments.refund": ApprovalState.EXECUTED,
        "email.send": ApprovalState.DENIED,
        "crm.bulk_update": ApprovalState.PENDING,
    }
    from proctor.store import create_store_engine

    log = AuditLog(create_store_engine(f"sqlite:///{db}"), None)
    actions = [r.body["action"] for r in log.records() if r.kind == EventKind.APPROVAL]
    log.engine.dispose()
    # three held calls of the day, and the approve-with-edit scene's refund
    assert actions.count("requested") == 4
    assert actions.count("approved") == 2
    assert actions.count("executed") == 2
    assert actions.count("denied") == 1
    assert actions.count("edited") == 1
