"""The AgentDojo replay: honest inputs (no attacker value in the policy) and a small run."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

pytest.importorskip("agentdojo")

from proctor.bench._agentdojo_policy import GENERIC, suite_policy
from proctor.bench._agentdojo_suites import SUITES
from proctor.cli import app
from proctor.flow import extract, normalize


def _suites():
    from agentdojo.task_suite.load_suites import get_suites

    return get_suites("v1.2")


def _schemas(suite):
    return {t.name: t.parameters.model_json_schema() for t in suite.tools}


@pytest.mark.parametrize("name", sorted(SUITES))
def test_every_tool_of_the_suite_has_flags_and_nothing_else_does(name):
    suite = _suites()[name]
    assert set(SUITES[name]) == {t.name for t in suite.tools}


@pytest.mark.parametrize("name", sorted(SUITES))
def test_no_policy_names_an_attackers_value(name):
    suite = _suites()[name]
    attacker = {
        f.value
        for task in suite.injection_tasks.values()
        for f in extract(task.GOAL)
        if f.kind in ("email", "url", "domain", "iban", "phone")
    }
    assert attacker, "the goals name attacker addresses"
    policy = normalize(suite_policy(name, _schemas(suite), SUITES[name]))
    assert [v for v in attacker if v in policy] == []


def test_the_generic_policy_keeps_every_flow_rule_at_its_default():
    assert GENERIC["flow"] == {}


def test_a_small_replay_reports_and_writes_json(tmp_path):
    from proctor.bench.agentdojo import run

    out = tmp_path / "r.json"
    text, doc = run(["banking"], out, limit=2)
    assert "banking" in text
    assert "overall" in text
    saved = json.loads(out.read_text())
    rep = saved["suites"]["banking"]
    assert (rep["user_tasks"], rep["pairs"], rep["evaluated_pairs"]) == (2, 4, 4)
    assert rep["attack_success"] == 0
    assert saved["details"]["banking"]["pairs"][0]["attacker_calls"]
    assert doc["suite_version"] == "v1.2"


def test_cli_rejects_an_unknown_suite():
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    res = CliRunner().invoke(app, ["bench", "agentdojo", "--suite", "chess"], env=env)
    assert res.exit_code != 0
    assert "unknown suite" in res.output
