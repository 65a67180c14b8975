"""The demo's second half: people act on the approval queue through the same API the CLI uses.

A finance approver approves the held refund, a support lead denies the email to an unknown
domain, and the bulk update stays in the queue. The agent's tickets then show what came of
each: the approved refund executed (exactly once), the denied email never sent.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from proctor.approvals import ApprovalQueue, ApprovalRequest, Role
from proctor.model import Outcome, Session

PEOPLE = {
    "ops-admin": ([Role.ADMIN], []),
    "dana": ([Role.APPROVER], ["finance"]),
    "lee": ([Role.APPROVER], ["support-leads"]),
}


def _risk(req: ApprovalRequest) -> str:
    risk = req.context.get("risk", {})
    flags = ", ".join(risk.get("flags", [])) or "none"
    by_kind: dict[str, list[str]] = {}
    for path, prov in sorted(req.context.get("provenance", {}).items()):
        by_kind.setdefault(prov["provenance"], []).append(path)
    came = "; ".join(
        f"{kind}: {', '.join(paths) if len(paths) <= 3 else f'{len(paths)} values'}"
        for kind, paths in sorted(by_kind.items())
    )
    return f"flags: {flags}. Arguments {came or 'not traced'}"


def enroll(queue: ApprovalQueue, keys_file: Path) -> dict[str, str]:
    """The demo's people, with keys made for this run (written, owner-only, to ``keys_file``
    so that the CLI can be tried against the demo's database)."""
    keys: dict[str, str] = {}
    admin = None
    for name, (roles, groups) in PEOPLE.items():
        keys[name] = queue.access.add(name, roles, groups, by=admin)
        if admin is None:
            admin = queue.authenticate(name, keys[name])
    keys_file.unlink(missing_ok=True)
    fd = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(keys, f, indent=2)
    return keys


def review(
    console: Console,
    queue: ApprovalQueue,
    session: Session,
    held: Sequence[Outcome],
    keys_file: Path,
) -> int:
    """Show the queue, let two people decide, show what came of it. Returns how many
    requests ended as their reviewer intended (3 when all went as scripted)."""
    keys = enroll(queue, keys_file)
    pending = queue.pending()
    table = Table(title="Approval queue: what a reviewer sees")
    for col in ("request", "tool", "needs", "held by", "risk and provenance"):
        table.add_column(col, overflow="fold")
    for req in pending:
        reasons = "; ".join(f"[{h['rule_id']}] {h['reason']}" for h in req.context["held_by"])
        table.add_row(req.id, req.tool, req.needs(), escape(reasons), escape(_risk(req)))
    console.print(table)

    by_tool = {req.tool: req for req in pending}
    dana = queue.authenticate("dana", keys["dana"])  # what `--as dana` checks
    lee = queue.authenticate("lee", keys["lee"])
    refund, email = by_tool["payments.refund"], by_tool["email.send"]
    steps = [
        (
            "dana",
            "approves",
            refund,
            queue.approve(refund.id, by=dana, note="Damage on the photo."),
        ),
        ("lee", "approves", refund, queue.approve(refund.id, by=lee, note="Order checked.")),
        ("lee", "denies", email, queue.deny(email.id, by=lee, note="Unknown domain: ask first.")),
    ]
    for who, verb, req, after in steps:
        left = after.missing()
        console.print(
            f"{who} {verb} {req.id} ({req.tool}): now {after.state}"
            + (f", still needs {left}" if left else "")
        )

    table = Table(title="After review: what the agent's tickets say")
    for col in ("request", "tool", "state", "decided by", "result or error"):
        table.add_column(col, overflow="fold")
    good = 0
    for outcome in held:
        res = queue.ticket(outcome, session).outcome(
            timeout=5.0 if outcome.approval_id in (refund.id, email.id) else 0.0
        )
        req = queue.get(res.approval_id)
        shown = res.result if res.executed else (res.error or res.note or req.missing())
        table.add_row(
            req.id, req.tool, str(res.state), res.decided_by or "", escape(json.dumps(shown)[:70])
        )
        good += res.approval_id == refund.id and res.executed
        good += res.approval_id == email.id and str(res.state) == "denied"
        good += req.tool == "crm.bulk_update" and str(res.state) == "pending"
    console.print(table)
    return good
