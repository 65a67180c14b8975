"""``FlowControl``: step 4 of the gate pipeline, and the ``ingest`` verb.

It keeps each session's content behind a ``FlowStore`` (in memory by default) and judges each
pending call against it with the pure rules of ``proctor.flow._rules``.
"""

from __future__ import annotations

from collections.abc import Mapping

from proctor.flow._edits import edited_values
from proctor.flow._index import Content, FlowStore, InMemoryFlowStore
from proctor.flow._ingest import Labeled, build_content, render, spotlight
from proctor.flow._labels import PRINCIPAL_SOURCES, Confidentiality, Label, SourceKind, Trust
from proctor.flow._provenance import Traced
from proctor.flow._rules import FlowContext, judge
from proctor.hooks import GateHooks
from proctor.model import Session, Step, StepResult, ToolCall, new_id
from proctor.policy import PolicySet
from proctor.policy._schema import OutputLabels

TOOL_PREFIX = "tool:"


class FlowControl(GateHooks):
    """Labels what enters a session and judges where each argument of a call came from."""

    def __init__(self, policies: PolicySet, store: FlowStore | None = None) -> None:
        self.policies = policies
        self.store: FlowStore = store if store is not None else InMemoryFlowStore()

    async def ingest(
        self,
        session: Session,
        content: object,
        source: str,
        *,
        trust: Trust | str | None = None,
        confidentiality: Confidentiality | str | None = None,
        tenant: str | None = None,
    ) -> Labeled:
        """Label ``content`` from ``source``, record it in the session, and return the text
        the model may see. ``source`` is ``user``/``operator``/``system`` (trusted words),
        ``tool:NAME`` (labeled by the tool's declared output labels) or anything else
        (``email``, ``web``, ``file``...: untrusted)."""
        pol = self.policies.require(session.agent, session.environment)
        labels: OutputLabels | None = None
        if source in PRINCIPAL_SOURCES:
            kind, base_trust, base_conf = SourceKind.PRINCIPAL, Trust.TRUSTED, "internal"
        elif source.startswith(TOOL_PREFIX):
            plan = pol.tools.get(source.removeprefix(TOOL_PREFIX))
            labels = plan.spec.output if plan is not None else OutputLabels()
            base_trust, base_conf = Trust(labels.trust), labels.confidentiality
            kind = SourceKind.RECORD if base_trust is Trust.TRUSTED else SourceKind.THIRD_PARTY
        else:
            kind, base_trust, base_conf = SourceKind.THIRD_PARTY, Trust.UNTRUSTED, "internal"
        if trust is not None:
            base_trust = Trust(trust)
            if kind is not SourceKind.PRINCIPAL:
                kind = SourceKind.RECORD if base_trust is Trust.TRUSTED else SourceKind.THIRD_PARTY
        owner = tenant if tenant is not None else session.tenant
        if owner != session.tenant:  # another tenant's data is never trusted here
            base_trust, kind, labels = Trust.UNTRUSTED, SourceKind.THIRD_PARTY, None
        conf = (
            confidentiality
            if isinstance(confidentiality, Confidentiality)
            else Confidentiality.parse(confidentiality or base_conf)
        )
        base = Label(base_trust, conf, owner)
        record = build_content(
            new_id("cnt"),
            source,
            content,
            kind=kind,
            base=base,
            labels=labels,
            patterns=pol.spec.flow.instruction_patterns,
        )
        await self.store.add(session.id, record)
        text = spotlight(render(content), record, pol.spec.flow.spotlight)
        return Labeled(
            record.id,
            source,
            record.label,
            text,
            tuple(v for p in record.pieces for v in p.values),
            tuple(p.instructions for p in record.pieces if p.instructions),
        )

    async def contents(self, session: Session) -> tuple[Content, ...]:
        return tuple(await self.store.contents(session.id))

    async def provenance(
        self, session: Session, tool: str, args: Mapping[str, object]
    ) -> dict[str, tuple[Traced, ...]]:
        """The provenance of each argument of a would-be call, without judging it."""
        pol = self.policies.require(session.agent, session.environment)
        plan = pol.tools[tool]
        ctx = FlowContext(plan, pol.spec.flow, args, await self.store.contents(session.id))
        return ctx.traced

    async def flow(self, session: Session, call: ToolCall) -> StepResult | None:
        """Step 4. Errors propagate: the gate turns them into a DENY (fail closed)."""
        pol = self.policies.require(session.agent, session.environment)
        plan = pol.tools.get(call.tool)
        if plan is None or not pol.spec.flow.enabled:
            return None  # an unknown tool is denied at resolve; nothing to add
        contents = await self.store.contents(session.id)
        if not contents:
            return None  # nothing entered the session: every value is generated, no rule applies
        ctx = FlowContext(plan, pol.spec.flow, call.args, contents)
        return StepResult.ok(Step.FLOW, judge(ctx))

    async def judge_edit(self, session: Session, call: ToolCall) -> StepResult | None:
        """For an approved call whose arguments a reviewer edited (``call.edit``): the
        changed arguments must not carry values the session saw only in untrusted content
        (see ``proctor.flow._edits``). Errors propagate: the gate denies (fail closed)."""
        if call.edit is None or not call.edit.fields:
            return None
        pol = self.policies.require(session.agent, session.environment)
        plan = pol.tools.get(call.tool)
        if plan is None:
            return None  # an unknown tool is denied at resolve
        contents = await self.store.contents(session.id)
        hits = edited_values(plan, pol.spec.flow, call.args, call.edit.fields, contents)
        return StepResult.ok(Step.FLOW, hits) if hits else None
