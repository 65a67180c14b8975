"""Prometheus metrics of the gate (``GateMetrics``) and of the people's controls in the store
(``ControlsCollector``).

Label values are bounded: agents and tools are those the policies name (anything else is
``other``), detectors and rules are the registry's and the policy's ids, steps are the gate's.
A call naming a made-up tool cannot grow the label set. ``GateMetrics`` counts what this
process sees; ``ControlsCollector`` reads the store when scraped, so that approvals decided in
another process (the CLI, the console) and their latency are counted once, by every process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func, select

from proctor.model import Decision, Outcome, StepStatus, Verdict
from proctor.monitor._alert import Alert
from proctor.store import agent_controls, approval_requests, break_glass

OTHER = "other"
STEP_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
TOOL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DECIDED = {  # the states a request decided by people can be in, by their decision
    "approved": ("approved", "executing", "executed", "failed"),
    "denied": ("denied",),
}
APPROVAL_BUCKETS = (10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 4 * 3600.0, 86400.0)


class GateMetrics:
    """The gate's counters and histograms, in ``registry`` (a new one unless given: pass
    ``prometheus_client.REGISTRY`` to serve them with the process's default metrics)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.calls = Counter(
            "proctor_calls", "Decided calls.", ["agent", "tool", "verdict"], registry=r
        )
        self.holds = Counter(
            "proctor_holds", "Calls held for a person.", ["agent", "tool"], registry=r
        )
        self.denials = Counter("proctor_denials", "Calls denied.", ["agent", "tool"], registry=r)
        self.outcomes = Counter(
            "proctor_outcomes", "What came of calls.", ["agent", "tool", "status"], registry=r
        )
        self.overrides = Counter(
            "proctor_overrides",
            "Held calls that ran anyway: approved by people, or let through by break-glass.",
            ["agent", "tool", "kind"],
            registry=r,
        )
        self.errors = Counter(
            "proctor_errors",
            "Checks that failed (and so denied: fail closed), by step.",
            ["agent", "step"],
            registry=r,
        )
        self.findings = Counter(
            "proctor_detector_findings",
            "Content detector findings, by detector; where: ingest or arguments.",
            ["agent", "detector", "where"],
            registry=r,
        )
        self.hostile = Counter(
            "proctor_hostile_judgements",
            "Contents and call arguments judged hostile.",
            ["agent", "where"],
            registry=r,
        )
        self.steps = Histogram(
            "proctor_step_seconds",
            "Latency of each gate pipeline step.",
            ["step"],
            buckets=STEP_BUCKETS,
            registry=r,
        )
        self.tools = Histogram(
            "proctor_tool_seconds",
            "Run time of executed tools.",
            ["agent", "tool"],
            buckets=TOOL_BUCKETS,
            registry=r,
        )
        self.alerts = Counter(
            "proctor_alerts", "Monitor alerts raised.", ["agent", "rule", "severity"], registry=r
        )
        self.containments = Counter(
            "proctor_containments",
            "Agents contained by the monitor.",
            ["agent", "action"],
            registry=r,
        )

    def decision(self, agent: str, tool: str, decision: Decision) -> None:
        v = str(decision.verdict).lower()
        self.calls.labels(agent, tool, v).inc()
        if decision.verdict is Verdict.HOLD:
            self.holds.labels(agent, tool).inc()
        elif decision.verdict is Verdict.DENY:
            self.denials.labels(agent, tool).inc()
        rules = [h.rule_id for s in decision.steps for h in s.hits]
        if decision.verdict is Verdict.ALLOW:
            if any(r.startswith("approval.") for r in rules):
                self.overrides.labels(agent, tool, "approval").inc()
            if any(r.startswith("breakglass.") for r in rules):
                self.overrides.labels(agent, tool, "break_glass").inc()
        for step in decision.steps:
            if step.status is StepStatus.ERROR:
                self.errors.labels(agent, str(step.step)).inc()

    def outcome(self, agent: str, tool: str, outcome: Outcome) -> None:
        self.outcomes.labels(agent, tool, str(outcome.status)).inc()
        if outcome.duration_ms is not None:
            self.tools.labels(agent, tool).observe(outcome.duration_ms / 1000)

    def judged(self, agent: str, where: str, detectors: Iterable[str], hostile: bool) -> None:
        for det in detectors:
            self.findings.labels(agent, det, where).inc()
        if hostile:
            self.hostile.labels(agent, where).inc()

    def alert(self, alert: Alert, contained: str | None) -> None:
        self.alerts.labels(alert.agent, alert.rule, str(alert.severity)).inc()
        if contained:
            self.containments.labels(alert.agent, contained).inc()

    def exposition(self) -> bytes:
        """The metrics in the Prometheus text format (what ``/metrics`` serves)."""
        return generate_latest(self.registry)


class ControlsCollector(Collector):
    """Metrics read from the store at each scrape: approval requests by state, how long people
    took to decide them, paused and contained agents, break-glass overrides in force.
    ``register`` it in a registry (``GateMetrics().registry.register(collector)``)."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        req = approval_requests
        with self.engine.connect() as conn:
            states = conn.execute(select(req.c.state, func.count()).group_by(req.c.state)).all()
            waited = req.c.decided_at - req.c.created_at
            cols = [func.sum(case((waited <= b, 1), else_=0)) for b in APPROVAL_BUCKETS]
            latency = {
                result: conn.execute(
                    select(func.count(), func.coalesce(func.sum(waited), 0.0), *cols).where(
                        req.c.decided_at.is_not(None), req.c.state.in_(states_of)
                    )
                ).one()
                for result, states_of in DECIDED.items()
            }
            controls = conn.execute(
                select(
                    func.coalesce(func.sum(agent_controls.c.paused), 0),
                    func.count(agent_controls.c.max_autonomy),
                )
            ).one()
            now = self._clock()
            grants = conn.execute(
                select(func.count()).where(
                    break_glass.c.expires_at > now, break_glass.c.revoked_at.is_(None)
                )
            ).scalar_one()
        gauge = GaugeMetricFamily(
            "proctor_approval_requests", "Approval requests by state.", labels=["state"]
        )
        for state, count in states:
            gauge.add_metric([str(state)], float(count))
        yield gauge
        hist = HistogramMetricFamily(
            "proctor_approval_decision_seconds",
            "Time from a held call to people's decision, by result (approved or denied).",
            labels=["result"],
        )
        for result, row in latency.items():
            count, total = float(row[0]), float(row[1])
            buckets = [
                (str(b), float(n or 0)) for b, n in zip(APPROVAL_BUCKETS, row[2:], strict=True)
            ]
            hist.add_metric([result], [*buckets, ("+Inf", count)], total)
        yield hist
        yield GaugeMetricFamily("proctor_agents_paused", "Paused agents.", value=controls[0])
        yield GaugeMetricFamily(
            "proctor_agents_contained", "Agents under an autonomy cap.", value=controls[1]
        )
        yield GaugeMetricFamily(
            "proctor_break_glass_active", "Break-glass overrides in force.", value=grants
        )
