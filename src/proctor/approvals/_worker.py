"""Executing approved requests, exactly once, and recovering after a crash.

``ApprovalWorker(gate, queue).aexecute(id)`` claims an approved request (approved → executing,
with its idempotency key, in one transaction: only one executor anywhere wins), runs it through
``Gate.aexecute_approved`` (which decides it again and reuses the gate's execute step), and
records executed or failed. ``arun_once`` is the recovery pass a restarted process runs: expire
what timed out, fail executions whose executor died after claiming (never re-run: the tool may
have acted), execute every approved request nobody claimed, and relay the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import socket
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from proctor.approvals._request import ApprovalState
from proctor.errors import GateClosedError
from proctor.model import (
    Decision,
    Environment,
    Outcome,
    OutcomeStatus,
    RuleHit,
    Step,
    StepResult,
    Verdict,
    new_id,
)

if TYPE_CHECKING:
    from proctor.approvals._queue import ApprovalQueue
    from proctor.gate import Gate

log = logging.getLogger("proctor.approvals.worker")
T = TypeVar("T")

_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar("proctor_idempotency_key")


def idempotency_key() -> str | None:
    """Inside a tool run for an approved request: the request's idempotency key (one per
    request, ever). Pass it to the system the tool calls (an ``Idempotency-Key`` header) so
    that even a retry after an unknown outcome cannot act twice. None in ordinary calls."""
    return _KEY.get(None)


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code (not inside a running loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise GateClosedError("called the synchronous API inside a running event loop; await it")


@dataclass
class Recovery:
    """What one recovery pass did."""

    expired: list[str] = field(default_factory=list)
    failed_stale: list[str] = field(default_factory=list)
    executed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # approved, but paused or not runnable here
    break_glass_ended: list[str] = field(default_factory=list)


class ApprovalWorker:
    """Executes approved requests through ``gate``: the gate whose tools they call."""

    def __init__(
        self,
        gate: Gate,
        queue: ApprovalQueue,
        *,
        executor: str | None = None,
        grace_seconds: float = 60.0,
    ) -> None:
        self.gate = gate
        self.queue = queue
        self.executor = executor or f"{socket.gethostname()[:24]}:{os.getpid()}:{new_id('x')[2:]}"
        self.grace_seconds = grace_seconds

    def can_run(self, agent: str, environment: str, tool: str) -> bool:
        """Whether this gate governs ``agent`` and has ``tool`` registered."""
        try:
            pol = self.gate.policies.get(agent, Environment(environment))
        except ValueError:
            return False
        return pol is not None and tool in pol.tools and self.gate.registered(tool) is not None

    async def aexecute(self, approval_id: str) -> Outcome | None:
        """Execute ``approval_id`` if it is approved and nobody claimed it; return the outcome,
        or None when there was nothing to do here (not approved, claimed by another executor,
        the agent is paused, or this gate does not have the tool)."""
        store = self.queue.requests
        req = await self.queue.run(store.get, approval_id)
        if req.state is not ApprovalState.APPROVED:
            return None
        if not self.can_run(req.agent, req.environment, req.tool):
            return None
        if await self.queue.run(self.queue.controls.paused, req.agent) is not None:
            log.info("not executing %s: agent %s is paused", approval_id, req.agent)
            return None
        pol = self.gate.policies.require(req.agent, req.session().environment)
        lease = pol.tools[req.tool].spec.timeout_seconds + self.grace_seconds
        claim = await self.queue.run(store.claim, approval_id, self.executor, lease)
        if claim is None:
            return None
        req = claim.request
        approval = RuleHit(
            f"approval.{req.id}",
            Verdict.ALLOW,
            f"approved by {', '.join(req.approved_by)} ({req.id})"
            # the fields, never the values: this reason is recorded in the audit log
            + (
                f", with {', '.join(sorted(req.edit.fields))} edited by {req.edit.by}"
                if req.edit is not None
                else ""
            ),
        )
        token = _KEY.set(claim.key)
        try:
            outcome = await self.gate.aexecute_approved(
                req.session(), req.call(), approval, req.held_by
            )
        except Exception as exc:  # the gate does not raise; if it did, the effect is unknown
            log.exception("executing approved request %s failed", req.id)
            step = StepResult.error(Step.EXECUTE, "approval.error", exc)
            outcome = Outcome(
                OutcomeStatus.FAILED,
                Decision.combine(req.tool, [step]),
                req.call_id,
                error=f"execution raised {type(exc).__name__}: {exc}; the tool may or may not "
                f"have run: check before retrying (idempotency key {claim.key})",
            )
        finally:
            _KEY.reset(token)
        await self.queue.run(store.finish, claim, outcome)
        return outcome

    def execute(self, approval_id: str) -> Outcome | None:
        """Synchronous ``aexecute``."""
        return run_sync(self.aexecute(approval_id))

    async def arun_once(self, limit: int = 100) -> Recovery:
        """One recovery pass (see the module docstring). Safe to run in every process at once."""
        q = self.queue
        report = Recovery()
        report.expired = [r.id for r in await q.run(q.requests.expire_due)]
        report.failed_stale = [r.id for r in await q.run(q.requests.fail_stale)]
        report.break_glass_ended = [g.id for g in await q.run(q.controls.record_ended)]
        for req in await q.run(q.requests.runnable, limit):
            outcome = await self.aexecute(req.id)
            (report.executed if outcome is not None else report.skipped).append(req.id)
        await q.run(q.recorder.relay)
        return report

    def run_once(self, limit: int = 100) -> Recovery:
        return run_sync(self.arun_once(limit))

    async def arun(self, interval: float = 5.0, stop: asyncio.Event | None = None) -> None:
        """Recovery passes every ``interval`` seconds until ``stop`` is set. A pass that fails
        (the store is down) is logged and retried at the next interval."""
        stop = stop or asyncio.Event()
        while not stop.is_set():
            try:
                await self.arun_once()
            except Exception:
                log.exception("approval worker pass failed; retrying in %.1fs", interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
