"""Alert rules: thresholds, anomaly scores, warm-up, new destinations, deduplication, the
hourly cap; and the policy's `monitoring:` section with file:line errors."""

from __future__ import annotations

import pytest

from proctor.errors import PolicyError
from proctor.model import Severity
from proctor.monitor import AgentState, fold
from proctor.policy import load_policy_text
from proctor.policy._monitor_schema import MonitoringPolicy

M0 = 28_401_120 + 9 * 60  # Monday 09:00 UTC


def spec(**kw) -> MonitoringPolicy:
    return MonitoringPolicy.model_validate({"enabled": True, "warmup": 0, **kw})


def run(state, policy, minutes, first=M0):
    alerts = []
    for i, values in enumerate(minutes):
        alerts += fold(state, first + i, values, policy)
    return alerts


def test_a_threshold_sums_its_window():
    pol = spec(rules=[{"id": "r", "signal": "injection", "above": 2, "window": 10}])
    state = AgentState.new("a", M0 - 1)
    alerts = run(state, pol, [{"injection": 1}, {}, {"injection": 1}, {}, {"injection": 1}])
    assert [(a.rule, a.value, a.minute - M0) for a in alerts] == [("r", 3.0, 4)]


def test_repeats_are_deduplicated_and_counted():
    pol = spec(
        rules=[{"id": "r", "signal": "injection", "above": 0}], alerts={"dedup": "10 minutes"}
    )
    state = AgentState.new("a", M0 - 1)
    alerts = run(state, pol, [{"injection": 1}] * 12)
    assert [a.minute - M0 for a in alerts] == [0, 10]
    assert [a.repeats for a in alerts] == [0, 9]


def test_the_hourly_cap_keeps_the_most_severe():
    rules = [
        {"id": f"low{i}", "signal": "injection", "above": 0, "severity": "low"} for i in range(3)
    ] + [{"id": "crit", "signal": "injection", "above": 0, "severity": "critical"}]
    pol = spec(rules=rules, alerts={"max_per_hour": 2, "dedup": 1})
    state = AgentState.new("a", M0 - 1)
    first = fold(state, M0, {"injection": 1}, pol)
    assert first[0].rule == "crit"
    assert len(first) == 2
    assert fold(state, M0 + 1, {"injection": 1}, pol) == []  # the hour is full
    assert state.capped == 2 + 4
    later = fold(state, M0 + 61, {"injection": 1}, pol)
    assert len(later) == 2


def test_anomaly_rules_wait_for_the_warm_up():
    pol = spec(warmup=120, rules=[{"id": "spike", "signal": "calls", "score": 5, "min_count": 5}])
    state = AgentState.new("a", M0 - 1)
    quiet = [{"calls": 1}] * 60
    assert run(state, pol, [*quiet, {"calls": 100}]) == []  # minute 60: still warming up
    state = AgentState.new("a", M0 - 1)
    alerts = run(state, pol, [*quiet * 2, {"calls": 100}])
    assert [(a.rule, a.value) for a in alerts] == [("spike", 100.0)]
    assert alerts[0].score is not None
    assert alerts[0].score > 5


def test_min_ratio_spares_a_busy_agents_ordinary_burst():
    rules = [{"id": "spike", "signal": "calls", "score": 4, "min_ratio": 4}]
    pol = spec(warmup=60, rules=rules)
    state = AgentState.new("a", M0 - 1)
    assert run(state, pol, [{"calls": 100}] * 120 + [{"calls": 250}]) == []
    assert len(run(state, pol, [{"calls": 500}], first=M0 + 121)) == 1


def test_a_new_destination_alerts_only_after_the_warm_up_and_repeated_calls():
    rules = [{"id": "dest", "signal": "new_destination", "above": 3, "severity": "critical"}]
    pol = spec(warmup=60, rules=rules, destinations={"young_for": "1 hour"})
    state = AgentState.new("a", M0 - 1)
    during = [{"dest:usual.example": 5}] * 60  # learned while warming up
    assert run(state, pol, during) == []
    assert run(state, pol, [{"dest:usual.example": 9}], first=M0 + 60) == []
    assert run(state, pol, [{"dest:new.example": 1}] * 3, first=M0 + 61) == []
    (alert,) = run(state, pol, [{"dest:new.example": 1}], first=M0 + 64)
    assert (alert.rule, alert.value, alert.severity) == ("dest", 4.0, Severity.CRITICAL)
    # an hour after it was first seen, the destination is no longer new
    assert run(state, pol, [{"dest:new.example": 9}], first=M0 + 130) == []


def test_a_share_drift_alerts_with_its_cusum():
    pol = spec(warmup=60, rules=[{"id": "drift", "signal": "denials", "score": 5}])
    state = AgentState.new("a", M0 - 1)
    usual = [{"calls": 10, "denials": 1 if i % 20 == 0 else 0} for i in range(3000)]
    assert run(state, pol, usual) == []
    alerts = run(state, pol, [{"calls": 10, "denials": 5}] * 30, first=M0 + 3000)
    assert [a.rule for a in alerts] == ["drift"]
    assert alerts[0].score >= 5
    assert state.shares["denials"].cusum < 5  # restarted after the alert


POLICY = """version: 1
agent: {name: bot, role: r, owner: o}
environments: {production: {max_autonomy: write}}
tools:
  a.b: {autonomy: read}
monitoring:
  enabled: true
  rules:
RULES
"""


@pytest.mark.parametrize(
    ("rules", "line", "message"),
    [
        ("    - {id: x, signal: calls, score: 3, above: 2}", 9, "exactly one of"),
        ("    - {id: x, signal: calls}", 9, "exactly one of"),
        ("    - {id: x, signal: denials, tool: a.b, score: 3}", 9, "`tool` applies to"),
        ("    - {id: x, signal: calls, tool: c.d, above: 1}", 9, "not one of the policy's tools"),
        ("    - {id: x, signal: off_hours, score: 3}", 9, "takes a threshold"),
        ("    - {id: x, signal: latency, above: 3}", 9, "Input should be"),
        ("    - {id: x, signal: calls, above: 1, window: 3 fortnights}", 9, "invalid duration"),
        (
            "    - {id: x, signal: calls, above: 1}\n    - {id: x, signal: holds, above: 1}",
            10,
            "duplicate rule id",
        ),
    ],
    ids=[
        "both",
        "neither",
        "tool-signal",
        "unknown-tool",
        "off-hours-score",
        "signal",
        "window",
        "dup",
    ],
)
def test_policy_errors_name_the_file_and_line(rules, line, message):
    with pytest.raises(PolicyError) as err:
        load_policy_text(POLICY.replace("RULES", rules), "bot.yaml")
    (problem,) = err.value.problems
    assert problem.file == "bot.yaml"
    assert problem.line == line
    assert message in problem.message


def test_unset_rules_get_the_documented_defaults():
    pol = load_policy_text(POLICY.replace("  rules:\nRULES\n", ""), "bot.yaml")
    spec = pol.spec.monitoring
    assert spec is not None
    assert [r.id for r in spec.rules] == [
        "calls.spike",
        "calls.sustained",
        "denials.drift",
        "holds.drift",
        "data_read.spike",
        "value_moved.spike",
        "new_destination",
        "off_hours",
        "injection.burst",
    ]
    assert (spec.warmup, spec.contain.at, spec.contain.action) == (7 * 1440, "critical", "draft")
