"""The gate pipeline: the only place where decisions are enforced.

``Gate.acall(session, tool, args)`` runs resolve → boundary → limits → flow → rate → verdict →
execute → validate output, calling the hooks of ``proctor.hooks`` where later features plug in.
``Gate.call`` is the synchronous wrapper over it (never a second copy of the pipeline).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, ParamSpec, TypeVar

from pydantic import ValidationError

from proctor.approvals import InMemoryApprovals
from proctor.budgets import BudgetLedger, MemoryLedger, Reservation
from proctor.budgets import _enforce as budget
from proctor.credentials import CallContext, CredentialBroker
from proctor.credentials._broker import needs_secrets
from proctor.credentials._context import bound
from proctor.detect import ContentScreen, DetectorRegistry
from proctor.errors import (
    CredentialError,
    GateClosedError,
    MemoryScopeError,
    RegistrationError,
    ToolNotStartedError,
    VaultError,
)
from proctor.flow import Confidentiality, FlowControl, FlowStore, Labeled, Trust
from proctor.hooks import GateHooks
from proctor.memory import Memory, MemoryContext, MemoryItem, assemble, remember
from proctor.model import (
    ArgsEdit,
    Decision,
    Environment,
    Outcome,
    OutcomeStatus,
    Receipt,
    RuleHit,
    Session,
    Step,
    StepResult,
    ToolCall,
    Verdict,
)
from proctor.policy import CompiledPolicy, DecisionRequest, PolicySet, RateRule, evaluate
from proctor.tools import (
    CircuitBreaker,
    RateCounter,
    RateLimiter,
    Tool,
    check_against_policy,
    tool_from_function,
)
from proctor.vault import TOKEN, DataAccess, DataReport, Detokenization
from proctor.vault._rejudge import fit_clear, judge_clear

log = logging.getLogger("proctor.gate")
_NO_STEP: contextlib.nullcontext[None] = contextlib.nullcontext()
P = ParamSpec("P")
R = TypeVar("R")


def _refuse(tool: str, step: Step, rule_id: str, reason: str, policy: str = "") -> Decision:
    hit = RuleHit(rule_id, Verdict.DENY, reason)
    return Decision.combine(tool, [StepResult.ok(step, [hit])], policy)


def _with_step(decision: Decision, step: StepResult) -> Decision:
    return Decision.combine(decision.tool, [*decision.steps, step], decision.policy)


def _settles(hook: GateHooks) -> bool:
    """Whether ``hook`` records a decision with its known outcome itself (``on_settled``)."""
    return type(hook).on_settled is not GateHooks.on_settled


def _known_outcome(call: ToolCall, decision: Decision) -> Outcome:
    """The outcome of a call that is neither queued nor run: ALLOWED for the caller to run it
    (``execute=False``), DENIED otherwise (a DENY, or an approved call held again)."""
    if decision.verdict is Verdict.ALLOW:
        return Outcome(OutcomeStatus.ALLOWED, decision, call.id)
    return Outcome(OutcomeStatus.DENIED, decision, call.id, error="; ".join(decision.reasons))


class GatedTool:
    """A registered tool as the agent sees it: every call goes through the gate."""

    def __init__(self, gate: Gate, tool: Tool) -> None:
        self.gate = gate
        self.tool = tool
        functools.update_wrapper(self, tool.fn)

    def __call__(self, session: Session, /, **kwargs: Any) -> Outcome:
        return self.gate.call(session, self.tool.name, kwargs)

    async def acall(self, session: Session, /, **kwargs: Any) -> Outcome:
        return await self.gate.acall(session, self.tool.name, kwargs)


class Gate:
    """Decides and enforces every tool call of every session it opens."""

    def __init__(
        self,
        policies: CompiledPolicy | PolicySet,
        *,
        hooks: Sequence[GateHooks] = (),
        approvals: GateHooks | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_workers: int = 8,
        flow_store: FlowStore | None = None,
        detectors: DetectorRegistry | None = None,
        data: DataAccess | None = None,
        credentials: CredentialBroker | None = None,
        memory: Memory | None = None,
        rates: RateCounter | None = None,
        budgets: BudgetLedger | None = None,
    ) -> None:
        self.policies = policies if isinstance(policies, PolicySet) else PolicySet.of(policies)
        # data access controls run on every ingest and detokenize at execution (in-memory vault
        # unless given); credentials: secrets and a scoped credential per call, when given
        self.data = data if data is not None else DataAccess(self.policies)
        self.credentials = credentials
        self.approvals: GateHooks = approvals if approvals is not None else InMemoryApprovals()
        self.flow = FlowControl(self.policies, flow_store)  # step 4, and the ingest verb
        # the policy's `detectors:` section, at ingest and step 4 (registry: the default one)
        self.screen = ContentScreen(self.policies, detectors)
        # agent memory (docs/memory.md): context assembly, and its leak filter on every ingest
        self.memory = memory
        guard = [memory.guard(self.policies, self.data.vault)] if memory is not None else []
        self.hooks: list[GateHooks] = [self.flow, self.screen, *guard, *hooks, self.approvals]
        # rate state: in this process, unless a shared counter is given (the gateway's Redis)
        self.rates: RateCounter = rates if rates is not None else RateLimiter(clock)
        # budget accounts (docs/budgets.md): in this process, unless a shared ledger is given
        self.budgets: BudgetLedger = budgets if budgets is not None else MemoryLedger()
        self._clock = clock
        self._tools: dict[str, Tool] = {}
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix="proctor-tool")
        for hook in self.hooks:
            hook.attach(self)
        # hooks that observe steps (metrics, tracing): see ``_step``
        self._observers = [h for h in self.hooks if type(h).step is not GateHooks.step]

    # -- sessions and registration --------------------------------------------------------

    def open_session(
        self,
        agent: str,
        *,
        principal: str,
        tenant: str,
        environment: Environment | str = Environment.PRODUCTION,
        scope: Mapping[str, str] | None = None,
    ) -> Session:
        """Open a session for ``agent``. Raises ``UnknownAgentError`` if no policy declares it.
        ``scope``: what the session is about, for dynamic data scopes (``customer``: the
        customer the ticket belongs to); set by the application, never by the model."""
        env = Environment(environment)
        self.policies.require(agent, env)
        return Session(
            agent=agent,
            principal=principal,
            tenant=tenant,
            environment=env,
            scope=dict(scope or {}),
        )

    def register(self, tool: Tool) -> None:
        """Register an implementation. Every policy naming the tool must agree with it."""
        named = [p for p in self.policies.policies if tool.name in p.tools]
        if not named:
            raise RegistrationError(
                f"no loaded policy names tool {tool.name!r}; it would be "
                "denied on every call (default deny)"
            )
        for pol in named:
            check_against_policy(tool, pol.tools[tool.name])
        with self._lock:
            if tool.name in self._tools:
                raise RegistrationError(f"tool {tool.name!r} is already registered")
            self._tools[tool.name] = tool

    def tool(
        self, name: str | None = None, *, description: str | None = None
    ) -> Callable[[Callable[..., Any]], GatedTool]:
        """Decorator: register a typed function as a tool; calling the result goes through
        the gate and returns an ``Outcome``."""

        def register(fn: Callable[..., Any]) -> GatedTool:
            t = tool_from_function(fn, name or fn.__name__, description)
            self.register(t)
            return GatedTool(self, t)

        return register

    def registered(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def breaker(self, session: Session, tool: str) -> CircuitBreaker:
        """The circuit breaker of ``tool`` under the policy governing ``session``."""
        pol = self.policies.require(session.agent, session.environment)
        key = f"{pol.agent}|{tool}"
        with self._lock:
            br = self._breakers.get(key)
            if br is None:
                spec = pol.tools[tool].spec.circuit_breaker
                br = CircuitBreaker(spec.failures, spec.reset_seconds, self._clock)
                self._breakers[key] = br
            return br

    # -- ingesting ----------------------------------------------------------------------------

    async def aingest(
        self,
        session: Session,
        content: object,
        source: str,
        *,
        trust: Trust | str | None = None,
        confidentiality: Confidentiality | str | None = None,
        tenant: str | None = None,
    ) -> Labeled:
        """Label ``content`` entering the agent's context and record its provenance in the
        session. ``source``: ``user`` or ``operator`` (trusted), ``tool:NAME`` (the tool's
        declared output labels) or anything else (untrusted). Returns the text the model may
        see, untrusted content fenced, after data access controls: records out of the
        session's scope dropped, classified values masked, tokenized or withheld."""
        with self._step("ingest", session, None):
            labeled = await self._ingest(
                session,
                content,
                source,
                trust=trust,
                confidentiality=confidentiality,
                tenant=tenant,
            )
        return labeled[1]

    async def _ingest(
        self,
        session: Session,
        content: object,
        source: str,
        *,
        trust: Trust | str | None = None,
        confidentiality: Confidentiality | str | None = None,
        tenant: str | None = None,
        known: tuple[str, ...] = (),
        tokens: Mapping[str, str] | None = None,
    ) -> tuple[object, Labeled]:
        """(what the model may see of ``content``, its label). ``known``: values that must
        not reach the model (the secrets and credential of the call that produced it);
        ``tokens``: the clear values that call was given, which become their tokens again."""
        for hook in self.hooks:  # the leak filter: another tenant's content is refused (raises)
            await hook.on_content(session, content, source)
        view = await self.data.view(session, content, source, known=known, tokens=tokens)
        await self._on_data(session, view.report)
        labeled = await self.flow.ingest(
            session,
            view.content,
            source,
            trust=trust,
            confidentiality=confidentiality,
            tenant=tenant,
        )
        for hook in self.hooks:  # an ingest that cannot be recorded is refused (raises)
            await hook.on_ingest(session, labeled)
        # detectors: may strip hostile passages, or withhold the content (HostileContentError)
        labeled = await self.screen.screen(session, view.content, labeled)
        return view.content, labeled

    async def _on_data(self, session: Session, report: DataReport) -> None:
        if report.empty:
            return
        for hook in self.hooks:  # reads, drops and refusals are recorded first (raises)
            await hook.on_data(session, report)

    def ingest(
        self,
        session: Session,
        content: object,
        source: str,
        *,
        trust: Trust | str | None = None,
        confidentiality: Confidentiality | str | None = None,
        tenant: str | None = None,
    ) -> Labeled:
        """Synchronous ``aingest``. Inside a running event loop, use ``aingest``."""
        return self._sync(
            self.aingest(
                session,
                content,
                source,
                trust=trust,
                confidentiality=confidentiality,
                tenant=tenant,
            )
        )

    # -- memory -------------------------------------------------------------------------------

    def _memory(self) -> Memory:
        if self.memory is None:
            raise MemoryScopeError("this gate has no memory: Gate(..., memory=Memory(...))")
        return self.memory

    async def acontext(
        self, session: Session, query: str = "", *, limit: int | None = None
    ) -> MemoryContext:
        """The memory items ``session`` may see for ``query``: labeled, fenced and masked as
        the data rules say, each recorded in the session as content, ready for a prompt."""
        memory = self._memory()
        pol = self.policies.require(session.agent, session.environment)

        async def ingest(
            s: Session, text: str, source: str, trust: Trust, conf: Confidentiality
        ) -> Labeled:
            return (await self._ingest(s, text, source, trust=trust, confidentiality=conf))[1]

        return await assemble(memory, session, query, ingest, policy=pol.spec.memory, limit=limit)

    def context(
        self, session: Session, query: str = "", *, limit: int | None = None
    ) -> MemoryContext:
        """Synchronous ``acontext``."""
        return self._sync(self.acontext(session, query, limit=limit))

    async def aremember(
        self,
        session: Session,
        text: str,
        *,
        kind: str = "note",
        derived_from: Sequence[Labeled] = (),
    ) -> MemoryItem:
        """Store ``text`` in ``session``'s memory scope; its origin is ``derived_from`` (the
        contents it comes from; none: the agent's own words, untrusted)."""
        memory = self._memory()
        pol = self.policies.require(session.agent, session.environment)
        return await remember(
            memory,
            session,
            text,
            kind=kind,
            derived_from=derived_from,
            policy=pol.spec.memory,
            vault=self.data.vault,
        )

    def remember(
        self,
        session: Session,
        text: str,
        *,
        kind: str = "note",
        derived_from: Sequence[Labeled] = (),
    ) -> MemoryItem:
        """Synchronous ``aremember``."""
        return self._sync(self.aremember(session, text, kind=kind, derived_from=derived_from))

    # -- deciding -----------------------------------------------------------------------------

    async def adecide(self, session: Session, call: ToolCall, *, flow: bool = True) -> Decision:
        """Steps 1 to 6: the verdict on ``call``, without executing it. Never raises.
        ``flow=False`` skips step 4 (for an approved call: see ``aexecute_approved``)."""
        try:
            pol = self.policies.require(session.agent, session.environment)
        except Exception as exc:
            return _refuse(call.tool, Step.RESOLVE, "resolve.agent", str(exc))
        extra: list[StepResult] = []
        with self._step("checks", session, call):
            for hook in self.hooks:
                try:
                    res = await hook.flow(session, call) if flow else None
                except Exception as exc:
                    res = StepResult.error(Step.FLOW, f"flow.{type(hook).__name__}", exc)
                if res is not None:
                    extra.append(res)
                try:  # agent-level controls: the kill switch
                    res = await hook.admit(session, call)
                except Exception as exc:
                    res = StepResult.error(Step.BOUNDARY, f"admit.{type(hook).__name__}", exc)
                if res is not None:
                    extra.append(res)
        try:
            usage = await self._rates("usage", pol.rate_rules_for(call.tool), session)
            req = DecisionRequest(
                tool=call.tool,
                args=call.args,
                agent=session.agent,
                environment=session.environment,
                principal=session.principal,
                tenant=session.tenant,
                usage=usage,
                extra_steps=tuple(extra),
                confidence=call.confidence,
                session=session.id,
                budget_clear=self._budget_clear(session),
            )
            req = await budget.with_usage(self.budgets, pol, req)
            with self._step("evaluate", session, call):
                decision = evaluate(pol, req)
        except Exception as exc:  # evaluate does not raise; this guards the glue around it
            return _refuse(
                call.tool,
                Step.VERDICT,
                "verdict.error",
                f"decision failed, denying (fail closed): {type(exc).__name__}: {exc}",
                pol.name,
            )
        if decision.verdict is not Verdict.HOLD:
            return decision
        with self._step("waive", session, call):
            for hook in self.hooks:  # break-glass: the one way to lift a HOLD without a person
                try:
                    waiver = await hook.waive(session, call, decision)
                    if waiver is not None:
                        return decision.waived(waiver)
                except Exception:
                    log.exception("waive hook %s failed; the call stays held", type(hook).__name__)
        return decision

    # -- the pipeline -------------------------------------------------------------------------

    async def acall(
        self,
        session: Session,
        tool: str,
        args: Mapping[str, object],
        *,
        reason: str | None = None,
        confidence: float | None = None,
    ) -> Outcome:
        """Decide ``tool(args)`` and, if allowed, execute it. Never raises for a refused call."""
        call = ToolCall(tool, dict(args), session.id, reason=reason, confidence=confidence)
        with self._step("call", session, call):
            return await self._enforce(session, call, await self.adecide(session, call))

    async def aauthorize(
        self,
        session: Session,
        tool: str,
        args: Mapping[str, object],
        *,
        reason: str | None = None,
        confidence: float | None = None,
    ) -> Outcome:
        """Decide ``tool(args)`` for a caller that executes the tool itself (the HTTP gateway's
        ``decide``): the same steps as ``acall`` up to execution. An ALLOW takes its rate slot,
        is recorded and comes back ``ALLOWED``; a HOLD is queued for approval (``PENDING``); a
        DENY is ``DENIED``. The tool need not be registered here. Never raises."""
        call = ToolCall(tool, dict(args), session.id, reason=reason, confidence=confidence)
        return await self._enforce(session, call, await self.adecide(session, call), execute=False)

    async def aexecute_approved(
        self,
        session: Session,
        call: ToolCall,
        approval: RuleHit,
        covers: Collection[str],
        *,
        execute: bool = True,
    ) -> Outcome:
        """Execute a held call that people approved (``proctor.approvals`` calls this once it
        has claimed the request, exactly once). The call is decided again, so that a policy
        change, the kill switch or a full rate limit still count: ``approval``, an ALLOW hit
        naming the approvers, lifts the holds whose rule ids are in ``covers`` and nothing
        else; a DENY, or a hold for a reason the approvers did not see, refuses it. Flow
        (step 4) is not judged again: the approvers reviewed where the arguments came from
        when the agent made the call, and content that entered the session since cannot have
        shaped it. Then the same steps as any allowed call: record, execute, outcome hooks.
        ``execute`` false: for a caller that runs the tool itself, the verdict is recorded and
        an allowed call comes back ``ALLOWED``.

        A call whose arguments reviewers edited (``call.edit``) is decided on the edited
        arguments, and its changed arguments' provenance is judged (``FlowControl.judge_edit``);
        the outcome carries the edit, so that the agent learns what changed."""
        decision = await self.adecide_approved(session, call, approval, covers)
        outcome = await self._enforce(session, call, decision, approved=True, execute=execute)
        if call.edit is None:
            return outcome
        return replace(outcome, edit=await self.aview_edit(session, call.edit))

    async def aview_edit(self, session: Session, edit: ArgsEdit) -> ArgsEdit:
        """``edit`` as the agent of ``session`` may see it: its values pass through the
        session's data view (source ``approval:edit``) as a tool's output does, so a value a
        reviewer typed in clear is masked or tokenized as the data rules say. Fails closed:
        if it cannot be viewed, every value is withheld."""
        try:
            view = await self.data.view(session, edit.values(), "approval:edit")
            await self._on_data(session, view.report)
            content = view.content
            if not isinstance(content, dict):
                raise TypeError(f"the view of an edit is a {type(content).__name__}")
            return edit.with_values(content)
        except Exception as exc:
            log.warning(
                "could not mask the edit told to session %s: %s", session.id, type(exc).__name__
            )
            return edit.withheld()

    async def adecide_approved(
        self, session: Session, call: ToolCall, approval: RuleHit, covers: Collection[str]
    ) -> Decision:
        """The verdict ``aexecute_approved`` enforces, without recording or executing it (an
        approval queue also asks it before it accepts an edit). Never raises."""
        decision = await self.adecide(session, call, flow=False)
        if call.edit is not None:
            try:
                judged = await self.flow.judge_edit(session, call)
            except Exception as exc:
                judged = StepResult.error(Step.FLOW, "flow.edited", exc)
            if judged is not None:
                decision = _with_step(decision, judged)
        if decision.verdict is Verdict.HOLD:
            new = sorted(set(decision.rule_ids) - set(covers))
            if new:
                hit = RuleHit(
                    "approval.uncovered",
                    Verdict.DENY,
                    f"held now for {', '.join(new)}, which the approval did not cover; "
                    "a new request is needed",
                )
                decision = _with_step(decision, StepResult.ok(Step.VERDICT, [hit]))
            else:
                decision = decision.waived(approval)
        return decision

    async def _enforce(
        self,
        session: Session,
        call: ToolCall,
        decision: Decision,
        *,
        approved: bool = False,
        execute: bool = True,
    ) -> Outcome:
        """Steps 6 to 8 on a decided call: record, then hold, deny or execute. An approved
        call that is held again (a concurrent call filled its rate limit) is refused, not
        queued a second time. ``execute`` false: an allowed call is recorded, not run.

        A call that is neither queued nor run has its outcome once it is decided; hooks that
        override ``on_settled`` (the audit hook) then record the decision and the outcome
        together, after the other hooks' ``on_decision`` and before their ``on_outcome``. For
        ``decide`` that is one append of two records instead of two appends, each awaited:
        one group commit and one wake-up of the event loop per decision, not two. Nothing
        else changes: the answer waits until both records are committed; if the append
        fails, the call is refused (``record.error``) and its rate slot and budget are given
        back; the outcome record links to the decision record; the receipt is the same."""
        tool = call.tool
        impl = self._tools.get(tool)
        if impl is None and execute and decision.verdict is not Verdict.DENY:
            unregistered = RuleHit(
                "resolve.unregistered",
                Verdict.DENY,
                f"tool {tool!r} has no registered implementation in this gate",
            )
            decision = _with_step(decision, StepResult.ok(Step.RESOLVE, [unregistered]))
        took_slot = False
        spend: Reservation | None = None
        if decision.verdict is Verdict.ALLOW:
            decision = await self._take_rate_slot(session, call, decision)
            took_slot = decision.verdict is Verdict.ALLOW
        if decision.verdict is Verdict.ALLOW:  # budgets: reserved now, committed once it ran
            decision, spend = await self._reserve_budget(session, call, decision)
            if spend is None and took_slot:
                await self._release_rate_slot(session, call)
                took_slot = False
        # the outcome is known now unless a hold is to be queued or a tool to be run: then the
        # hooks that can record a decision with its outcome do so at once (``on_settled``)
        queued = decision.verdict is Verdict.HOLD and not approved
        runs = decision.verdict is Verdict.ALLOW and execute
        together = [] if queued or runs else [h for h in self.hooks if _settles(h)]
        failures: list[BaseException] = []
        settled: Outcome | None = None
        receipt = None
        with self._step("record", session, call):
            for hook in self.hooks:
                if hook in together:
                    continue
                try:  # every hook sees the decision, even after one failed
                    await hook.on_decision(session, call, decision)
                except Exception as exc:
                    log.exception("on_decision hook %s failed; refusing", type(hook).__name__)
                    failures.append(exc)
            if together:
                settled, receipt = await self._settle(session, call, decision, together, failures)
        if failures:
            decision = _with_step(
                decision, StepResult.error(Step.VERDICT, "record.error", failures[0])
            )
            if took_slot:
                await self._release_rate_slot(session, call)
            await budget.settle(self.budgets, spend, ran=False)
            spend = None
        if settled is None and decision.verdict is Verdict.HOLD and not approved:
            with self._step("hold", session, call):
                outcome = await self._hold(session, call, decision)
        elif settled is not None or decision.verdict is not Verdict.ALLOW or not execute:
            outcome = settled or _known_outcome(call, decision)
            if outcome.status is OutcomeStatus.ALLOWED:  # the caller runs it: what it spends
                await budget.settle(self.budgets, spend, ran=True)  # counts now (budgets.md)
        elif impl is None:  # unreachable: an unregistered tool is denied above
            outcome = Outcome(OutcomeStatus.DENIED, decision, call.id, error="not registered")
        else:
            ran = budget.Ran()
            try:
                with self._step("execute", session, call):
                    outcome = await self._execute(session, call, decision, impl, ran)
            finally:  # spent if the tool ran (or may have: a timeout); else given back
                await budget.settle(self.budgets, spend, ran=ran.effect)
        with self._step("outcome", session, call):
            for hook in self.hooks:
                if settled is not None and hook in together:
                    continue  # recorded with the decision
                try:
                    signed = await hook.on_outcome(session, call, outcome)
                    receipt = receipt or signed
                except Exception:
                    log.exception("on_outcome hook failed for call %s", call.id)
        return outcome if receipt is None else replace(outcome, receipt=receipt)

    async def _settle(
        self,
        session: Session,
        call: ToolCall,
        decision: Decision,
        together: Sequence[GateHooks],
        failures: list[BaseException],
    ) -> tuple[Outcome | None, Receipt | None]:
        """``together`` record ``decision`` with its known outcome (``on_settled``), after the
        other hooks' ``on_decision``: (the outcome, its receipt) if all of them did; (None,
        None) if any hook failed (``failures``), and the gate refuses the call. Once a hook
        failed, the rest see the decision alone (``on_decision``), as every hook sees it; the
        refusal then reaches every hook as an outcome, including one that recorded the call
        as allowed before a later one failed (the last outcome recorded of a call counts)."""
        outcome = _known_outcome(call, decision)
        receipt = None
        for hook in together:
            try:
                if failures:
                    await hook.on_decision(session, call, decision)
                else:
                    signed = await hook.on_settled(session, call, decision, outcome)
                    receipt = receipt or signed
            except Exception as exc:
                log.exception("on_settled hook %s failed; refusing", type(hook).__name__)
                failures.append(exc)
        return (None, None) if failures else (outcome, receipt)

    def call(
        self,
        session: Session,
        tool: str,
        args: Mapping[str, object],
        *,
        reason: str | None = None,
        confidence: float | None = None,
    ) -> Outcome:
        """Synchronous ``acall``. Inside a running event loop, use ``acall``."""
        return self._sync(self.acall(session, tool, args, reason=reason, confidence=confidence))

    def decide(
        self,
        session: Session,
        tool: str,
        args: Mapping[str, object],
        *,
        reason: str | None = None,
        confidence: float | None = None,
    ) -> Decision:
        """Synchronous ``adecide``: the verdict only, for agents that execute tools themselves."""
        call = ToolCall(tool, dict(args), session.id, reason=reason, confidence=confidence)
        return self._sync(self.adecide(session, call))

    def execute_approved(
        self, session: Session, call: ToolCall, approval: RuleHit, covers: Collection[str]
    ) -> Outcome:
        """Synchronous ``aexecute_approved``."""
        return self._sync(self.aexecute_approved(session, call, approval, covers))

    @staticmethod
    def _sync(coro: Awaitable[R]) -> R:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(_await(coro))
        if asyncio.iscoroutine(coro):
            coro.close()
        raise GateClosedError(
            "Gate.call() was called inside a running event loop; "
            "use `await gate.acall(...)` instead"
        )

    async def _rates(self, verb: str, rules: Sequence[RateRule], session: Session) -> Any:
        """``self.rates.<verb>(rules, agent, session id)``: its coroutine ``a<verb>`` if it has
        one (a counter in Redis: no blocking round trip in the event loop)."""
        if not rules:  # no rule, no question (and no round trip)
            return {} if verb == "usage" else None
        coro = getattr(self.rates, "a" + verb, None)
        if coro is not None:
            return await coro(rules, session.agent, session.id)
        return getattr(self.rates, verb)(rules, session.agent, session.id)

    async def _take_rate_slot(
        self, session: Session, call: ToolCall, decision: Decision
    ) -> Decision:
        try:
            pol = self.policies.require(session.agent, session.environment)
            full = await self._rates("acquire", pol.rate_rules_for(call.tool), session)
        except Exception as exc:
            return _with_step(decision, StepResult.error(Step.RATE, "rate.error", exc))
        if full is None:
            return decision
        hit = RuleHit(
            full.id,
            full.verdict,
            f"rate limit {full.rate} per {full.scope} reached by a concurrent call",
            approval=full.approval,
        )
        return _with_step(decision, StepResult.ok(Step.RATE, [hit]))

    async def _reserve_budget(
        self, session: Session, call: ToolCall, decision: Decision
    ) -> tuple[Decision, Reservation | None]:
        try:
            pol = self.policies.require(session.agent, session.environment)
        except Exception as exc:
            return _with_step(decision, StepResult.error(Step.RATE, "budget.error", exc)), None
        clear = self._budget_clear(session)
        return await budget.reserve(self.budgets, pol, session, call, decision, clear)

    def _budget_clear(self, session: Session) -> Callable[[str], str]:
        """Tokens in a budget key -> their clear values (tokens differ per session; the
        account must not). A token that does not detokenize here raises: the budget denies."""
        vault = self.data.vault

        def swap(m: re.Match[str]) -> str:
            return vault.detokenize(m.group(0), tenant=session.tenant, session_id=session.id).value

        return lambda value: TOKEN.sub(swap, value)

    async def _release_rate_slot(self, session: Session, call: ToolCall) -> None:
        try:
            pol = self.policies.require(session.agent, session.environment)
            await self._rates("release", pol.rate_rules_for(call.tool), session)
        except Exception:
            log.exception("could not release a rate slot for call %s", call.id)

    async def _hold(self, session: Session, call: ToolCall, decision: Decision) -> Outcome:
        approval_id = None
        try:
            for hook in self.hooks:
                approval_id = await hook.on_hold(session, call, decision)
                if approval_id:
                    break
        except Exception as exc:
            log.exception("on_hold hook failed; denying the held call")
            decision = _with_step(decision, StepResult.error(Step.VERDICT, "hold.error", exc))
            return Outcome(
                OutcomeStatus.DENIED, decision, call.id, error="; ".join(decision.reasons)
            )
        if not approval_id:
            decision = _with_step(
                decision,
                StepResult.error(
                    Step.VERDICT, "hold.unqueued", "no approval queue accepted the held call"
                ),
            )
            return Outcome(
                OutcomeStatus.DENIED, decision, call.id, error="; ".join(decision.reasons)
            )
        return Outcome(
            OutcomeStatus.PENDING,
            decision,
            call.id,
            approval_id=approval_id,
            error="held for approval: " + "; ".join(decision.reasons),
        )

    async def _execute(
        self, session: Session, call: ToolCall, decision: Decision, impl: Tool, ran: budget.Ran
    ) -> Outcome:
        pol = self.policies.require(session.agent, session.environment)
        spec = pol.tools[call.tool].spec
        try:  # before the breaker: a call that cannot reach the tool is no trial of it
            kwargs = impl.params_model.model_validate(call.args).__dict__
        except ValidationError as exc:
            return Outcome(
                OutcomeStatus.FAILED,
                decision,
                call.id,
                error=f"arguments do not fit {call.tool!r}: {exc}",
            )
        prepared = await self._prepare(session, call, decision, impl, kwargs)
        if isinstance(prepared, Outcome):
            return prepared
        kwargs, ctx, clear = prepared
        breaker = self.breaker(session, call.tool)
        if not breaker.allow():
            return Outcome(
                OutcomeStatus.FALLBACK,
                decision,
                call.id,
                result=spec.fallback,
                error=f"circuit open for {call.tool!r} after repeated failures; "
                f"not called (retry after {breaker.retry_after():.0f}s)",
            )
        started = time.perf_counter()

        def done(
            status: OutcomeStatus,
            result: object = None,
            error: str | None = None,
            view: str | None = None,
        ) -> Outcome:
            ms = (time.perf_counter() - started) * 1000
            said = None if error is None else clear.retoken(error)  # never a clear value
            return Outcome(status, decision, call.id, result, said, duration_ms=ms, view=view)

        ran.effect = True  # from here its budget stays spent, unless it raises: a call that timed
        # out or was cancelled may still complete (its effect is unknown; fail closed)
        try:
            with bound(ctx):  # call_context() in the tool; carried into the worker thread
                if impl.is_async:
                    result = await asyncio.wait_for(impl.fn(**kwargs), spec.timeout_seconds)
                else:
                    loop = asyncio.get_running_loop()
                    run = functools.partial(contextvars.copy_context().run, impl.fn, **kwargs)
                    fut = loop.run_in_executor(self._executor, run)
                    result = await asyncio.wait_for(fut, spec.timeout_seconds)
        except TimeoutError:
            breaker.record_failure()
            return done(
                OutcomeStatus.FAILED,
                error=f"tool {call.tool!r} timed out after {spec.timeout_seconds}s; its effect is "
                "unknown (a synchronous tool may still complete): check before retrying",
            )
        except Exception as exc:
            # once started, a tool that raised may have done its work (an HTTP 502 after the
            # payment, a read timeout): its budget stays spent unless it proves it never started
            ran.effect = not isinstance(exc, ToolNotStartedError)
            breaker.record_failure()
            try:  # the message is content too: the model, the audit and approvers read it
                view = await self.data.view(
                    session,
                    str(exc),
                    f"error:{call.tool}",
                    known=ctx.sensitive_values,
                    tokens=clear.tokens,
                )
                await self._on_data(session, view.report)
                said = str(view.content)
            except Exception as failed:  # no traceback: its context holds the clear message
                log.warning(
                    "could not mask the error of call %s: %s", call.id, type(failed).__name__
                )
                said = "[message withheld: it could not be masked]"
            return done(
                OutcomeStatus.FAILED,
                error=f"tool {call.tool!r} raised {type(exc).__name__}: {said}",
            )
        if impl.output is not None:
            try:
                result = impl.output.validate_python(result, strict=True)
            except ValidationError as exc:
                breaker.record_failure()
                return done(
                    OutcomeStatus.FAILED,
                    error=f"tool {call.tool!r} returned output that fails its schema "
                    f"({exc.error_count()} error(s)); result withheld",
                )
        breaker.record_success()
        try:  # step 7: the output enters the session as content, with the tool's labels
            with self._step("ingest", session, call):
                result, seen = await self._ingest(
                    session,
                    result,
                    f"tool:{call.tool}",
                    known=ctx.sensitive_values,
                    tokens=clear.tokens,
                )
        except Exception as exc:
            log.exception("could not ingest the output of call %s", call.id)
            return done(
                OutcomeStatus.FAILED,
                error=f"tool {call.tool!r} ran, but its output could not be labeled "
                f"({type(exc).__name__}: {exc}); result withheld (fail closed)",
            )
        return done(OutcomeStatus.EXECUTED, result, view=seen.text)

    async def _prepare(
        self,
        session: Session,
        call: ToolCall,
        decision: Decision,
        impl: Tool,
        kwargs: dict[str, Any],
    ) -> tuple[dict[str, Any], CallContext, Detokenization] | Outcome:
        """Inside the gate, just before the tool runs: tokens in the arguments become clear
        values where the policy lets this tool see them; the call's secrets resolve and its
        credential is minted. Any refusal: DENIED, the tool never runs (fail closed).

        Arguments that changed are judged again as the tool will receive them: the tool's
        signature and the policy (schema, constraints) on the clear values. The verdict must
        still allow, or hold only for what the call was already held for (and approved, or
        waived by break-glass). What is said about it names tokens, never the values."""
        clear: Detokenization | None = None
        try:
            pol = self.policies.require(session.agent, session.environment)
            clear = await self.data.detokenize(session, call.tool, call.args)
            await self._on_data(session, clear.report)
            if clear.args is None:
                raise VaultError("; ".join(clear.report.refused))
            if clear.tokens:  # judged again on what the tool will receive
                kwargs = fit_clear(impl.name, impl.params_model, clear)
                against = judge_clear(pol, session, call, clear)
                if against:
                    refused = _with_step(decision, StepResult.ok(Step.EXECUTE, against))
                    why = "; ".join(h.reason for h in against)
                    return Outcome(
                        OutcomeStatus.DENIED, refused, call.id, error=f"not executed: {why}"
                    )
            if self.credentials is not None:
                ctx = self.credentials.prepare(session, call, pol)
            elif needs_secrets(pol, call.tool):
                raise CredentialError(
                    f"the policy gives {call.tool!r} secrets, but this gate has no credential "
                    "broker (Gate(..., credentials=CredentialBroker(...)))"
                )
            else:
                ctx = CallContext(
                    call.tool, call.id, session.id, session.tenant, session.environment
                )
        except Exception as exc:
            log.warning("call %s refused at execution: %s", call.id, type(exc).__name__)
            said = clear.retoken(str(exc)) if clear is not None else str(exc)
            refused = _with_step(decision, StepResult.error(Step.EXECUTE, "execute.refused", said))
            return Outcome(OutcomeStatus.DENIED, refused, call.id, error=f"not executed: {said}")
        return kwargs, ctx, clear

    def _step(
        self, name: str, session: Session, call: ToolCall | None
    ) -> contextlib.AbstractContextManager[None]:
        """Extension point for metrics and tracing: every hook's ``step`` observer runs around
        the step. An observer that fails is logged; it never changes the call. Without
        observers, a shared do-nothing context (a step costs no generator)."""
        if not self._observers:
            return _NO_STEP
        return self._observed(name, session, call)

    @contextlib.contextmanager
    def _observed(self, name: str, session: Session, call: ToolCall | None) -> Iterator[None]:
        entered: list[contextlib.AbstractContextManager[object]] = []
        for hook in self._observers:
            try:
                cm = hook.step(name, session, call)
                if cm is not None:
                    cm.__enter__()
                    entered.append(cm)
            except Exception:
                log.exception("step observer %s failed", type(hook).__name__)
        error: BaseException | None = None
        try:
            yield
        except BaseException as exc:
            error = exc
            raise
        finally:
            for cm in reversed(entered):
                try:
                    cm.__exit__(type(error) if error else None, error, None)
                except Exception:
                    log.exception("step observer failed on exit")

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


async def _await(aw: Awaitable[R]) -> R:
    return await aw
