"""The demo's approve-with-edit scene: a reviewer lowers a refund before approving it.

The agent asks for a 160 USD refund; a support lead approves it; a finance approver first tries
an edit the policy forbids (1,500 USD: over the hard limit, refused, the request stays pending),
then lowers it to 60 USD. The edit resets the support lead's approval (it was for 160), who
approves the edited call again. The agent's ticket says what changed and who changed it.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from proctor.approvals import ApprovalQueue
from proctor.errors import ApprovalEditError
from proctor.gate import Gate
from proctor.model import OutcomeStatus, Session

ASKED = {"order_id": "O51030", "amount": 160.0, "currency": "USD", "reason": "damaged lid"}


def edit_scene(
    console: Console, gate: Gate, queue: ApprovalQueue, session: Session, keys_file: Path
) -> bool:
    """Run the scene; True when it went as scripted (refused, edited, executed once)."""
    keys = json.loads(keys_file.read_text(encoding="utf-8"))
    dana = queue.authenticate("dana", keys["dana"])
    lee = queue.authenticate("lee", keys["lee"])
    console.print("[bold]Approve with edit[/]: the agent asks to refund 160 USD on O51030")
    held = gate.call(session, "payments.refund", ASKED)
    if held.status is not OutcomeStatus.PENDING or held.approval_id is None:
        console.print(f"[red]expected a held call, got {held.status}[/]")
        return False
    rid = held.approval_id
    req = queue.approve(rid, by=lee, note="Photo checked.")
    console.print(f"lee approves {rid}: now {req.state}, still needs {req.missing()}")
    refused = False
    try:
        queue.approve(rid, by=dana, args={**ASKED, "amount": 1500.0})
    except ApprovalEditError as exc:
        refused = True
        console.print(f"dana edits amount to 1500: [red]refused[/] ({escape(str(exc))[:110]})")
    req = queue.approve(rid, by=dana, args={**ASKED, "amount": 60.0}, note="Only the lid.")
    edit = req.edit
    console.print(
        f"dana approves with edit: {escape(edit.summary() if edit else '?')}; lee's approval "
        f"was for other arguments, so it was reset: {req.state}, needs {req.missing()}"
    )
    seen = queue.get(rid).version  # lee reads the edited call: his vote names that version
    req = queue.approve(rid, by=lee, note="60 is right.", if_version=seen)
    res = queue.ticket(held, session).outcome(timeout=5.0)
    console.print(
        f"lee approves again: {req.state}. The agent's ticket: {res.state}, "
        f"{escape(json.dumps(res.result, default=str))[:80]}; told: {escape(res.changes)}"
    )
    return refused and res.executed and res.edit is not None and res.edit.args["amount"] == 60.0
