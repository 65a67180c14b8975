"""``ApprovalQueue``: the durable queue as the gate sees it (a hook) and as people use it.

As a gate hook it turns every HOLD into a stored request carrying what a reviewer needs
(``on_hold``), applies the kill switch to every call (``admit``), and lets an active
break-glass override lift a hold (``waive``). As an API it offers what the CLI offers: list,
show, approve, deny; pause and resume; break-glass; and, for the agent, a ``Ticket``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine

from proctor.approvals._access import AccessRegistry, Principal, Role
from proctor.approvals._context import SessionMemory, build_context
from proctor.approvals._controls import AgentControls
from proctor.approvals._edit import checked_args
from proctor.approvals._grants import AgentGrants
from proctor.approvals._notify import Notifier
from proctor.approvals._outbox import Recorder
from proctor.approvals._request import ApprovalRequest, ApprovalState, NewRequest
from proctor.approvals._store import ApprovalStore
from proctor.approvals._ticket import Ticket
from proctor.approvals._worker import ApprovalWorker, run_sync
from proctor.audit import AuditLog, events
from proctor.errors import AccessDeniedError, ApprovalEditError, RegistrationError
from proctor.flow import Labeled
from proctor.hooks import GateHooks
from proctor.model import (
    ApprovalRequirement,
    ArgsEdit,
    Decision,
    Environment,
    Outcome,
    RuleHit,
    Session,
    Step,
    StepResult,
    ToolCall,
    Verdict,
    diff_args,
)
from proctor.store import StoreSettings, create_store_engine, migrate

if TYPE_CHECKING:
    from proctor.gate import Gate

KILL_SWITCH = "killswitch.paused"
CONTAINED = "monitor.contained"
T = TypeVar("T")


def _unwaivable(decision: Decision) -> bool:
    """The decision holds for the kill switch, or for a check of the flow step (step 4)."""
    for step in decision.steps:
        for hit in step.hits:
            if hit.verdict is not Verdict.HOLD:
                continue
            if step.step is Step.FLOW or hit.rule_id in (KILL_SWITCH, CONTAINED):
                return True
            if hit.rule_id.startswith("flow."):  # a flow rule, wherever it is reported
                return True
    return False


class ApprovalQueue(GateHooks):
    """Durable approvals for a gate: ``Gate(policies, approvals=ApprovalQueue.open(...))``.

    ``audit``: the log every transition is recorded in (strongly recommended). ``notifier``:
    where notifications go (``WebhookNotifier``). ``clock``: wall-clock seconds (tests).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        audit: AuditLog | None = None,
        notifier: Notifier | None = None,
        clock: Callable[[], float] = time.time,
        max_break_glass_minutes: int = 240,
    ) -> None:
        self.engine = engine
        self.recorder = Recorder(engine, audit, notifier, clock)
        self.access = AccessRegistry(engine, self.recorder, clock)
        digest = audit.digest if audit is not None else None  # masks argument values
        self.requests = ApprovalStore(engine, self.recorder, self.access, clock, digest)
        self.controls = AgentControls(
            engine,
            self.recorder,
            self.access,
            self.requests,
            clock,
            max_break_glass_minutes=max_break_glass_minutes,
        )
        self.grants = AgentGrants(engine, self.recorder, self.access, clock)
        self.memory = SessionMemory(clock=clock)
        # store calls from the gate's coroutines run here: a pool that outlives each event loop
        # (asyncio.to_thread's default executor is created and torn down with every
        # asyncio.run, which the synchronous gate API does per call)
        self._pool = ThreadPoolExecutor(4, thread_name_prefix="proctor-approvals")
        self.gate: Gate | None = None
        self._worker: ApprovalWorker | None = None
        self._clock = clock

    @classmethod
    def open(
        cls,
        store: StoreSettings | str | None = None,
        *,
        audit: AuditLog | None = None,
        notifier: Notifier | None = None,
        migrate_schema: bool = True,
        clock: Callable[[], float] = time.time,
        max_break_glass_minutes: int = 240,
    ) -> ApprovalQueue:
        """The queue in ``store`` (a URL or settings; default ``StoreSettings.from_env()``),
        its schema brought up to date first unless ``migrate_schema`` is false."""
        engine = create_store_engine(store if store is not None else StoreSettings.from_env())
        if migrate_schema:
            migrate(engine)
        return cls(
            engine,
            audit=audit,
            notifier=notifier,
            clock=clock,
            max_break_glass_minutes=max_break_glass_minutes,
        )

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run the blocking store call ``fn(*args)`` off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args))

    # -- the gate's hooks -------------------------------------------------------------------

    def attach(self, gate: Gate) -> None:
        if self.gate is not None and self.gate is not gate:
            raise RegistrationError(
                "this ApprovalQueue already serves another gate; give each gate its own queue "
                "(they may share the store)"
            )
        self.gate = gate
        self._worker = ApprovalWorker(gate, self)

    async def on_ingest(self, session: Session, content: Labeled) -> None:
        self.memory.saw(session, content)

    async def on_outcome(self, session: Session, call: ToolCall, outcome: Outcome) -> None:
        self.memory.did(session, call, outcome)

    async def on_hold(self, session: Session, call: ToolCall, decision: Decision) -> str:
        gate = self._require_gate()
        pol = gate.policies.require(session.agent, session.environment)
        plan = pol.tools.get(call.tool)
        rule = plan.approval_rule if plan is not None else None
        need = decision.approval or ApprovalRequirement(1, ())
        groups = need.groups or (pol.spec.defaults.approval.group or pol.spec.agent.owner,)
        approvers = max(need.approvers, 2 if rule is not None and rule.two_person else 1)
        new = NewRequest(
            session=session,
            call=call,
            held_by=decision.rule_ids,
            reasons=decision.reasons,
            approvers=approvers,
            groups=tuple(groups),
            excluded=(session.principal, session.agent, pol.spec.agent.role),
            context=build_context(session, call, decision, plan, self.memory),
            expires_seconds=rule.expires_seconds if rule is not None else 86400,
            on_expiry=rule.on_expiry if rule is not None else "deny",
            escalate_to=pol.spec.agent.owner,
        )
        req = await self.run(self.requests.create, new)
        return req.id

    async def admit(self, session: Session, call: ToolCall) -> StepResult | None:
        """The kill switch and the monitor's containment: one read of the agent's switch per
        call; an error DENIES."""
        state = await self.run(self.controls.status, session.agent)
        if state is None or state.running:
            return None
        pol = self._require_gate().policies.require(session.agent, session.environment)
        if not state.paused:  # contained: calls above the cap are denied
            plan = pol.tools.get(call.tool)
            if plan is None or state.max_autonomy is None or plan.autonomy <= state.max_autonomy:
                return None
            hit = RuleHit(
                CONTAINED,
                Verdict.DENY,
                f"agent {session.agent!r} is contained to {state.max_autonomy} (by "
                f"{state.by}: {state.reason}); {call.tool!r} is {plan.autonomy}",
            )
            return StepResult.ok(Step.BOUNDARY, [hit])
        verdict = Verdict.DENY if pol.spec.controls.on_pause == "deny" else Verdict.HOLD
        group = pol.spec.defaults.approval.group or pol.spec.agent.owner
        hit = RuleHit(
            KILL_SWITCH,
            verdict,
            f"agent {session.agent!r} is paused (by {state.by}: {state.reason})",
            approval=ApprovalRequirement(1, (group,)) if verdict is Verdict.HOLD else None,
        )
        return StepResult.ok(Step.BOUNDARY, [hit])

    async def waive(self, session: Session, call: ToolCall, decision: Decision) -> RuleHit | None:
        """Break-glass: an override in force for this agent and tool lifts the policy's holds
        (flags, constraints, rate limits, confidence). Never the kill switch, and never a hold
        from the flow step, whatever its rule id (``flow.*`` provenance rules, ``detect.*``
        injection detectors): an argument that came from untrusted content, or a session
        that read hostile text, may be an injection, and an emergency is when one is least
        likely to be noticed."""
        if _unwaivable(decision):
            return None
        pol = self._require_gate().policies.require(session.agent, session.environment)
        settings = pol.spec.controls.break_glass
        if not settings.allowed:
            return None
        grant = await self.run(
            self.controls.active_grant,
            session.agent,
            call.tool,
            session.environment,
            session.tenant,
            settings.max_minutes,
        )
        if grant is None:
            return None
        return RuleHit(
            f"breakglass.{grant.id}",
            Verdict.ALLOW,
            f"break-glass {grant.id} issued by {grant.issued_by}: {grant.reason}",
            {
                "grant_id": grant.id,
                "issued_by": grant.issued_by,
                "expires_at": grant.expires_at,
                "environment": grant.environment,
                "tenant": grant.tenant,
            },
        )

    def _require_gate(self) -> Gate:
        if self.gate is None:
            raise RegistrationError("ApprovalQueue is not attached to a gate")
        return self.gate

    # -- people -------------------------------------------------------------------------------

    def pending(self) -> list[ApprovalRequest]:
        """Pending requests, oldest first (expiring the overdue ones first)."""
        self.requests.expire_due()
        return self.requests.find([ApprovalState.PENDING], limit=1000)

    def get(self, approval_id: str) -> ApprovalRequest:
        return self.requests.get(approval_id)

    def approve(
        self,
        approval_id: str,
        *,
        by: Principal,
        note: str | None = None,
        args: Mapping[str, Any] | None = None,
        if_version: int | None = None,
    ) -> ApprovalRequest:
        """Approve; with ``args``, approve with edit (see ``aapprove``). Synchronous: inside a
        running event loop, ``await aapprove(...)``."""
        if args is None:
            return self.requests.approve(approval_id, by, note, if_version=if_version)
        return run_sync(
            self.aapprove(approval_id, by=by, note=note, args=args, if_version=if_version)
        )

    async def aapprove(
        self,
        approval_id: str,
        *,
        by: Principal,
        note: str | None = None,
        args: Mapping[str, Any] | None = None,
        if_version: int | None = None,
    ) -> ApprovalRequest:
        """Record ``by``'s approval of ``approval_id``. ``args``: approve with edit: the held
        call's arguments become ``args`` (see ``ApprovalStore.approve``: earlier approvals are
        reset, ``by`` counts as one approver of the edited call). When this queue's gate
        governs the agent, the edited call is first decided as it would be before running
        (``Gate.adecide_approved``: schema, constraints, allowlists, rate limits, the kill
        switch, and the changed arguments' provenance); a refusal raises
        ``ApprovalEditError`` naming the rules, records the attempt as an alert, and leaves
        the request as it was. Wherever it runs, the gate decides it again before execution.
        ``if_version``: refuse (``ApprovalVersionError``) if the request changed since the
        reviewer read that version of it; required once the request has been edited."""
        if args is not None:
            edited = checked_args(approval_id, args)
            who = await self.run(self.access.verify, by)
            try:
                who.require(Role.APPROVER, action="approve")
            except AccessDeniedError as exc:  # recorded as the store records a refused vote
                await self.run(
                    functools.partial(self.requests.refused, approval_id, who.name, str(exc))
                )
                exc.recorded = True  # type: ignore[attr-defined]  # the CLI records it once
                raise
            await self._preflight(approval_id, who.name, edited)
            args = edited
        return await self.run(
            functools.partial(
                self.requests.approve, approval_id, by, note, args=args, if_version=if_version
            )
        )

    async def _preflight(self, approval_id: str, editor: str, args: dict[str, Any]) -> None:
        gate = self.gate
        if gate is None:
            return
        req = await self.run(self.requests.get, approval_id)
        try:
            gate.policies.require(req.agent, Environment(req.environment))
        except Exception:  # this gate does not govern the agent: the one that runs it judges
            return
        original = req.original_args
        call = dataclasses.replace(
            req.call(),
            args=args,
            edit=ArgsEdit(original, args, diff_args(original, args), editor),
        )
        hit = RuleHit(f"approval.{req.id}", Verdict.ALLOW, f"approved with edit by {editor}")
        decision = await gate.adecide_approved(req.session(), call, hit, req.held_by)
        if decision.verdict is Verdict.ALLOW:
            return
        why = "; ".join(
            f"{h.rule_id}: {h.reason}" for h in decision.hits if h.verdict is not Verdict.ALLOW
        )
        said = events.scrub({**req.args, **args}, why) or why
        await self.run(
            functools.partial(self.requests.refused, approval_id, editor, said, action="edit")
        )
        raise ApprovalEditError(
            f"the edit of {approval_id} is refused: {why}; the request stays {req.state}, "
            "nothing was voted"
        )

    def deny(self, approval_id: str, *, by: Principal, note: str | None = None) -> ApprovalRequest:
        return self.requests.deny(approval_id, by, note)

    def cancel(
        self, approval_id: str, *, by: Principal, note: str | None = None
    ) -> ApprovalRequest:
        """An admin withdraws a pending request."""
        self.access.verify(by).require(Role.ADMIN, action="cancel requests")
        return self.requests.cancel(approval_id, by=by.name, note=note)

    def authenticate(self, name: str, key: str) -> Principal:
        return self.access.authenticate(name, key)

    # -- the agent -----------------------------------------------------------------------------

    def ticket(self, held: Outcome | str, session: Session) -> Ticket:
        """The ticket of a call ``session`` made and that was held: its ``Outcome`` (status
        pending) or approval id. Polling or cancelling a request another session made raises
        ``AccessDeniedError``."""
        approval_id = held if isinstance(held, str) else held.approval_id
        if not approval_id:
            raise ValueError("this outcome was not held: it has no approval id")
        return Ticket(self, approval_id, session)

    def worker(self) -> ApprovalWorker | None:
        """The worker that executes approved requests through the attached gate."""
        return self._worker

    def close(self) -> None:
        """Relay what is left, stop the notifier (delivering what is queued), release the
        store's connections."""
        try:
            self.recorder.relay()
        finally:
            if self.recorder.notifier is not None:
                self.recorder.notifier.close()
            self._pool.shutdown(wait=True)
            self.engine.dispose()
