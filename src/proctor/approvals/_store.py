"""The durable approval queue: requests, votes and execution claims, one transaction each.

Every transition locks the request's row (``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN
IMMEDIATE`` on SQLite), checks the state it expects, and moves it by compare-and-set on
``version``; the outbox records it in the same transaction. A request executes only after a
claim (approved → executing) that also inserts the request's one idempotency key: two
executors racing for it cannot both win, in one process or many.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import Engine, Row, insert, select, update
from sqlalchemy.engine import Connection

from proctor.approvals._access import AccessRegistry, Principal
from proctor.approvals._db import dumps, iso, reading, writing
from proctor.approvals._edit import checked_args, edit_detail, load_edits, record_edit, vote_key
from proctor.approvals._outbox import Recorder
from proctor.approvals._request import (
    APPROVE,
    DENY,
    NEXT,
    ApprovalRequest,
    ApprovalState,
    Claim,
    NewRequest,
    satisfied,
)
from proctor.approvals._votes import eligible, every_version, notice, paused, request_of
from proctor.audit import events, mask_args
from proctor.audit._canonical import Digest
from proctor.errors import (
    AccessDeniedError,
    ApprovalNotFoundError,
    ApprovalStateError,
    ApprovalVersionError,
)
from proctor.model import Outcome, OutcomeStatus, new_id
from proctor.store import approval_executions as ex
from proctor.store import approval_requests as t
from proctor.store import approval_votes as v

log = logging.getLogger("proctor.approvals")
SYSTEM = "proctor"  # who acts when time does (expiry, a dead executor)


class ApprovalStore:
    """Requests and their state machine. Thread-safe; share one per process."""

    def __init__(
        self,
        engine: Engine,
        recorder: Recorder,
        access: AccessRegistry,
        clock: Callable[[], float] = time.time,
        digest: Digest | None = None,
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self.access = access
        self._clock = clock
        self._digest = digest  # the audit log's keyed digest, for argument values in records

    # -- reading ------------------------------------------------------------------------------

    def get(self, approval_id: str) -> ApprovalRequest:
        with reading(self.engine) as conn:
            return self._read(conn, approval_id)

    def find(
        self,
        states: Iterable[ApprovalState | str] | None = None,
        *,
        agent: str | None = None,
        limit: int = 100,
    ) -> list[ApprovalRequest]:
        """Requests, oldest first, in ``states`` (all if None), of ``agent`` if given."""
        query = select(t)
        if states is not None:
            query = query.where(t.c.state.in_([str(ApprovalState(s)) for s in states]))
        if agent is not None:
            query = query.where(t.c.agent == agent)
        with reading(self.engine) as conn:
            rows = conn.execute(query.order_by(t.c.created_at, t.c.id).limit(limit)).all()
            return [self._full(conn, r) for r in rows]

    def _read(self, conn: Connection, approval_id: str, *, lock: bool = False) -> ApprovalRequest:
        query = select(t).where(t.c.id == approval_id)
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise ApprovalNotFoundError(f"no approval request {approval_id!r}")
        return self._full(conn, row)

    def _full(self, conn: Connection, row: Row[Any]) -> ApprovalRequest:
        """The request of ``row`` with its edits and the votes of its current round."""
        edits = load_edits(conn, row.id)
        key = vote_key(row.id, len(edits))
        votes = conn.execute(
            select(v).where(v.c.approval_id == key).order_by(v.c.at, v.c.approver)
        ).all()
        return request_of(row, votes, edits)

    # -- creating ----------------------------------------------------------------------------

    def create(self, new: NewRequest) -> ApprovalRequest:
        """Store a held call as a pending request. Raises if it cannot (the gate then denies)."""
        now = self._clock()
        rid = new_id("apr")
        call, session = new.call, new.session
        values = {
            "id": rid,
            "state": str(ApprovalState.PENDING),
            "version": 1,
            "agent": session.agent,
            "environment": str(session.environment),
            "tenant": session.tenant,
            "principal": session.principal,
            "session_id": session.id,
            "call_id": call.id,
            "tool": call.tool,
            "args": dumps(dict(call.args)),
            "agent_reason": call.reason,
            "confidence": call.confidence,
            "held_by": dumps(list(new.held_by)),
            "approvers": new.approvers,
            "groups": dumps(list(new.groups)),
            "excluded": dumps(list(new.excluded)),
            "context": dumps(to_jsonable_python(dict(new.context), fallback=repr)),
            "created_at": now,
            "expires_at": now + new.expires_seconds,
            "expires_seconds": new.expires_seconds,
            "on_expiry": new.on_expiry,
            "escalate_to": new.escalate_to,
            "escalated": 0,
        }
        with writing(self.engine) as conn:
            conn.execute(insert(t).values(**values))
            req = self._read(conn, rid)
            scrubbed = [events.scrub(call.args, r) for r in new.reasons]
            detail = {
                "call_id": call.id,
                "tool": call.tool,
                "agent": session.agent,
                "rule_ids": list(new.held_by),
                "reasons": scrubbed,
                "args": mask_args(call.args, self._digest),
                "approvers": new.approvers,
                "groups": list(new.groups),
                "expires_at": iso(req.expires_at),
                "risk": new.context.get("risk", {}),
                "agent_reason": events.scrub(call.args, call.reason),
                "confidence": call.confidence,
            }
            text = (
                f"*{call.tool}* by agent {session.agent} (for {session.principal}) is held for "
                f"approval `{rid}`: {'; '.join(r or '' for r in scrubbed)}. Needs "
                f"{new.approvers} approver(s) from {', '.join(new.groups) or 'any group'}; "
                f"expires {iso(req.expires_at)}."
            )
            self._event(conn, req, "requested", session.agent, None, req.state, None, detail, text)
        self.recorder.committed()
        return req

    # -- deciding ----------------------------------------------------------------------------

    def approve(
        self,
        approval_id: str,
        by: Principal,
        note: str | None = None,
        *,
        args: Mapping[str, Any] | None = None,
        if_version: int | None = None,
    ) -> ApprovalRequest:
        """Record ``by``'s approval; the request is approved once enough distinct people from
        the required groups approved. Raises ``AccessDeniedError`` (not an approver, not in a
        required group, the requester or the agent, voted already) or ``ApprovalStateError``.

        ``args``: approve with edit. The request's arguments become ``args`` (the tool stays
        the tool), every earlier approval is reset, and ``by``'s vote counts as one approval of
        the edited call (``ApprovalEditError`` if ``args`` is not a JSON object or changes
        nothing). ``if_version``: the request's ``version`` the reviewer read; if it changed
        since (another reviewer edited it, or it was decided), ``ApprovalVersionError``. Once
        a request has been edited, ``if_version`` is required (``ApprovalVersionError``
        without it): a vote counts only for the arguments its voter saw."""
        edited = None if args is None else checked_args(approval_id, args)
        return self._vote(approval_id, by, APPROVE, note, edited, if_version)

    def deny(self, approval_id: str, by: Principal, note: str | None = None) -> ApprovalRequest:
        """Deny the request: one eligible approver's denial is final (a veto)."""
        return self._vote(approval_id, by, DENY, note)

    def _vote(
        self,
        approval_id: str,
        by: Principal,
        vote: str,
        note: str | None,
        args: Mapping[str, Any] | None = None,
        if_version: int | None = None,
    ) -> ApprovalRequest:
        expired: ApprovalRequest | None = None
        try:
            with writing(self.engine) as conn:
                req = self._read(conn, approval_id, lock=True)
                if if_version is not None and req.version != if_version:
                    raise ApprovalVersionError(
                        f"{approval_id} changed since you read it (version {if_version}, now "
                        f"{req.version}, {req.state}): read it again; nothing was voted"
                    )
                if vote == APPROVE and req.edits and if_version is None:
                    # a vote counts for the arguments its voter saw: after an edit, a vote
                    # that names no version could approve arguments only the editor read
                    raise ApprovalVersionError(
                        f"{approval_id} was edited by {req.edits[-1].editor} (now version "
                        f"{req.version}): approve names the version you reviewed (HTTP "
                        "'version', CLI --if-version, see show); nothing was voted"
                    )
                now = self._clock()
                if req.state is ApprovalState.PENDING and now >= req.expires_at:
                    expired = self._expire(conn, req, now)  # committed; the vote is refused below
                else:
                    who = self.access.current(conn, by)
                    groups = eligible(req, who, editing=args is not None)
                    if vote == APPROVE and paused(conn, req.agent):
                        raise ApprovalStateError(
                            f"agent {req.agent} is paused: {req.id} cannot be approved until it "
                            "is resumed (a pause voids every approval not yet executing); deny "
                            "it, or approve it after the resume"
                        )
                    if args is not None:
                        req = self._edit(conn, req, who.name, args, note, now)
                    conn.execute(
                        insert(v).values(
                            approval_id=vote_key(req.id, len(req.edits)),
                            approver=who.name,
                            vote=vote,
                            groups=dumps(list(groups)),
                            note=note,
                            at=now,
                        )
                    )
                    req = self._read(conn, approval_id)
                    self._event(
                        conn, req, "voted", who.name, req.state, req.state, note, {"vote": vote}
                    )
                    if vote == DENY:
                        req = self._move(conn, req, ApprovalState.DENIED, who.name, note, now)
                    elif satisfied(req.approvers, req.required_groups, req.votes):
                        approvers = ", ".join(req.approved_by)
                        req = self._move(conn, req, ApprovalState.APPROVED, approvers, note, now)
        except AccessDeniedError as exc:
            self.refused(approval_id, by.name, str(exc))
            exc.recorded = True  # type: ignore[attr-defined]  # the CLI records it only once
            raise
        self.recorder.committed()
        if expired is not None:
            now_what = (
                f"it was escalated to {expired.escalate_to}, who may decide it now"
                if expired.state is ApprovalState.PENDING
                else "it can never be approved"
            )
            raise ApprovalStateError(
                f"{approval_id} ran out of time at {iso(req.expires_at)}: {now_what}; "
                "the vote was not recorded"
            )
        return req

    def _edit(
        self,
        conn: Connection,
        req: ApprovalRequest,
        editor: str,
        args: Mapping[str, Any],
        note: str | None,
        now: float,
    ) -> ApprovalRequest:
        """Approve with edit, in the vote's transaction: see ``proctor.approvals._edit``."""
        # the note may quote the values it replaces (this and every earlier version) and new
        versions = every_version(req)
        for name, value in args.items():
            versions.setdefault(name, []).append(value)
        note = events.scrub(versions, note)
        edit = record_edit(conn, req, editor, args, note, now)
        new = self._read(conn, req.id)
        fields = ", ".join(c.field for c in edit.changes)
        reset = f"; {len(edit.reset_votes)} earlier approval(s) reset" if edit.reset_votes else ""
        text = (
            f"Approval `{req.id}` ({req.tool}, agent {req.agent}): {editor} edited {fields}{reset}"
        )
        detail = edit_detail(edit, self._digest)
        self._event(conn, new, "edited", editor, req.state, new.state, note, detail, text)
        return new

    def refused(self, approval_id: str, who: str, why: str, *, action: str = "vote on") -> None:
        """A refused vote (or ticket) is itself evidence: record it as an alert (best effort;
        the refusal stands)."""
        try:
            with writing(self.engine) as conn:
                self.recorder.add(
                    conn,
                    events.alert(
                        "approval.refused",
                        f"{who} tried to {action} {approval_id}: {why}",
                        detail={"approval_id": approval_id, "by": who},
                    ),
                )
            self.recorder.committed()
        except Exception:  # the caller gets the AccessDeniedError either way
            log.exception("cannot record a refusal to %s %s", action, approval_id)

    def cancel(self, approval_id: str, *, by: str, note: str | None = None) -> ApprovalRequest:
        """Withdraw a pending request (the agent no longer wants it, or an admin). Internal:
        the public ways in are ``Ticket.cancel`` and ``ApprovalQueue.cancel``."""
        with writing(self.engine) as conn:
            req = self._read(conn, approval_id, lock=True)
            if req.state is not ApprovalState.PENDING:
                raise ApprovalStateError(f"{approval_id} is {req.state}, not pending")
            req = self._move(conn, req, ApprovalState.CANCELLED, by, note, self._clock())
        self.recorder.committed()
        return req

    def void_approved(
        self, conn: Connection, agent: str, *, by: str, reason: str, now: float
    ) -> list[ApprovalRequest]:
        """Cancel every approved request of ``agent`` that nobody claimed yet, in the caller's
        transaction (the pause's): a kill switch meant for a compromised agent must not let
        approvals given before it run on resume. Pending requests are locked too, so that a
        vote committing at the same moment is either seen here (and voided) or sees the pause
        (and is refused): on PostgreSQL, ``FOR UPDATE`` waits for it and re-reads the row."""
        rows = conn.execute(
            select(t.c.id)
            .where(
                t.c.agent == agent,
                t.c.state.in_([str(ApprovalState.PENDING), str(ApprovalState.APPROVED)]),
            )
            .order_by(t.c.id)
            .with_for_update()
        ).all()
        note = f"voided: agent {agent} was paused by {by} before it ran: {reason}"
        voided = []
        for row in rows:
            req = self._read(conn, row.id)
            if req.state is ApprovalState.APPROVED:
                # ``error`` tells the agent's ticket why its approved call never ran
                voided.append(
                    self._move(conn, req, ApprovalState.CANCELLED, by, note, now, error=note)
                )
        return voided

    # -- time --------------------------------------------------------------------------------

    def expire_due(self) -> list[ApprovalRequest]:
        """Expire (or escalate, once) every pending request whose time is up."""
        now = self._clock()
        with reading(self.engine) as conn:
            due = (
                conn.execute(
                    select(t.c.id).where(
                        t.c.state == str(ApprovalState.PENDING), t.c.expires_at <= now
                    )
                )
                .scalars()
                .all()
            )
        changed = []
        for rid in due:
            with writing(self.engine) as conn:
                req = self._read(conn, rid, lock=True)
                if req.state is ApprovalState.PENDING and req.expires_at <= now:
                    changed.append(self._expire(conn, req, now))
        if changed:
            self.recorder.committed()
        return changed

    def _expire(self, conn: Connection, req: ApprovalRequest, now: float) -> ApprovalRequest:
        if req.on_expiry == "escalate" and not req.escalated and req.escalate_to:
            done = conn.execute(
                update(t)
                .where(t.c.id == req.id, t.c.version == req.version)
                .values(escalated=1, expires_at=now + req.expires_seconds, version=req.version + 1)
            ).rowcount
            if done != 1:
                raise ApprovalStateError(f"{req.id} changed concurrently")
            new = self._read(conn, req.id)
            text = (
                f"Approval `{req.id}` ({req.tool}, agent {req.agent}) was not decided in time: "
                f"escalated to {req.escalate_to}; expires {iso(new.expires_at)}."
            )
            self._event(
                conn,
                new,
                "escalated",
                SYSTEM,
                req.state,
                new.state,
                None,
                {"to_group": req.escalate_to, "expires_at": iso(new.expires_at)},
                text,
            )
            return new
        return self._move(conn, req, ApprovalState.EXPIRED, SYSTEM, "not decided in time", now)

    # -- executing ---------------------------------------------------------------------------

    def runnable(self, limit: int = 100) -> list[ApprovalRequest]:
        """Approved requests nobody has claimed yet, oldest decision first."""
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(t)
                .where(t.c.state == str(ApprovalState.APPROVED))
                .order_by(t.c.decided_at, t.c.id)
                .limit(limit)
            ).all()
            return [self._full(conn, r) for r in rows]

    def claim(self, approval_id: str, executor: str, lease_seconds: float) -> Claim | None:
        """Take the one right to execute an approved request: approved → executing, and its
        idempotency key inserted, in one transaction. None if it is not approved (any more):
        someone else claimed it, or it was denied, expired or cancelled."""
        with writing(self.engine) as conn:
            req = self._read(conn, approval_id, lock=True)
            if req.state is not ApprovalState.APPROVED:
                return None
            now = self._clock()
            key = f"idem_{req.id}"
            conn.execute(
                insert(ex).values(
                    idempotency_key=key,
                    approval_id=req.id,
                    executor=executor,
                    claimed_at=now,
                    lease_until=now + lease_seconds,
                )
            )
            req = self._move(conn, req, ApprovalState.EXECUTING, executor, None, now, notify=False)
        self.recorder.committed()
        return Claim(req, key, executor)

    def finish(self, claim: Claim, outcome: Outcome) -> ApprovalRequest:
        """Record what came of an execution: executed (with its result) or failed."""
        ok = outcome.status is OutcomeStatus.EXECUTED
        state = ApprovalState.EXECUTED if ok else ApprovalState.FAILED
        result = to_jsonable_python(outcome.result, fallback=repr) if ok else None
        with writing(self.engine) as conn:
            req = self._read(conn, claim.request.id, lock=True)
            holder = conn.execute(
                select(ex.c.executor).where(ex.c.approval_id == req.id)
            ).scalar_one_or_none()
            now = self._clock()
            if req.state is not ApprovalState.EXECUTING or holder != claim.executor:
                # the lease ran out and recovery already failed it: keep the evidence
                detail = {"status": str(outcome.status), "executor": claim.executor}
                self._event(
                    conn,
                    req,
                    "late_result",
                    claim.executor,
                    req.state,
                    req.state,
                    outcome.error,
                    detail,
                )
            else:
                req = self._move(
                    conn,
                    req,
                    state,
                    claim.executor,
                    outcome.error,
                    now,
                    result=dumps(result) if ok else None,
                    error=outcome.error,
                    finished_at=now,
                )
        self.recorder.committed()
        return req

    def fail_stale(self) -> list[ApprovalRequest]:
        """Fail every execution whose executor's lease ran out: it died after claiming. Its
        tool may or may not have run, so it is never run again automatically."""
        now = self._clock()
        with reading(self.engine) as conn:
            stale = (
                conn.execute(
                    select(ex.c.approval_id)
                    .join(t, t.c.id == ex.c.approval_id)
                    .where(t.c.state == str(ApprovalState.EXECUTING), ex.c.lease_until < now)
                )
                .scalars()
                .all()
            )
        failed = []
        for rid in stale:
            with writing(self.engine) as conn:
                req = self._read(conn, rid, lock=True)
                if req.state is not ApprovalState.EXECUTING:
                    continue
                why = (
                    "the executor stopped after claiming this request (its lease ran out); the "
                    f"tool may or may not have run: check before retrying (idempotency key "
                    f"idem_{rid})"
                )
                failed.append(
                    self._move(
                        conn,
                        req,
                        ApprovalState.FAILED,
                        SYSTEM,
                        why,
                        now,
                        error=why,
                        finished_at=now,
                    )
                )
        if failed:
            self.recorder.committed()
        return failed

    # -- transitions -------------------------------------------------------------------------

    def _move(
        self,
        conn: Connection,
        req: ApprovalRequest,
        to: ApprovalState,
        by: str,
        note: str | None,
        now: float,
        *,
        notify: bool = True,
        **values: Any,
    ) -> ApprovalRequest:
        """Compare-and-set ``req`` to ``to`` (the row is locked by the caller), and record it."""
        if to not in NEXT.get(req.state, frozenset()):
            raise ApprovalStateError(f"{req.id} is {req.state}; it cannot become {to}")
        if to in (
            ApprovalState.APPROVED,
            ApprovalState.DENIED,
            ApprovalState.EXPIRED,
            ApprovalState.CANCELLED,
        ):
            values |= {"decided_at": now, "decided_by": by}
        done = conn.execute(
            update(t)
            .where(t.c.id == req.id, t.c.version == req.version, t.c.state == str(req.state))
            .values(state=str(to), version=req.version + 1, **values)
        ).rowcount
        if done != 1:
            raise ApprovalStateError(f"{req.id} changed concurrently; nothing was written")
        new = self._read(conn, req.id)
        text = notice(new, by, note) if notify else None
        self._event(conn, new, str(to), by, req.state, to, note, None, text)
        return new

    def _event(
        self,
        conn: Connection,
        req: ApprovalRequest,
        action: str,
        by: str | None,
        frm: ApprovalState | None,
        to: ApprovalState | None,
        note: str | None,
        detail: dict[str, Any] | None = None,
        text: str | None = None,
    ) -> None:
        event = events.approval_transition(
            req.id,
            action,
            session_id=req.session_id,
            by=by,
            state=(None if frm is None else str(frm), None if to is None else str(to)),
            note=events.scrub(every_version(req), note),  # old values too, after an edit
            detail={"tool": req.tool, "agent": req.agent, **(detail or {})},
        )
        notice = None
        if text is not None:
            data = {
                "approval_id": req.id,
                "state": str(req.state),
                "agent": req.agent,
                "tool": req.tool,
                "by": by,
            }
            notice = (f"approval.{action}", text, data)
        self.recorder.add(conn, event, approval_id=req.id, notice=notice)
