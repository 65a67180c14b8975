"""A scripted day of a customer-support agent, every action through the gate."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from proctor.approvals import ApprovalQueue
from proctor.audit import AuditHook, AuditLog, AuditSettings, verify
from proctor.gate import Gate
from proctor.hooks import GateHooks
from proctor.model import Outcome, OutcomeStatus, Verdict
from proctor.policy import CompiledPolicy, load_policy_text
from proctor.store import StoreSettings
from proctor.tools import tool_from_function

from ._budgets import budget_scene
from ._edit import edit_scene
from ._review import review
from ._tools import BackOffice, FlakyKnowledgeBase

POLICY_FILE = "support-agent.yaml"


@dataclass(frozen=True)
class Step:
    time: str
    intent: str
    tool: str
    args: dict[str, object]


def demo_policy() -> CompiledPolicy:
    text = resources.files("proctor.demo").joinpath(POLICY_FILE).read_text(encoding="utf-8")
    return load_policy_text(text, f"proctor/demo/{POLICY_FILE}")


def build_gate(
    office: BackOffice,
    kb: FlakyKnowledgeBase,
    hooks: Sequence[GateHooks] = (),
    approvals: GateHooks | None = None,
) -> Gate:
    gate = Gate(demo_policy(), hooks=hooks, approvals=approvals)
    tools: dict[str, Callable[..., Any]] = {
        "crm.lookup_customer": office.lookup_customer,
        "orders.get": office.get_order,
        "tickets.add_note": office.add_note,
        "payments.refund": office.refund,
        "email.send": office.send_email,
        "crm.bulk_update": office.bulk_update,
        "crm.delete_customer": office.delete_customer,
        "kb.search": kb.search,
    }
    for name, fn in tools.items():
        gate.register(tool_from_function(fn, name))
    return gate


def _refund(order: str, amount: object) -> dict[str, object]:
    return {"order_id": order, "amount": amount, "currency": "USD", "reason": "damaged item"}


def _email(to: str) -> dict[str, object]:
    return {"to": [to], "subject": "About your order", "body": "Your refund is on its way."}


SCRIPT: tuple[Step, ...] = (
    Step(
        "09:02",
        "look up the customer on ticket T-881",
        "crm.lookup_customer",
        {"customer_id": "C1001"},
    ),
    Step("09:03", "read their order", "orders.get", {"order_id": "O51001"}),
    Step("09:05", "search the help centre", "kb.search", {"query": "damaged item"}),
    Step("09:06", "search again", "kb.search", {"query": "damaged item refund"}),
    Step("09:07", "and again", "kb.search", {"query": "refund policy"}),
    Step("09:08", "once more: the circuit is open now", "kb.search", {"query": "refund"}),
    Step(
        "09:15",
        "note the ticket",
        "tickets.add_note",
        {"ticket_id": "T-881", "note": "Customer reports a damaged item; photo attached."},
    ),
    Step("10:20", "refund 45 USD (under the limit)", "payments.refund", _refund("O51001", 45.0)),
    Step("10:42", "refund 250 USD (over 100)", "payments.refund", _refund("O51112", 250.0)),
    Step("11:05", "refund 1,500 USD (over 1,000)", "payments.refund", _refund("O51003", 1500.0)),
    Step("11:30", "email the customer", "email.send", _email("customer1001@customers.acme.test")),
    Step("11:32", "email an unknown domain", "email.send", _email("billing@unknown-domain.test")),
    Step(
        "13:10",
        "retag 30 customers",
        "crm.bulk_update",
        {
            "customer_ids": [f"C{1001 + i}" for i in range(30)],
            "field": "segment",
            "value": "priority",
        },
    ),
    Step(
        "13:12",
        "retag 80 customers",
        "crm.bulk_update",
        {
            "customer_ids": [f"C{1001 + i}" for i in range(80)],
            "field": "segment",
            "value": "priority",
        },
    ),
    Step("14:00", "erase a customer", "crm.delete_customer", {"customer_id": "C1002"}),
    Step("14:05", "export every customer", "crm.export_all", {}),
    Step("14:30", "refund 'ten' dollars", "payments.refund", _refund("O51004", "ten")),
)

_STYLE = {Verdict.ALLOW: "green", Verdict.HOLD: "yellow", Verdict.DENY: "red"}


def _summary(outcome: Outcome) -> str:
    if outcome.status is OutcomeStatus.EXECUTED:
        result = outcome.result
        shown = result.model_dump() if hasattr(result, "model_dump") else result
        return json.dumps(shown, default=str)[:60]
    if outcome.status is OutcomeStatus.PENDING:
        return f"waits for {outcome.approval_id}"
    if outcome.status is OutcomeStatus.DENIED:
        return "not executed"
    return outcome.error or ""


def _why(outcome: Outcome) -> str:
    hits = outcome.decision.hits
    specific = [h for h in hits if not h.rule_id.startswith("allow.")]
    return escape("; ".join(f"[{h.rule_id}] {h.reason}" for h in (specific or hits)))


def open_demo_log(path: Path) -> AuditLog:
    """A fresh audit log in the SQLite file ``path``, signed with a key made for this run."""
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    seed = secrets.token_hex(32)
    settings = AuditSettings(
        store=StoreSettings(sqlite_path=path), signing_key=seed, checkpoint_every=8
    )
    return AuditLog.open(settings)


def run_demo(console: Console | None = None, db_path: Path | None = None) -> int:
    """Run the scripted day; print every call and verdict; let two people act on the approval
    queue; record it all in a SQLite audit log and verify the chain. Returns the exit status."""
    console = console or Console()
    office, kb = BackOffice.seeded(), FlakyKnowledgeBase()
    path = db_path or Path("proctor-demo.db")
    log = open_demo_log(path)
    queue = ApprovalQueue(log.engine, audit=log)  # the same SQLite file: requests, votes, audit
    gate = build_gate(office, kb, hooks=[AuditHook(log)], approvals=queue)
    session = gate.open_session(
        "support-bot", principal="ticket:T-881", tenant="acme", environment="production"
    )
    gate.ingest(session, "Customer C1001 says order O51001 arrived damaged.", "user")
    table = Table(title="support-bot, production: a day of tickets", show_lines=False)
    for col in ("time", "intent", "tool", "verdict", "outcome", "why"):
        table.add_column(col, overflow="fold")
    counts = {v: 0 for v in Verdict}
    held: list[Outcome] = []
    try:
        for step in SCRIPT:
            outcome = gate.call(session, step.tool, step.args)
            if outcome.status is OutcomeStatus.PENDING:
                held.append(outcome)
            v = outcome.decision.verdict
            counts[v] += 1
            why = _why(outcome)
            table.add_row(
                step.time,
                step.intent,
                step.tool,
                f"[{_STYLE[v]}]{v}[/]",
                f"{outcome.status}: {_summary(outcome)}",
                why,
            )
        console.print(table)
        console.print(
            f"[green]{counts[Verdict.ALLOW]} allowed[/], [yellow]{counts[Verdict.HOLD]} held[/],"
            f" [red]{counts[Verdict.DENY]} denied[/]; knowledge base called {kb.calls} times "
            f"for 4 searches (circuit breaker)."
        )
        made = [(r.order_id, r.amount) for r in office.refunds]
        console.print(f"Refunds made before review: {made}")
        keys_file = Path(f"{path}.keys")
        settled = review(console, queue, session, held, keys_file)
        made = [(r.order_id, r.amount) for r in office.refunds]
        console.print(
            f"Refunds actually made: {made}; emails sent: {len(office.outbox)}; "
            f"{settled} of 3 held calls ended as their reviewers decided."
        )
        edited = edit_scene(console, gate, queue, session, keys_file)
        budgeted = budget_scene(console, log.engine, [AuditHook(log)])  # docs/budgets.md
    finally:
        gate.close()
    log.close()
    signer = log.signer
    report = verify(log.engine, [signer.public_key] if signer is not None else None)
    url = log.engine.url
    log.engine.dispose()
    console.print(
        f"Audit log: {report.records} records in {url.database}, "
        f"{report.checkpoints} signed checkpoints; chain verified: {report.ok} "
        f"(try: PROCTOR_SQLITE_PATH={url.database} proctor audit show --session {session.id})"
    )
    console.print(
        f"Try the queue: PROCTOR_SQLITE_PATH={url.database} proctor approvals list --all "
        f"--as ops-admin (its key, and dana's and lee's, are in {keys_file})"
    )
    return 0 if report.ok and settled == 3 and edited and budgeted else 1
