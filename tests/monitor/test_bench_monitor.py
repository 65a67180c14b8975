"""`proctor bench monitor` drives the real monitor (the same fold) on a simulated clock, is
reproducible for a seed, and writes its table, JSON and plot."""

from __future__ import annotations

import json

from typer.testing import CliRunner

import proctor.monitor._monitor as monitor_module
from proctor.bench.monitor import run_seed, summarize
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
