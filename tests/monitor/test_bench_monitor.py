"""`proctor bench monitor` drives the real monitor (the same fold) on a simulated clock, is
reproducible for a seed, and writes its table, JSON and plot."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

import proctor.monitor._monitor as monitor_module
from proctor.bench._monitor_traffic import AgentPlan, Incident
from proctor.bench.monitor import replay, run, run_seed, summarize
from proctor.cli import app


def test_the_simulation_folds_every_agent_minute_through_the_real_monitor(monkeypatch):
    real = monitor_module.fold
    calls: list[int] = []

    def counting(state, minute, values, policy, tools=()):
        calls.append(minute)
        return real(state, minute, values, policy, tools)

    monkeypatch.setattr(monitor_module, "fold", counting)
    result = run_seed(3, agents=2, days=10, per_kind=1)
    # every minute of every agent, but the last (grace) ones not closed yet
    assert 2 * (10 * 1440 - 3) <= len(calls) <= 2 * 10 * 1440
    assert len(result.incidents) == 5
    for inc in result.incidents:
        assert inc.detected_at is None or inc.detected_at >= inc.start


def test_a_seed_gives_the_same_result():
    a, b = run_seed(5, agents=2, days=10, per_kind=1), run_seed(5, agents=2, days=10, per_kind=1)
    assert [(i.kind, i.start, i.detected_at, i.rule) for i in a.incidents] == [
        (i.kind, i.start, i.detected_at, i.rule) for i in b.incidents
    ]
    assert (a.false_alerts, a.alerts) == (b.false_alerts, b.alerts)
    text, data = summarize([a])
    assert "every incident detected" in text
    assert data["incidents"] == 5


def test_the_command_prints_the_table_and_writes_json_and_a_png(tmp_path):
    res = CliRunner().invoke(
        app,
        [
            "bench",
            "monitor",
            "--seed",
            "2",
            "--seeds",
            "1",
            "--agents",
            "3",
            "--days",
            "10",
            "--per-kind",
            "1",
            "--plot",
            str(tmp_path / "m.png"),
            "--json",
            str(tmp_path / "m.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    for kind in ("exfiltration", "runaway_loop", "refund_spike", "denial_drift", "injection_burst"):
        assert kind in res.output
    assert "false alerts / agent-week" in res.output
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads((tmp_path / "m.json").read_text())
    assert set(data["kinds"]) == {
        "exfiltration",
        "runaway_loop",
        "refund_spike",
        "denial_drift",
        "injection_burst",
    }


def planned(index: int, tools: dict[str, float], peak: float) -> AgentPlan:
    return AgentPlan(
        index=index,
        name=f"agent-{index:02d}",
        tools=tools,
        peak=peak,
        tz=0,
        weekend=0.5,
        growth=0.005,
        deny=0.02,
        hold=0.04,
        read_chars=2000.0,
        destinations=[f"partner{j}.example" for j in range(5)],
        new_dest_rate=0.001,
        misfire_per_day=0.1,
        bursts=[(3 * DAY + 600, 60, 2.5)],  # an ordinary burst during the warm-up
    )


DAY = 1440


def test_a_refund_spike_and_a_slow_denial_drift_are_detected_end_to_end():
    """Two agents planned by hand, ten days, the default rules: the refund spike (10 times
    the usual refund rate for an hour) and the denial drift (plus 15 to 35 points over 18 hours,
    which no single minute shows) are both caught, by the rules meant for them."""
    plans = [
        planned(0, {"orders.get": 0.5, "email.send": 0.3, "payments.refund": 0.2}, 1.5),
        planned(1, {"crm.search": 0.6, "email.send": 0.4}, 2.0),
    ]
    spike = Incident("refund_spike", 0, 8 * DAY + 11 * 60, 8 * DAY + 12 * 60, "payments.refund")
    drift = Incident("denial_drift", 1, 8 * DAY + 6 * 60, 9 * DAY)
    result = replay(9, np.random.default_rng(9), plans, [spike, drift], days=10)
    assert spike.detected_at is not None
    assert spike.rule is not None
    assert spike.rule.startswith("calls.")
    assert drift.detected_at is not None
    assert drift.rule == "denials.drift"
    assert spike.detected_at >= spike.start
    assert drift.detected_at >= drift.start
    assert result.false_alerts == 0


def test_seeds_run_in_parallel_give_the_same_figures():
    one = run([5, 6], agents=2, days=10, per_kind=1)[1]
    two = run([5, 6], agents=2, days=10, per_kind=1, jobs=2)[1]
    assert one == two


def test_one_incident_kind_can_be_planted_alone(tmp_path):
    result = run_seed(4, agents=4, days=10, kinds={"refund_spike": 3})
    assert [i.kind for i in result.incidents] == ["refund_spike"] * 3
    res = CliRunner().invoke(
        app,
        [
            *("bench", "monitor", "--seed", "4", "--seeds", "1", "--agents", "4", "--days", "10"),
            *("--incident", "refund_spike:2", "--incident", "runaway_loop", "--per-kind", "1"),
            *("--json", str(tmp_path / "m.json")),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "m.json").read_text())
    assert {k: v["incidents"] for k, v in data["kinds"].items()} == {
        "refund_spike": 2,
        "runaway_loop": 1,
    }
    assert "exfiltration" not in res.output


def test_an_unknown_incident_kind_is_refused():
    for bad in ("refunds", "refund_spike:0", "refund_spike:x"):
        res = CliRunner().invoke(app, ["bench", "monitor", "--incident", bad])
        assert res.exit_code == 2, res.output
        assert "--incident" in res.output


def test_the_cli_knows_every_incident_kind():
    from proctor.bench._monitor_traffic import KINDS
    from proctor.cli.bench import INCIDENT_KINDS

    assert INCIDENT_KINDS == KINDS


def test_refund_amounts_come_from_their_own_stream():
    """The amounts never shift the rest of the traffic: another amounts stream changes the
    values refunded, and nothing else."""
    from proctor.bench._monitor_traffic import simulate

    plan = planned(0, {"orders.get": 0.5, "payments.refund": 0.5}, 3.0)
    a = simulate(np.random.default_rng(1), plan, 3 * DAY, 0, [], np.random.default_rng(10))
    b = simulate(np.random.default_rng(1), plan, 3 * DAY, 0, [], np.random.default_rng(11))
    for name in ("denials", "holds", "overrides", "data_read", "injection"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert all(np.array_equal(a.calls[t], b.calls[t]) for t in a.calls)
    refunds = a.calls["payments.refund"]
    assert ((a.value_moved > 0) == (refunds > 0)).all()
    assert not np.array_equal(a.value_moved, b.value_moved)


def test_a_denial_drift_lasts_and_climbs_in_the_agents_calls_not_the_clock():
    """A drift drawn to start on an evening lasts until the agent has made, on average, as many
    calls as it makes in the drift's length (seed 1702 of the bench planted one on a night and
    a weekend: about 60 calls in 14.6 hours, little evidence to find); one drawn on a busy
    afternoon keeps its length; and the rise shows in the calls the drift touches."""
    from proctor.bench._monitor_traffic import _in_calls, plant, rate_curve, simulate

    plan = planned(0, {"orders.get": 0.5, "email.send": 0.5}, 3.0)
    days = 14
    curve = rate_curve(plan, days * DAY, 0)
    evening = 8 * DAY + 18 * 60  # 18:00 on a Tuesday, local time (tz 0)
    length = 12 * 60
    end = evening + _in_calls(plan, days * DAY, 0, evening, length)
    assert curve[evening:end].sum() >= curve.mean() * length  # as many calls as on average
    assert curve[evening : evening + length].sum() < curve.mean() * length  # the clock: fewer
    assert end - evening > length
    # a drift on a busy afternoon keeps its length: it holds the calls already
    noon = 8 * DAY + 11 * 60
    assert _in_calls(plan, days * DAY, 0, noon, length) == length

    drift = Incident("denial_drift", 0, evening, end)
    sim = simulate(np.random.default_rng(3), plan, days * DAY, 0, [drift])
    quiet = simulate(np.random.default_rng(3), plan, days * DAY, 0, [])
    calls = sum(sim.calls.values())
    during = slice(evening, end)
    share = sim.denials[during].sum() / calls[during].sum()
    before = quiet.denials[during].sum() / sum(quiet.calls.values())[during].sum()
    assert share > before + 0.08  # the rise of 15 to 35 points shows in the calls it touches

    # every drift the planter draws holds at least its length of average traffic
    rng = np.random.default_rng(5)
    plans = [planned(i, {"orders.get": 0.5, "email.send": 0.5}, 1.0 + i) for i in range(4)]
    for p in plans:
        p.tz = 3 * p.index
    for inc in plant(rng, plans, days * DAY, 7 * DAY, 0, {"denial_drift": 4}, 0):
        c = rate_curve(plans[inc.agent], days * DAY, 0)
        assert c[inc.start : inc.end].sum() >= c.mean() * 12 * 60 * 0.999
