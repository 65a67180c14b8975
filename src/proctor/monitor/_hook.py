"""``MonitorHook``: metrics, spans and monitoring, plugged into the gate as one hook.

``Gate(policies, hooks=[MonitorHook(monitor, metrics=GateMetrics(), tracing=Tracing())])``.
Each part is optional. What the hook does with every call, in memory and without I/O:
count it (metrics and the monitor's minute), time each step, open spans. When a minute ends it
hands the monitor's tick to a background thread (the store's I/O never delays a call). With
the monitor's in-memory containment (no store), ``admit`` enforces it; with the store, the
durable approval queue's ``admit`` does (``ApprovalQueue``), in every gate sharing the store.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Span

from proctor.flow import Labeled
from proctor.hooks import GateHooks
from proctor.model import (
    Decision,
    Finding,
    Outcome,
    RuleHit,
    Session,
    Step,
    StepResult,
    ToolCall,
    Verdict,
)
from proctor.monitor._metrics import OTHER, GateMetrics
from proctor.monitor._monitor import Monitor
from proctor.monitor._signals import call_signals, call_value, value_expressions
from proctor.monitor._tracing import Tracing
from proctor.policy._cel import Expression

if TYPE_CHECKING:
    from proctor.gate import Gate

log = logging.getLogger("proctor.monitor")
CONTAINED = "monitor.contained"
_CALL_SPAN: contextvars.ContextVar[Span | None] = contextvars.ContextVar(
    "proctor_call_span", default=None
)


class _Observation:
    """One step: its latency into the histogram, and a span that is current while it runs."""

    __slots__ = ("_call", "_hook", "_name", "_session", "_span_cm", "_started", "_token")

    def __init__(
        self, hook: MonitorHook, name: str, session: Session, call: ToolCall | None
    ) -> None:
        self._hook, self._name, self._session, self._call = hook, name, session, call
        self._span_cm: AbstractContextManager[Span] | None = None
        self._token: contextvars.Token[Span | None] | None = None
        self._started = 0.0

    def __enter__(self) -> _Observation:
        tracing = self._hook.tracing
        if tracing is not None:
            attrs: dict[str, Any] = {
                "proctor.agent": self._session.agent,
                "proctor.session": self._session.id,
            }
            if self._call is not None:
                attrs["proctor.tool"] = self._call.tool
                attrs["proctor.call"] = self._call.id
            self._span_cm = tracing.tracer.start_as_current_span(
                f"proctor.{self._name}", attributes=attrs
            )
            span = self._span_cm.__enter__()
            if self._name == "call":
                self._token = _CALL_SPAN.set(span)
        self._started = time.perf_counter()
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> None:
        elapsed = time.perf_counter() - self._started
        if self._hook.metrics is not None:
            self._hook.metrics.steps.labels(self._name).observe(elapsed)
        if self._token is not None:
            _CALL_SPAN.reset(self._token)
        if self._span_cm is not None:
            self._span_cm.__exit__(et, ev, tb)


class MonitorHook(GateHooks):
    """Feeds ``monitor`` (baselines and alerts), ``metrics`` (Prometheus) and ``tracing``
    (OpenTelemetry) from the gate. ``auto_tick``: tick the monitor on a background thread
    when a minute ends (tests that drive the clock turn it off and call ``monitor.tick``)."""

    def __init__(
        self,
        monitor: Monitor | None = None,
        *,
        metrics: GateMetrics | None = None,
        tracing: Tracing | None = None,
        auto_tick: bool = True,
    ) -> None:
        self.monitor = monitor
        self.metrics = metrics
        self.tracing = tracing
        self.auto_tick = auto_tick
        self.gate: Gate | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="proctor-monitor")
        self._queued = threading.Event()  # a tick is queued: do not queue another
        self._values: dict[str, dict[str, Expression]] = {}  # policy name -> tool -> value
        if monitor is not None and metrics is not None:
            monitor.listeners.append(metrics.alert)

    def attach(self, gate: Gate) -> None:
        self.gate = gate

    # -- labels ----------------------------------------------------------------------------------

    def _names(self, session: Session, tool: str | None) -> tuple[str, str]:
        """(agent, tool) as metric labels: names the policies declare, else ``other``."""
        if self.gate is None:
            return OTHER, OTHER
        pol = self.gate.policies.get(session.agent, session.environment)
        if pol is None:
            return OTHER, OTHER
        return pol.agent, (tool if tool is not None and tool in pol.tools else OTHER)

    # -- hooks -----------------------------------------------------------------------------------

    def step(
        self, name: str, session: Session, call: ToolCall | None
    ) -> AbstractContextManager[object] | None:
        if self.metrics is None and self.tracing is None:
            return None
        return _Observation(self, name, session, call)

    async def on_decision(self, session: Session, call: ToolCall, decision: Decision) -> None:
        agent, tool = self._names(session, call.tool)
        if self.metrics is not None:
            self.metrics.decision(agent, tool, decision)
        span = _CALL_SPAN.get()
        if span is not None:
            span.set_attribute("proctor.verdict", str(decision.verdict))
            span.set_attribute("proctor.rules", list(decision.rule_ids))
        if self.monitor is not None and self.gate is not None:
            pol = self.gate.policies.get(session.agent, session.environment)
            plan = pol.tools.get(call.tool) if pol is not None else None
            value = None
            if pol is not None:
                exprs = self._values.get(pol.name)
                if exprs is None:
                    exprs = self._values[pol.name] = value_expressions(pol)
                value = call_value(exprs, session, call)
            self.monitor.record(session.agent, call_signals(plan, call, decision, value))

    async def on_outcome(self, session: Session, call: ToolCall, outcome: Outcome) -> None:
        if self.metrics is not None:
            agent, tool = self._names(session, call.tool)
            self.metrics.outcome(agent, tool, outcome)
        span = _CALL_SPAN.get()
        if span is not None:
            span.set_attribute("proctor.status", str(outcome.status))
        self._maybe_tick()

    async def on_ingest(self, session: Session, content: Labeled) -> None:
        if self.monitor is not None and content.source.startswith("tool:"):
            self.monitor.record(session.agent, {"data_read": float(len(content.text))})
        self._maybe_tick()

    async def on_findings(
        self, session: Session, source: str, findings: Sequence[Finding], hostile: bool
    ) -> None:
        where = "arguments" if source == "arguments" else "ingest"
        if self.metrics is not None:
            agent, _ = self._names(session, None)
            self.metrics.judged(agent, where, (f.detector for f in findings), hostile)
        if self.monitor is not None and hostile:
            self.monitor.record(session.agent, {"injection": 1.0})

    async def admit(self, session: Session, call: ToolCall) -> StepResult | None:
        """The monitor's containment when it lives in memory (with the store, the approval
        queue's ``admit`` enforces it)."""
        if self.monitor is None or self.monitor.memory is None or self.gate is None:
            return None
        state = self.monitor.memory.status(session.agent)
        if state is None:
            return None
        pol = self.gate.policies.require(session.agent, session.environment)
        plan = pol.tools.get(call.tool)
        cap = state.max_autonomy
        if cap is not None and (plan is None or plan.autonomy <= cap):
            return None
        what = "paused" if cap is None else f"contained to {cap}"
        hit = RuleHit(
            CONTAINED,
            Verdict.DENY,
            f"agent {session.agent!r} is {what} by the monitor ({state.reason})",
        )
        return StepResult.ok(Step.BOUNDARY, [hit])

    # -- ticking ---------------------------------------------------------------------------------

    def _maybe_tick(self) -> None:
        if self.monitor is None or not self.auto_tick or self._queued.is_set():
            return
        if self.monitor.due():
            self._queued.set()
            self._pool.submit(self._tick)

    def _tick(self) -> None:
        try:
            if self.monitor is not None and self.monitor.due():
                self.monitor.tick()
        except Exception:
            log.exception("monitor tick failed; the next call retries")
        finally:
            self._queued.clear()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
