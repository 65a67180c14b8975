"""For ``_store``: a request from its row, the rules of a vote, and what a notification says."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.engine import Connection

from proctor.approvals._access import Principal, Role
from proctor.approvals._db import loads
from proctor.approvals._request import ApprovalRequest, ApprovalState, Edit, Vote
from proctor.audit import events
from proctor.errors import AccessDeniedError, ApprovalStateError
from proctor.store import agent_controls as ac


def request_of(
    row: Row[Any], votes: Iterable[Row[Any]] = (), edits: tuple[Edit, ...] = ()
) -> ApprovalRequest:
    return ApprovalRequest(
        id=row.id,
        state=ApprovalState(row.state),
        version=row.version,
        agent=row.agent,
        environment=row.environment,
        tenant=row.tenant,
        principal=row.principal,
        session_id=row.session_id,
        call_id=row.call_id,
        tool=row.tool,
        args=loads(row.args),
        agent_reason=row.agent_reason,
        confidence=row.confidence,
        held_by=tuple(loads(row.held_by)),
        approvers=row.approvers,
        groups=tuple(loads(row.groups)),
        excluded=tuple(loads(row.excluded)),
        context=loads(row.context),
        created_at=row.created_at,
        expires_at=row.expires_at,
        expires_seconds=row.expires_seconds,
        on_expiry=row.on_expiry,
        escalate_to=row.escalate_to,
        escalated=bool(row.escalated),
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        result=loads(row.result),
        error=row.error,
        finished_at=row.finished_at,
        votes=tuple(Vote(r.approver, r.vote, tuple(loads(r.groups)), r.note, r.at) for r in votes),
        edits=edits,
    )


def paused(conn: Connection, agent: str) -> bool:
    """The agent's kill switch, as committed now (read inside the vote's transaction)."""
    return bool(conn.execute(select(ac.c.paused).where(ac.c.agent == agent)).scalar())


def eligible(req: ApprovalRequest, who: Principal, *, editing: bool = False) -> tuple[str, ...]:
    """The required groups ``who`` counts for; raises if ``who`` may not vote on ``req``.
    ``editing``: an approve-with-edit, which resets every vote, ``who``'s own included."""
    if req.state is not ApprovalState.PENDING:
        raise ApprovalStateError(f"{req.id} is {req.state}, not pending; nothing was voted")
    if not who.has(Role.APPROVER):
        raise AccessDeniedError(f"{who.name} may not vote on {req.id}: not an approver")
    me = who.name.casefold()
    if any(me == x.casefold() for x in req.excluded if x):
        raise AccessDeniedError(
            f"{who.name} may not vote on {req.id}: the requester and the agent never approve "
            "their own call (two-person rule)"
        )
    if not editing and any(vote.approver == who.name for vote in req.votes):
        raise AccessDeniedError(f"{who.name} already voted on {req.id}; approvers are distinct")
    groups = tuple(g for g in req.required_groups if who.member(g))
    if req.required_groups and not groups:
        raise AccessDeniedError(
            f"{who.name} may not vote on {req.id}: needs a member of "
            f"{' or '.join(req.required_groups)}"
        )
    return groups


def every_version(req: ApprovalRequest) -> dict[str, list[Any]]:
    """Each argument's values in every version of ``req``'s arguments (the agent's, and each
    edit's): what a note is scrubbed against, since it may quote the values an edit replaced."""
    out: dict[str, list[Any]] = {}
    for args in (*(e.before for e in req.edits), req.args):
        for name, value in args.items():
            out.setdefault(name, []).append(value)
    return out


def notice(req: ApprovalRequest, by: str, note: str | None) -> str:
    what = f"Approval `{req.id}` ({req.tool}, agent {req.agent})"
    reason = events.scrub(every_version(req), note)
    tail = f": {reason}" if reason else ""
    if req.state is ApprovalState.APPROVED:
        return f"{what} approved by {by}{tail}"
    if req.state is ApprovalState.DENIED:
        return f"{what} denied by {by}{tail}"
    if req.state is ApprovalState.EXPIRED:
        return f"{what} expired: nobody decided in time; it will never run"
    if req.state is ApprovalState.CANCELLED:
        return f"{what} cancelled by {by}{tail}"
    if req.state is ApprovalState.EXECUTED:
        return f"{what} executed"
    return f"{what} {req.state}{tail}"
