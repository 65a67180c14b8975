"""The agent's side of a held call: a ticket to poll, or to wait on with a timeout.

One algorithm, async (``aoutcome``); ``outcome`` is its synchronous wrapper. When the queue's
gate has the tool, a ticket that sees its request approved executes it there and then (through
the same exactly-once claim as any worker), so one process needs no separate worker.

A ticket is bound to the session that made the call: every poll and a cancel check that the
request belongs to that session (its id, agent and tenant), so that knowing a request id (it
is in notifications and the audit log) lets no other session read its result or withdraw it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from proctor.approvals._request import FINAL, ApprovalRequest, ApprovalState
from proctor.approvals._worker import run_sync
from proctor.errors import AccessDeniedError
from proctor.model import ArgsEdit, Session

if TYPE_CHECKING:
    from proctor.approvals._queue import ApprovalQueue


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a held call stands: its state, and for an executed one the tool's result (as
    JSON-ready data) or the error. ``done``: nothing more will happen to it."""

    approval_id: str
    state: ApprovalState
    result: Any = None
    error: str | None = None
    decided_by: str | None = None
    note: str | None = None  # what the deciding person wrote (a denial's reason)
    edit: ArgsEdit | None = None  # reviewers changed the arguments: what, and who

    @property
    def changes(self) -> str:
        """What reviewers changed, in words ("" when they changed nothing): the fields and
        their new values only (``ArgsEdit.told``)."""
        return self.edit.told() if self.edit is not None else ""

    @property
    def done(self) -> bool:
        return self.state in FINAL

    @property
    def executed(self) -> bool:
        return self.state is ApprovalState.EXECUTED

    @staticmethod
    def of(req: ApprovalRequest) -> Resolution:
        note = next((v.note for v in reversed(req.votes) if v.note), None)
        return Resolution(req.id, req.state, req.result, req.error, req.decided_by, note, req.edit)


class Ticket:
    """A held call, from the agent's side: ``session``'s, and no other's."""

    def __init__(
        self,
        queue: ApprovalQueue,
        approval_id: str,
        session: Session,
        *,
        interval: float = 0.05,
        max_interval: float = 2.0,
    ) -> None:
        self.queue = queue
        self.approval_id = approval_id
        self.session = session
        self.interval = interval
        self.max_interval = max_interval
        self._ingested = False

    def _mine(self, req: ApprovalRequest) -> ApprovalRequest:
        """``req`` if the ticket's session made it; else raise ``AccessDeniedError`` (after
        recording the attempt as an alert)."""
        s = self.session
        if (req.session_id, req.agent, req.tenant) == (s.id, s.agent, s.tenant):
            return req
        who = f"session {s.id} (agent {s.agent}, tenant {s.tenant})"
        why = "it belongs to another session"
        self.queue.requests.refused(req.id, who, why, action="read or cancel")
        raise AccessDeniedError(f"{who} may not read or cancel {req.id}: {why}")

    def _get(self) -> ApprovalRequest:
        return self._mine(self.queue.requests.get(self.approval_id))

    async def apoll(self, *, execute: bool = True) -> Resolution:
        """Where the request stands now. If it is approved and ``execute`` is true and this
        queue's gate has the tool, execute it first (exactly once, whoever else tries)."""
        req = await self.queue.run(self._get)
        worker = self.queue.worker()
        if (
            execute
            and req.state is ApprovalState.APPROVED
            and worker is not None
            and worker.can_run(req.agent, req.environment, req.tool)
        ):
            if await worker.aexecute(req.id) is not None:
                self._ingested = True  # the gate ingested the output into the session
            req = await self.queue.run(self._get)
        if req.state is ApprovalState.EXECUTED and not self._ingested:
            # executed elsewhere: the output enters this session as the tool's content, so
            # that provenance keeps working for the agent's next calls
            gate = self.queue.gate
            if gate is not None and gate.registered(req.tool) is not None:
                await gate.aingest(self.session, req.result, f"tool:{req.tool}")  # may raise
            self._ingested = True
        return await self._told(Resolution.of(req))

    async def _told(self, res: Resolution) -> Resolution:
        """``res`` as the agent may see it: a reviewer's edit through the session's data view
        (``Gate.aview_edit``), when the queue has a gate (as it is, when it has none)."""
        gate = self.queue.gate
        if res.edit is None or gate is None:
            return res
        return dataclasses.replace(res, edit=await gate.aview_edit(self.session, res.edit))

    def poll(self, *, execute: bool = True) -> Resolution:
        """Synchronous ``apoll``."""
        return run_sync(self.apoll(execute=execute))

    async def aoutcome(self, timeout: float, *, execute: bool = True) -> Resolution:
        """Wait at most ``timeout`` seconds for the request to be done (executed, failed,
        denied, expired or cancelled); return where it stands then (``done`` false if the
        time ran out first). Polls with exponential backoff, from ``interval`` up to
        ``max_interval`` seconds."""
        deadline = time.monotonic() + timeout
        delay = self.interval
        while True:
            res = await self.apoll(execute=execute)
            left = deadline - time.monotonic()
            if res.done or left <= 0:
                return res
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, self.max_interval)

    def outcome(self, timeout: float, *, execute: bool = True) -> Resolution:
        """Synchronous ``aoutcome``. Inside a running event loop, use ``aoutcome``."""
        return run_sync(self.aoutcome(timeout, execute=execute))

    def cancel(self, reason: str | None = None) -> Resolution:
        """Withdraw the request while it is pending (the agent no longer wants the action).
        Only the session that made the call may (``AccessDeniedError`` otherwise)."""
        req = self._get()  # the request's session, agent and tenant never change
        done = self.queue.requests.cancel(req.id, by=f"agent:{req.agent}", note=reason)
        return run_sync(self._told(Resolution.of(done)))
