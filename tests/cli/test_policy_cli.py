"""`proctor policy check | explain | schema` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proctor.cli import app

ROOT = Path(__file__).resolve().parents[2]
REFUNDS = ROOT / "examples" / "refunds.yaml"
runner = CliRunner()


def run(*args: str, stdin: str | None = None):
    return runner.invoke(app, list(args), input=stdin, env={"COLUMNS": "200"})


def test_check_ok_names_agent_and_counts():
    res = run("policy", "check", str(REFUNDS))
    assert res.exit_code == 0, res.output
    assert "ok" in res.output
    assert "agent refunds-bot, 2 tools, 2 constraints" in res.output


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "expected"),
    [
        ("[moves_money]", "[moves-money]", 19, "tools.payments.refund.flags.0", "moves_money"),
        (
            "args.amount > 100.0",
            "args.amout > 100.0",
            26,
            "tools.payments.refund.constraints.0.when",
            "unknown argument(s) amout",
        ),
        (
            "args.amount > 1000.0",
            "args.amount >",
            30,
            "tools.payments.refund.constraints.1.when",
            "CEL syntax error",
        ),
        (
            "rate_limit: 20/hour",
            "rate_limit: 20/fortnight",
            33,
            "tools.payments.refund.rate_limit.per_session",
            "expected COUNT/UNIT",
        ),
    ],
    ids=["unknown-flag", "unknown-argument", "cel-syntax", "bad-rate"],
)
def test_check_names_file_line_field(tmp_path, old, new, line, field, expected):
    text = REFUNDS.read_text()
    assert old in text
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace(old, new, 1))
    res = run("policy", "check", str(bad))
    assert res.exit_code == 1
    assert f"bad.yaml:{line}: {field}:" in res.output
    assert expected in res.output


def test_check_directory_with_overlapping_environments(tmp_path):
    text = REFUNDS.read_text()
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text)
    res = run("policy", "check", str(tmp_path))
    assert res.exit_code == 1
    assert "overlapping environments" in res.output
    assert "a.yaml" in res.output
    assert "b.yaml" in res.output


def _explain(tmp_path, call: dict[str, object], *extra: str):
    f = tmp_path / "call.json"
    f.write_text(json.dumps(call))
    return run("policy", "explain", str(REFUNDS), str(f), *extra)


@pytest.mark.parametrize(
    ("amount", "verdict", "rule"),
    [
        (40.0, "ALLOW", "allow.payments.refund"),
        (250.0, "HOLD", "refund.over-100"),
        (5000.0, "DENY", "refund.over-1000"),
    ],
)
def test_explain_json_gives_verdict_and_rule(tmp_path, amount, verdict, rule):
    res = _explain(
        tmp_path,
        {"tool": "payments.refund", "args": {"order_id": "O-1", "amount": amount}},
        "--json",
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["verdict"] == verdict
    assert rule in out["rule_ids"]
    assert [s["step"] for s in out["steps"]] == ["resolve", "boundary", "limits", "rate"]


def test_explain_table_shows_every_step_and_seen_values(tmp_path):
    res = _explain(
        tmp_path, {"tool": "payments.refund", "args": {"order_id": "O-1", "amount": 250.0}}
    )
    assert res.exit_code == 0
    for step in ("resolve", "boundary", "limits", "rate"):
        assert step in res.output
    assert "refund.over-100" in res.output
    assert '"amount": 250.0' in res.output
    assert "verdict: HOLD (needs 1 approver(s) from finance)" in res.output


def test_explain_with_usage_evaluates_rate(tmp_path):
    res = _explain(
        tmp_path,
        {
            "tool": "payments.refund",
            "args": {"order_id": "O-1", "amount": 5.0},
            "usage": {"rate.payments.refund.session": 20},
        },
        "--json",
    )
    out = json.loads(res.output)
    assert out["verdict"] == "DENY"
    assert out["rule_ids"] == ["rate.payments.refund.session"]


def test_explain_reads_stdin(tmp_path):
    f = tmp_path / "unused"
    del f
    res = run(
        "policy",
        "explain",
        str(REFUNDS),
        "-",
        "--json",
        stdin=json.dumps({"tool": "payments.void", "args": {}}),
    )
    assert json.loads(res.output)["rule_ids"] == ["default-deny"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("not json", "cannot read the call as JSON"),
        ("[1, 2]", "expected an object"),
        ('{"tool": "orders.get", "environment": "moon"}', "unknown environment"),
    ],
)
def test_explain_rejects_bad_call_files(tmp_path, content, expected):
    f = tmp_path / "call.json"
    f.write_text(content)
    res = run("policy", "explain", str(REFUNDS), str(f))
    assert res.exit_code == 2
    assert expected in res.output


def test_schema_is_json_schema_of_policy_files():
    res = run("policy", "schema")
    schema = json.loads(res.output)
    assert schema["title"] == "PolicySpec"
    assert {"agent", "environments", "tools"} <= set(schema["properties"])
