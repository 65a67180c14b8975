"""Approve with edit: a reviewer changes the arguments of a held call and approves that.

The edit is part of the vote's transaction (the request's row locked, see ``_store``): the new
arguments replace the request's, the request's version moves on, every earlier approval is
reset (it approved other arguments; ``proctor_approval_edits`` lists them, and the audit log
keeps them; in the votes table they stay in the previous round, see
``vote_key``), and the edit itself is recorded with both versions, masked, and the
editor. The editor's own vote then counts as one approval of the edited call.

What an edit may not do is checked twice: here, for what needs no policy (the arguments are a
JSON object that changes something; the tool is never part of an edit), and by the gate, which
decides the edited call again before it runs (``Gate.aexecute_approved``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from proctor.approvals._db import dumps, loads
from proctor.approvals._request import ApprovalRequest, Edit, Vote
from proctor.audit import mask_args
from proctor.audit._canonical import Digest
from proctor.errors import ApprovalEditError, ApprovalStateError
from proctor.model import ArgChange, diff_args
from proctor.store import approval_edits as ed
from proctor.store import approval_requests as t

MAX_ARGS_BYTES = 64 * 1024  # an edit's arguments, as JSON


def load_edits(conn: Connection, approval_id: str) -> tuple[Edit, ...]:
    rows = conn.execute(select(ed).where(ed.c.approval_id == approval_id).order_by(ed.c.seq))
    return tuple(
        Edit(
            seq=r.seq,
            editor=r.editor,
            at=r.at,
            before=loads(r.before),
            after=loads(r.after),
            changes=tuple(ArgChange(**c) for c in loads(r.changes)),
            reset_votes=tuple(
                Vote(x["approver"], x["vote"], tuple(x["groups"]), x["note"], x["at"])
                for x in loads(r.reset_votes)
            ),
            note=r.note,
        )
        for r in rows
    )


def vote_key(approval_id: str, edits: int) -> str:
    """Where the votes of a request's current round are kept: its id until it is edited, then
    ``<id>#<edit number>`` (votes are append-only; an edit starts a new round)."""
    return approval_id if edits == 0 else f"{approval_id}#{edits}"


def checked_args(approval_id: str, args: object) -> dict[str, Any]:
    """``args`` as a JSON object of arguments, or ``ApprovalEditError`` saying what is wrong."""
    if not isinstance(args, Mapping):
        raise ApprovalEditError(
            f"the edit of {approval_id} must be an object of arguments, not {type(args).__name__}"
        )
    bad = [repr(k) for k in args if not isinstance(k, str) or not k]
    if bad:
        raise ApprovalEditError(
            f"the edit of {approval_id} has argument names that are not strings: "
            + ", ".join(bad[:5])
        )
    try:
        text = dumps(dict(args))
    except (TypeError, ValueError) as exc:
        raise ApprovalEditError(
            f"the edit of {approval_id} is not JSON (numbers must be finite): {exc}"
        ) from exc
    if len(text.encode()) > MAX_ARGS_BYTES:
        raise ApprovalEditError(
            f"the edit of {approval_id} is {len(text.encode())} bytes of JSON; at most "
            f"{MAX_ARGS_BYTES}"
        )
    out: dict[str, Any] = json.loads(text)
    return out


def record_edit(
    conn: Connection,
    req: ApprovalRequest,
    editor: str,
    args: Mapping[str, Any],
    note: str | None,
    now: float,
) -> Edit:
    """Replace ``req``'s arguments with ``args`` (checked by ``checked_args``) in the caller's
    transaction, reset its votes, and store the edit. The caller re-reads the request, records
    the audit event and casts the editor's vote."""
    changes = diff_args(req.args, args)
    if not changes:
        raise ApprovalEditError(f"the edit of {req.id} changes no argument; approve it without one")
    done = conn.execute(
        update(t)
        .where(t.c.id == req.id, t.c.version == req.version, t.c.state == str(req.state))
        .values(args=dumps(dict(args)), version=req.version + 1)
    ).rowcount
    if done != 1:
        raise ApprovalStateError(f"{req.id} changed concurrently; nothing was written")
    edit = Edit(
        seq=len(req.edits) + 1,
        editor=editor,
        at=now,
        before=dict(req.args),
        after=dict(args),
        changes=changes,
        reset_votes=req.votes,
        note=note,
    )
    conn.execute(
        insert(ed).values(
            approval_id=req.id,
            seq=edit.seq,
            editor=editor,
            at=now,
            before=dumps(dict(req.args)),
            after=dumps(dict(args)),
            changes=dumps(
                [{"field": c.field, "old": c.old, "new": c.new, "kind": c.kind} for c in changes]
            ),
            reset_votes=dumps(
                [
                    {
                        "approver": x.approver,
                        "vote": x.vote,
                        "groups": list(x.groups),
                        "note": x.note,
                        "at": x.at,
                    }
                    for x in req.votes
                ]
            ),
            note=note,
        )
    )
    return edit


def edit_detail(edit: Edit, digest: Digest | None) -> dict[str, Any]:
    """The audit record of an edit: both versions masked as the log masks every argument
    (names, types and keyed digests, never values), the changed fields, the reset votes."""
    return {
        "edit": edit.seq,
        "before": mask_args(edit.before, digest),
        "after": mask_args(edit.after, digest),
        "changed": [c.field for c in edit.changes],
        "reset_votes": [x.approver for x in edit.reset_votes],
    }
