"""The gate's extension points: the one documented list of where later features plug in.

A hook object implements any subset of these methods (subclass ``GateHooks`` and override).
The gate calls every registered hook, in registration order. Failure rules:

- ``flow`` errors turn into a DENY of the flow step (fail closed).
- ``on_decision`` is the audit point: if any hook raises, the call is refused (DENY), because
  an action that cannot be recorded must not happen. Every hook still sees the decision.
- ``on_hold`` must return the id of the approval request it created; if none does, or one
  raises, the call is DENIED: a hold is never a silent failure.
- ``on_content`` sees every piece of content on its way into a session, before data access
  controls run (the leak filter of ``proctor.memory``); if it raises, the content is refused
  as for ``on_ingest``.
- ``on_ingest`` sees every piece of content that enters a session (audit); if it raises, the
  content is refused: ``ingest`` raises, and a tool's output is withheld (fail closed).
- ``on_data`` sees what data access controls did (classified fields read and in which form,
  out-of-scope records dropped, tokens detokenized or refused); if it raises, the content is
  refused or the call does not run (fail closed), as for ``on_ingest``.
- ``on_outcome`` runs after execution; its errors are logged and do not change the outcome,
  since the action already happened and cannot be undone. It may return a signed receipt of
  the recorded outcome (the audit hook does); the gate attaches the first one to the outcome
  it returns (``Outcome.receipt``).
- ``on_settled`` is ``on_decision`` and ``on_outcome`` at once, for a call whose outcome is
  known when it is decided (nothing to execute, nothing to queue: a DENY, or an ALLOW for a
  caller that runs the tool itself, as the gateway's ``decide``). Its default calls the two;
  a hook that records overrides it to record both in one transaction (the audit hook: one
  commit instead of two, and both durable before the answer). If it raises, the call is
  refused as when ``on_decision`` raises, and every hook then sees ``on_outcome`` with the
  refusal. The gate calls it only on the hooks that override it (the others get
  ``on_decision`` and ``on_outcome`` as for any call), after every other hook's
  ``on_decision`` and before any ``on_outcome``: each hook still sees a call's decision before
  its outcome, and none is told an outcome that another hook's ``on_decision`` then refuses.
- ``admit`` judges agent-level controls with every call (the kill switch): like ``flow`` it can
  only tighten, and its errors DENY.
- ``waive`` is the one point that can loosen a verdict: break-glass. It sees a HOLD decision
  and may return an ALLOW hit naming an active override; the gate then lifts the holds (never
  a DENY). If it raises, nothing is waived (fail closed).
- ``on_findings`` sees what the content detectors judged, at ingest and on a call's
  arguments (metrics, monitoring); its errors are logged and change nothing, since the
  judgement itself already acted (held, denied, stripped or quarantined).
- ``step`` observes a pipeline step (metrics, tracing): it returns a context manager the gate
  enters around the step, or None. Its errors are logged and never change a decision.
- ``attach`` is called once by the gate that runs the hook.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

from proctor.model import (
    Decision,
    Finding,
    Outcome,
    Receipt,
    RuleHit,
    Session,
    StepResult,
    ToolCall,
)

if TYPE_CHECKING:
    from proctor.flow import Labeled
    from proctor.gate import Gate
    from proctor.vault import DataReport


class GateHooks:
    """Base class with no-op implementations of every extension point."""

    async def flow(self, session: Session, call: ToolCall) -> StepResult | None:
        """Step 4 of the pipeline: judge where the arguments came from. None: no opinion."""
        return None

    async def on_decision(self, session: Session, call: ToolCall, decision: Decision) -> None:
        """Every decision, before anything executes (audit, metrics)."""

    async def on_hold(self, session: Session, call: ToolCall, decision: Decision) -> str | None:
        """Create an approval request for a held call; return its id."""
        return None

    async def on_content(self, session: Session, content: object, source: str) -> None:
        """Content from ``source`` on its way into the session, as the tool or caller gave
        it (leak filter). Raising refuses it."""

    async def on_ingest(self, session: Session, content: Labeled) -> None:
        """Content entered the session, labeled (audit)."""

    async def on_data(self, session: Session, report: DataReport) -> None:
        """Data access controls acted on content or a call's arguments (audit, alerts)."""

    async def on_outcome(
        self, session: Session, call: ToolCall, outcome: Outcome
    ) -> Receipt | None:
        """Every outcome: executed, failed, fallback, pending or denied. May return the
        signed receipt of the recorded outcome."""
        return None

    async def on_settled(
        self, session: Session, call: ToolCall, decision: Decision, outcome: Outcome
    ) -> Receipt | None:
        """A decision whose ``outcome`` was known when it was made (see the module): the same
        as ``on_decision`` then ``on_outcome``, which is what this does. Override it to record
        both at once; raising refuses the call (nothing of it may be taken as recorded)."""
        await self.on_decision(session, call, decision)
        return await self.on_outcome(session, call, outcome)

    async def admit(self, session: Session, call: ToolCall) -> StepResult | None:
        """Agent-level controls (kill switch), judged with every call. None: no opinion."""
        return None

    async def waive(self, session: Session, call: ToolCall, decision: Decision) -> RuleHit | None:
        """A held call: an ALLOW hit naming an override (break-glass) lifts its holds."""
        return None

    async def on_findings(
        self, session: Session, source: str, findings: Sequence[Finding], hostile: bool
    ) -> None:
        """The content detectors judged content from ``source`` (or, for ``arguments``, a
        call's arguments): their findings and whether the judgement was hostile."""

    def step(
        self, name: str, session: Session, call: ToolCall | None
    ) -> AbstractContextManager[object] | None:
        """Observe the pipeline step ``name`` (``call``, ``checks``, ``evaluate``, ``waive``,
        ``record``, ``hold``, ``execute``, ``outcome``, ``ingest``): a context manager the gate
        enters around it, or None."""
        return None

    def attach(self, gate: Gate) -> None:
        """Called once, by the gate that runs this hook."""
