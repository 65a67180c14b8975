"""Decision latency: Proctor's ``evaluate`` against Cedar (cedarpy) on the same 100,000 questions.

Run with ``make bench``. Prints a plain-text report; exits 1 if the two engines disagree on any
verdict, 2 if cedarpy is missing. The latency targets (p50 <= 30 µs, p99 <= 150 µs, Proctor
faster than Cedar) are reported, never asserted: timings depend on the machine.

How the comparison is kept fair
-------------------------------
* Same questions. ``_questions.generate`` draws a fixed, seeded list of ``DecisionRequest``s from
  benchmarks/policies/bench.yaml (45 tools, 101 constraints): valid calls whose values sit around
  the constraints' thresholds, unknown tools, broken arguments, the wrong agent, an environment
  without a grant, execute-level tools in production, rate counters at their limit and missing
  rate counters. ``_cedar.cedar_request`` turns each into a Cedar request whose context carries
  the same arguments, the principal, the tenant and the same rate counters.
* Same checks. bench.cedar restates every check Proctor makes: the allowlist and default deny,
  the agent, the environment grant, autonomy against the grant, the per-tool environment
  restriction, flag holds and their waivers (the `allow` constraints), every hold and deny
  constraint, and every rate limit.
* Three-way verdict. Cedar only permits or forbids, so each forbid is tagged with
  ``@id("deny:<rule>")`` or ``@id("hold:<rule>")`` and one question is asked per call: Allow is
  ALLOW; a Deny whose determining policies (``diagnostics.reasons``) are all ``hold:*`` is HOLD;
  any other Deny, a Deny with no determining policy (nothing permitted) and any error are DENY.
  This needs one ``is_authorized`` per call, where asking twice ("may it run without a human?",
  "with one?") would double Cedar's cost. The boundary is written as ``deny:*`` forbids under
  one allowlist permit, so a hold can never stand in for "nothing permitted". Reading the
  verdict off the result is inside the timed region, as ``Decision.verdict`` is for Proctor.
* Argument validation. Proctor validates arguments against the tool's declared schema on every
  call; Cedar gets the equivalent: requests are validated against a Cedar schema generated from
  bench.yaml (types, required and unknown arguments), and enumerations, numeric ranges and array
  sizes are ``deny:schema.<tool>`` policies. Regular-expression patterns and string lengths
  cannot be said in Cedar; the questions never break only those, and Proctor still pays for
  checking them on every call.
* Cedar's inputs are prepared before the clock starts. Cedar has no set size, no quantifier over
  a set and no float, so the request carries facts (array sizes, recipient domains) and numbers
  as ``decimal``; building that request is outside the main timing (one extra line reports
  Cedar with it). Proctor gets the raw call, as the gate passes it. This favours Cedar.
* Fastest fair Cedar API: policies parsed once (``PolicySet.from_str``), entities parsed once
  (``Entities``), the schema parsed once (``Schema``), one public ``is_authorized`` call per
  question. Extra lines: the same with the policies sliced per tool (only those whose action
  scope can match, as Proctor looks up the tool's plan; the verdicts cannot change), and
  ``is_authorized_batch`` throughput.
* Same timing. Both engines are warmed up on the first 5,000 questions, then every question is
  timed alone with ``time.perf_counter_ns``, with the garbage collector disabled. The engines
  take turns in blocks of 1,000 questions, so that noise from the rest of the machine falls on
  both alike.
"""

from __future__ import annotations

import gc
import math
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

try:
    import cedarpy
except ImportError:  # the bench extra
    print(
        "cedarpy is not installed: pip install -e '.[bench]' (or run make bench)", file=sys.stderr
    )
    sys.exit(2)

from _cedar import CedarEngine, CedarRequest, cedar_request, cedar_verdict
from _questions import POLICY_CEDAR, POLICY_YAML, SEED, Question, generate, kind_counts
from proctor.model import Verdict
from proctor.policy import CompiledPolicy, evaluate, load_policy

N = 100_000
WARMUP = 5_000
BATCH = 1_000
BLOCK = 1_000
SHOW_DISAGREEMENTS = 5
TARGET_P50_US = 30.0
TARGET_P99_US = 150.0


@dataclass(frozen=True, slots=True)
class Timing:
    """Per-decision latencies of one engine, in nanoseconds, in question order."""

    ns: list[int]

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile, in microseconds."""
        ordered = sorted(self.ns)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] / 1000

    @property
    def p50(self) -> float:
        return self.percentile(0.50)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)

    @property
    def mean(self) -> float:
        return sum(self.ns) / len(self.ns) / 1000

    def subset(self, keep: Sequence[bool]) -> Timing:
        return Timing([t for t, k in zip(self.ns, keep, strict=True) if k])


def time_interleaved(
    deciders: Sequence[Callable[[int], Verdict]], n: int
) -> list[tuple[Timing, list[Verdict]]]:
    """Ask every decider questions 0..n-1, timing each decision alone, with the garbage collector
    off. The deciders take turns in blocks of ``BLOCK`` questions, so that a busy moment of the
    machine falls on all of them alike."""
    for decide in deciders:
        for i in range(WARMUP):
            decide(i)
    clock = time.perf_counter_ns
    ns = [[0] * n for _ in deciders]
    verdicts = [[Verdict.DENY] * n for _ in deciders]
    gc.collect()
    gc.disable()
    try:
        for start in range(0, n, BLOCK):
            stop = min(n, start + BLOCK)
            for decide, times, answers in zip(deciders, ns, verdicts, strict=True):
                for i in range(start, stop):
                    t0 = clock()
                    verdict = decide(i)
                    t1 = clock()
                    times[i] = t1 - t0
                    answers[i] = verdict
    finally:
        gc.enable()
    return [(Timing(t), v) for t, v in zip(ns, verdicts, strict=True)]


def time_batch(cedar: CedarEngine, requests: Sequence[CedarRequest]) -> tuple[float, list[Verdict]]:
    """Mean µs per decision through ``is_authorized_batch``, ``BATCH`` requests a call."""
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter_ns()
        verdicts = [
            cedar_verdict(r)
            for i in range(0, len(requests), BATCH)
            for r in cedarpy.is_authorized_batch(
                list(requests[i : i + BATCH]), cedar.policies, cedar.entities, cedar.schema
            )
        ]
        elapsed = time.perf_counter_ns() - t0
    finally:
        gc.enable()
    return elapsed / len(requests) / 1000, verdicts


def main() -> int:
    started = time.perf_counter()
    policy = load_policy(POLICY_YAML)
    questions = generate(policy, N, SEED)
    requests = [q.request for q in questions]
    cedar = CedarEngine.load(policy, POLICY_CEDAR)
    cedar_requests = [cedar_request(policy, r) for r in requests]

    def proctor_decide(i: int) -> Verdict:
        return evaluate(policy, requests[i]).verdict

    def cedar_decide(i: int) -> Verdict:
        return cedar.decide(cedar_requests[i])

    def cedar_decide_sliced(i: int) -> Verdict:
        return cedar.decide(cedar_requests[i], cedar.slice_for(requests[i].tool))

    def cedar_decide_built(i: int) -> Verdict:
        return cedar.decide(cedar_request(policy, requests[i]))

    _progress(f"timing {N:,} decisions per engine, interleaved in blocks of {BLOCK:,}")
    timed = time_interleaved(
        [proctor_decide, cedar_decide, cedar_decide_sliced, cedar_decide_built], N
    )
    (proctor, proctor_verdicts), (cedar_t, cedar_verdicts) = timed[:2]
    (cedar_sliced, sliced_verdicts), (cedar_built, built_verdicts) = timed[2:]
    _progress("timing is_authorized_batch")
    batch_us, batch_verdicts = time_batch(cedar, cedar_requests)

    disagree = [i for i in range(N) if proctor_verdicts[i] is not cedar_verdicts[i]]
    variants = {"sliced": sliced_verdicts, "built": built_verdicts, "batch": batch_verdicts}
    inconsistent = {
        name: sum(a is not b for a, b in zip(v, cedar_verdicts, strict=True))
        for name, v in variants.items()
    }
    print(_header(policy, cedar.size, questions))
    print(_verdicts(questions, proctor_verdicts))
    print()
    print(f"  {'latency in µs, each decision timed alone':<44}{'p50':>10}{'p99':>10}{'mean':>10}")
    print(_row("proctor  evaluate()", proctor))
    print(_row("cedar    is_authorized()", cedar_t))
    print(_ratio("ratio    proctor / cedar", proctor, cedar_t))
    print("  extra lines")
    print(_row("cedar    is_authorized(), policies per tool", cedar_sliced))
    print(_ratio("ratio    proctor / cedar, policies per tool", proctor, cedar_sliced))
    print(_row("cedar    is_authorized() + building request", cedar_built))
    print(f"  {'cedar    is_authorized_batch(), 1,000 a call':<44}{'':>20}{batch_us:>10.1f}")
    print(_by_verdict("proctor", proctor, proctor_verdicts))
    print(_by_verdict("cedar", cedar_t, proctor_verdicts))
    print()
    print(f"agreement  {N - len(disagree):,} / {N:,} verdicts agree", end="")
    if any(inconsistent.values()):
        print(
            "; Cedar's own variants differ: "
            + ", ".join(f"{k} {n:,}" for k, n in inconsistent.items())
        )
    else:
        print(" (Cedar's sliced, request-building and batch runs give the same verdicts)")
    for i in disagree[:SHOW_DISAGREEMENTS]:
        print(_disagreement(questions[i], policy, cedar.explain(cedar_requests[i])))
    print(_targets(proctor, cedar_t))
    print(f"elapsed    {time.perf_counter() - started:.1f} s")
    return 1 if disagree or any(inconsistent.values()) else 0


def _header(policy: CompiledPolicy, cedar_size: int, questions: Sequence[Question]) -> str:
    constraints = sum(len(p.constraints) for p in policy.tools.values())
    rates = {r.id for t in policy.tools for r in policy.rate_rules_for(t)}
    asked = "  ".join(f"{k} {n:,}" for k, n in kind_counts(questions).most_common())
    return "\n".join(
        [
            f"Proctor vs Cedar: {len(questions):,} authorization decisions",
            f"policy     {_rel(POLICY_YAML)}: {len(policy.tools)} tools, "
            f"{constraints} constraints, {len(rates)} rate rules",
            f"cedar      {_rel(POLICY_CEDAR)}: {cedar_size} policies, schema-validated "
            f"requests (cedarpy {version('cedarpy')})",
            f"run        Python {platform.python_version()}, seed {SEED}, warm-up "
            f"{WARMUP:,} per engine, GC off while timing",
            f"asked      {asked}",
        ]
    )


def _verdicts(questions: Sequence[Question], verdicts: Sequence[Verdict]) -> str:
    total = Counter(verdicts)
    mix = "  ".join(f"{v.name} {total[v]:,} ({total[v] / len(verdicts):.1%})" for v in Verdict)
    lines = [f"verdicts   {mix}"]
    by_kind = Counter((q.kind, v) for q, v in zip(questions, verdicts, strict=True))
    for kind, _ in kind_counts(questions).most_common():
        counts = "  ".join(
            f"{v.name} {by_kind[(kind, v)]:,}" for v in Verdict if by_kind[(kind, v)]
        )
        lines.append(f"  {kind:<16}{counts}")
    return "\n".join(lines)


def _row(label: str, t: Timing) -> str:
    return f"  {label:<44}{t.p50:>10.1f}{t.p99:>10.1f}{t.mean:>10.1f}"


def _ratio(label: str, proctor: Timing, cedar: Timing) -> str:
    return (
        f"  {label:<44}{proctor.p50 / cedar.p50:>10.2f}"
        f"{proctor.p99 / cedar.p99:>10.2f}{proctor.mean / cedar.mean:>10.2f}"
    )


def _by_verdict(engine: str, t: Timing, verdicts: Sequence[Verdict]) -> str:
    parts = []
    for v in Verdict:
        part = t.subset([x is v for x in verdicts])
        parts.append(f"{v.name} {part.p50:.1f}/{part.p99:.1f}")
    return f"  {engine + ' p50/p99 by verdict':<44}{'  '.join(parts)}"


def _disagreement(q: Question, policy: CompiledPolicy, cedar_said: str) -> str:
    r = q.request
    d = evaluate(policy, r)
    args = repr(dict(r.args))
    args = args if len(args) <= 160 else args[:157] + "..."
    return (
        f"  [{q.kind}] {r.tool} agent={r.agent} env={r.environment} args={args}\n"
        f"    proctor: {d.verdict.name} {list(d.rule_ids)}\n"
        f"    cedar:   {cedar_said}"
    )


def _targets(proctor: Timing, cedar: Timing) -> str:
    def met(ok: bool) -> str:
        return "met" if ok else "MISSED"

    p50_ratio, p99_ratio = proctor.p50 / cedar.p50, proctor.p99 / cedar.p99
    return (
        f"targets    p50 <= {TARGET_P50_US:.0f} µs: {met(proctor.p50 <= TARGET_P50_US)} "
        f"({proctor.p50:.1f})   p99 <= {TARGET_P99_US:.0f} µs: "
        f"{met(proctor.p99 <= TARGET_P99_US)} ({proctor.p99:.1f})   proctor/cedar < 1: "
        f"{met(p50_ratio < 1 and p99_ratio < 1)} (p50 {p50_ratio:.2f}, p99 {p99_ratio:.2f})"
    )


def _progress(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
