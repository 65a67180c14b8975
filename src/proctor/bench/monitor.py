"""``proctor bench monitor``: detection of planted incidents in 30 simulated days.

The simulation drives the real monitor: one policy per agent with the default
``monitoring.rules``, ``Monitor.record`` for every agent's minute and ``Monitor.tick`` at the
start of every minute (grace 1 minute, as in a gateway), with the in-memory backend and
containment (the store's backend runs the same ``fold``; ``tests/monitor`` checks it). Time
is simulated: no sleeping. Time to detect runs from the incident's first minute to the tick
that raised its first alert. An alert that matches no incident (on its agent, from its start
to an hour after its end) is false. The warm-up (7 days) is included in the agent-weeks.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from proctor.bench._monitor_traffic import (
    CATALOGUE,
    KINDS,
    MINUTES_PER_DAY,
    AgentPlan,
    Incident,
    Minutes,
    plan_agents,
    plant,
    simulate,
)
from proctor.monitor import Alert, MemoryBackend, Monitor
from proctor.policy import CompiledPolicy, PolicySet, load_policy_text

START = 28_401_120  # 2024-01-01 00:00 UTC (a Monday), in minutes since the epoch
WARMUP_DAYS = 7
TAIL = 60  # an alert up to this many minutes after an incident still belongs to it
AMOUNTS = 7  # the refund amounts' random streams: [seed, AMOUNTS, agent]


def policy_for(name: str, tools: Sequence[str]) -> CompiledPolicy:
    lines = [
        "version: 1",
        f"agent: {{name: {name}, role: svc-{name}, owner: ops}}",
        "environments: {production: {max_autonomy: write}}",
        "tools:",
    ]
    for tool in tools:
        autonomy, kind = CATALOGUE[tool]
        extra = ", flags: [moves_money], args: {order_id: string, amount: number}"
        lines.append(f"  {tool}: {{autonomy: {autonomy}{extra if kind == 'money' else ''}}}")
    lines += [
        "monitoring:",
        "  enabled: true",
        f"  warmup: {WARMUP_DAYS} days",
        "  alerts: {sinks: [], dedup: 30 minutes, max_per_hour: 10}",
        "  contain: {at: critical, action: draft}",
    ]
    return load_policy_text("\n".join(lines) + "\n", f"{name}.yaml")


@dataclass
class SeedResult:
    seed: int
    agents: int
    days: int
    incidents: list[Incident]
    false_alerts: int
    false_after_warmup: int
    alerts: int
    contained: int
    seconds: float
    trace: dict[str, Any] = field(default_factory=dict)
    false_rules: dict[str, int] = field(default_factory=dict)

    @property
    def agent_weeks(self) -> float:
        return self.agents * self.days / 7


def _values(sim: Minutes, t: int) -> dict[str, float]:
    out: dict[str, float] = {}
    total = 0.0
    for tool, series in sim.calls.items():
        n = series[t]
        if n:
            out["calls:" + tool] = n
            total += n
    if total:
        out["calls"] = total
    for key, series in (
        ("denials", sim.denials),
        ("holds", sim.holds),
        ("overrides", sim.overrides),
        ("data_read", sim.data_read),
        ("injection", sim.injection),
        ("value_moved", sim.value_moved),
    ):
        if series[t]:
            out[key] = series[t]
    for host, n in sim.destinations.get(t, {}).items():
        out["dest:" + host] = n
    return out


def run_seed(
    seed: int,
    *,
    agents: int = 20,
    days: int = 30,
    per_kind: int = 2,
    kinds: Mapping[str, int] | None = None,
    trace_agent: bool = False,
) -> SeedResult:
    """One seed: plan the agents, plant the incidents (``per_kind`` of each kind, or
    ``kinds``: so many of these kinds only), replay and score."""
    began = time.perf_counter()
    rng = np.random.default_rng(seed)
    minutes = days * MINUTES_PER_DAY
    warmup = WARMUP_DAYS * MINUTES_PER_DAY
    plans = plan_agents(rng, agents, minutes)
    incidents = plant(rng, plans, minutes, warmup, per_kind, kinds, START)
    return replay(seed, rng, plans, incidents, days, began=began, trace_agent=trace_agent)


def replay(
    seed: int,
    rng: np.random.Generator,
    plans: list[AgentPlan],
    incidents: list[Incident],
    days: int,
    *,
    began: float | None = None,
    trace_agent: bool = False,
) -> SeedResult:
    """Simulate ``plans`` with ``incidents`` planted for ``days``, run the monitor over it
    and score its alerts (``run_seed`` plans at random; a test can plan by hand)."""
    began = time.perf_counter() if began is None else began
    minutes = days * MINUTES_PER_DAY
    warmup = WARMUP_DAYS * MINUTES_PER_DAY
    agents = len(plans)
    sims = [
        simulate(
            rng,
            p,
            minutes,
            START,
            [i for i in incidents if i.agent == p.index],
            np.random.default_rng([seed, AMOUNTS, p.index]),
        )
        for p in plans
    ]
    # plain lists: indexing a numpy array one minute at a time is slow
    for sim in sims:
        sim.calls = {k: v.tolist() for k, v in sim.calls.items()}
        for name in ("denials", "holds", "overrides", "data_read", "injection", "value_moved"):
            setattr(sim, name, getattr(sim, name).tolist())
    policies = PolicySet.of(*(policy_for(p.name, list(p.tools)) for p in plans))
    clock = [START * 60.0]
    monitor = Monitor(policies, MemoryBackend(), clock=lambda: clock[0], grace_minutes=1)
    raised: list[tuple[int, Alert, str | None]] = []
    now = [0]
    monitor.listeners.append(lambda a, c: raised.append((now[0], a, c)))
    by_agent = {p.name: p.index for p in plans}
    resumes: dict[int, list[str]] = {}
    for inc in incidents:
        resumes.setdefault(inc.end + TAIL, []).append(plans[inc.agent].name)

    watched = next(
        (i for i in incidents if i.kind == "exfiltration"), incidents[0] if incidents else None
    )
    trace: dict[str, Any] = {"calls": [], "expected": [], "alerts": []}
    watch = plans[watched.agent].name if (trace_agent and watched is not None) else None
    for t in range(minutes):
        at = (START + t) * 60.0
        for p, sim in zip(plans, sims, strict=True):
            values = _values(sim, t)
            if values:
                monitor.record(p.name, values, at + 30)
        now[0] = t + 1
        clock[0] = at + 60
        if watch is not None:
            state = monitor.baseline(watch)
            est = state.rates.get("calls") if state is not None else None
            trace["expected"].append(
                est.expect(START + t, smooth=True).mean if est is not None else 0.0
            )
            trace["calls"].append(
                sum(sims[by_agent[watch]].calls[k][t] for k in sims[by_agent[watch]].calls)
            )
        monitor.tick(clock[0])
        for name in resumes.pop(t, []):  # a person resumes the agent once the incident is over
            if monitor.memory is not None:
                monitor.memory.resume(name)

    false_alerts = false_after = contained = 0
    false_rules: dict[str, int] = {}
    for minute, alert, cont in raised:
        contained += cont is not None
        idx = by_agent[alert.agent]
        match = [i for i in incidents if i.agent == idx and i.start <= minute <= i.end + TAIL]
        if watch is not None and alert.agent == watch:
            trace["alerts"].append((minute, alert.rule, bool(match)))
        if not match:
            false_rules[alert.rule] = false_rules.get(alert.rule, 0) + 1
            false_alerts += 1
            false_after += minute >= warmup
            continue
        for inc in match:
            if inc.detected_at is None:
                inc.detected_at, inc.rule = minute, alert.rule
    if watched is not None and watch is not None:
        trace |= {"agent": watch, "incident": (watched.kind, watched.start, watched.end)}
    return SeedResult(
        seed,
        agents,
        days,
        incidents,
        false_alerts,
        false_after,
        len(raised),
        contained,
        time.perf_counter() - began,
        trace,
        false_rules,
    )


def _merge(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in counts:
        for k, v in c.items():
            out[k] = out.get(k, 0) + v
    return out


def summarize(results: Sequence[SeedResult]) -> tuple[str, dict[str, Any]]:
    rows = []
    data: dict[str, Any] = {"seeds": [r.seed for r in results], "kinds": {}}
    all_ttd: list[int] = []
    planted = {i.kind for r in results for i in r.incidents}
    for kind in [k for k in KINDS if k in planted]:
        incs = [i for r in results for i in r.incidents if i.kind == kind]
        found = [i for i in incs if i.detected_at is not None]
        ttd = [int(i.detected_at - i.start) for i in found if i.detected_at is not None]
        all_ttd += ttd
        rules = sorted({i.rule for i in found if i.rule})
        data["kinds"][kind] = {
            "incidents": len(incs),
            "detected": len(found),
            "ttd_minutes": ttd,
            "rules": rules,
        }
        med = f"{statistics.median(ttd):.0f}" if ttd else "-"
        worst = f"{max(ttd)}" if ttd else "-"
        rows.append(
            f"{kind:<16} {len(found):>3}/{len(incs):<3} {med:>10} {worst:>9}  {', '.join(rules)}"
        )
    weeks = sum(r.agent_weeks for r in results)
    false = sum(r.false_alerts for r in results)
    after = sum(r.false_after_warmup for r in results)
    weeks_after = sum(r.agents * (r.days - WARMUP_DAYS) / 7 for r in results)
    detected = sum(i.detected_at is not None for r in results for i in r.incidents)
    total = sum(len(r.incidents) for r in results)
    median = statistics.median(all_ttd) if all_ttd else float("nan")
    fa = false / weeks if weeks else 0.0
    fa_after = after / weeks_after if weeks_after else 0.0
    lines = [
        f"proctor bench monitor: {results[0].agents} agents x {results[0].days} simulated days, "
        f"seeds {', '.join(str(r.seed) for r in results)} (warm-up {WARMUP_DAYS} days)",
        "",
        f"{'incident':<16} {'detected':>7} {'median ttd':>10} {'max ttd':>9}  first rule(s)",
        *rows,
        "",
        f"every incident detected:   {'yes' if detected == total else 'NO'} ({detected}/{total})",
        f"median time to detect:     {median:.0f} simulated minutes (target <= 5)",
        f"false alerts / agent-week: {fa:.2f} over all {weeks:.0f} agent-weeks, "
        f"{fa_after:.2f} after the warm-up (target <= 1)",
        "false alerts by rule: "
        + (
            ", ".join(f"{k} {v}" for k, v in sorted(_merge(r.false_rules for r in results).items()))
            or "none"
        ),
        f"alerts raised: {sum(r.alerts for r in results)}, agents contained: "
        f"{sum(r.contained for r in results)}",
        "per seed: "
        + "; ".join(
            f"seed {r.seed}: {sum(i.detected_at is not None for i in r.incidents)}/"
            f"{len(r.incidents)} detected, {r.false_alerts} false, {r.seconds:.0f}s"
            for r in results
        ),
    ]
    data |= {
        "detected": detected,
        "incidents": total,
        "median_ttd_minutes": median,
        "false_alerts_per_agent_week": fa,
        "false_alerts_per_agent_week_after_warmup": fa_after,
    }
    return "\n".join(lines), data


def plot(result: SeedResult, path: Path) -> None:
    """One agent's calls per minute around its incident, its baseline, and its alerts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trace = result.trace
    kind, start, end = trace["incident"]
    lo, hi = max(0, start - 2 * MINUTES_PER_DAY), min(len(trace["calls"]), end + MINUTES_PER_DAY)
    x = np.arange(lo, hi) / MINUTES_PER_DAY
    fig, ax = plt.subplots(figsize=(12, 4.5), dpi=110)
    ax.plot(x, trace["calls"][lo:hi], lw=0.6, color="#4a6fa5", label="calls per minute")
    ax.plot(
        x, trace["expected"][lo:hi], lw=1.2, color="#e0a030", label="baseline (same hour of week)"
    )
    ax.axvspan(
        start / MINUTES_PER_DAY,
        end / MINUTES_PER_DAY,
        color="#d62728",
        alpha=0.15,
        label=f"planted incident: {kind}",
    )
    top = max(trace["calls"][lo:hi] or [1])
    for minute, rule, true in trace["alerts"]:
        if lo <= minute < hi:
            ax.axvline(
                minute / MINUTES_PER_DAY, color="#d62728" if true else "#7f7f7f", lw=1, ls="--"
            )
            ax.text(minute / MINUTES_PER_DAY, top * 0.95, rule, rotation=90, va="top", fontsize=7)
    ax.set_xlabel("simulated day")
    ax.set_ylabel("calls per minute")
    ax.set_title(f"{trace['agent']} (seed {result.seed}): signal, baseline and alerts")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def run(
    seeds: Sequence[int],
    *,
    agents: int = 20,
    days: int = 30,
    per_kind: int = 2,
    plot_path: Path | None = None,
    json_path: Path | None = None,
    jobs: int = 1,
    kinds: Mapping[str, int] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Run every seed (``jobs`` at a time, each in its own process: the seeds share nothing,
    and the figures do not depend on ``jobs``) and summarize them. ``kinds``: plant only these
    incident kinds, so many of each (for tuning a detector; the default plants ``per_kind``
    of every kind)."""
    opts: dict[str, Any] = {"agents": agents, "days": days, "per_kind": per_kind, "kinds": kinds}
    traced = [i == 0 and plot_path is not None for i in range(len(seeds))]
    if jobs <= 1 or len(seeds) <= 1:
        results = [run_seed(s, **opts, trace_agent=t) for s, t in zip(seeds, traced, strict=True)]
    else:
        with ProcessPoolExecutor(min(jobs, len(seeds))) as pool:
            futures = [
                pool.submit(run_seed, s, **opts, trace_agent=t)
                for s, t in zip(seeds, traced, strict=True)
            ]
            results = [f.result() for f in futures]
    text, data = summarize(results)
    if plot_path is not None:
        plot(results[0], plot_path)
        text += f"\nwrote {plot_path}"
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return text, data
