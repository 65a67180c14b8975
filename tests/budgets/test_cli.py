"""``proctor budget status``: every budget account with spent, reserved, limit and left."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from proctor import Gate, OutcomeStatus, load_policy
from proctor.budgets import SqlLedger
from proctor.cli import app
from proctor.policy import Charge
from proctor.policy._budget import account_key
from proctor.store import create_store_engine, migrate

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "budgets.yaml"


def _spend(url: str) -> None:
    engine = create_store_engine(url)
    migrate(engine)
    ledger = SqlLedger(engine)
    gate = Gate(load_policy(EXAMPLE), budgets=ledger)
    try:
        s = gate.open_session("billing-bot", principal="p", tenant="acme")
        for tool, args in [
            ("billing.discount", {"customer_id": "C7", "amount": 100.0}),
            ("billing.credit", {"account": "C7", "value": 20.25}),
            ("billing.credit", {"account": "C9", "value": 5.0}),
        ]:
            out = asyncio.run(gate.aauthorize(s, tool, args))  # the gateway's decide
            assert out.status is OutcomeStatus.ALLOWED
        # a call in flight: reserved, not yet committed
        key = "billing-bot/refunds-daily|agent"
        ledger.reserve(
            [
                Charge(
                    "budget.refunds-daily",
                    "billing-bot/refunds-daily",
                    key,
                    500_000_000,
                    2000_000_000,
                    86400,
                )
            ],
            60,
        )
    finally:
        gate.close()
        engine.dispose()


def test_status_shows_spent_reserved_limit_and_left_per_key(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    _spend(url)
    res = CliRunner().invoke(
        app, ["budget", "status", "--policy", str(EXAMPLE), "--database-url", url, "--json"]
    )
    assert res.exit_code == 0, res.output
    rows = {(r["budget"], r["key"]): r for r in json.loads(res.output)}
    c7 = rows[("goodwill", "tenant:acme|key:" + account_key("C7", "acme"))]
    assert (c7["spent"], c7["reserved"], c7["limit"], c7["left"], c7["window"]) == (
        "120.25",
        "0",
        "150",
        "29.75",
        "30 days",
    )
    assert rows[("goodwill", "tenant:acme|key:" + account_key("C9", "acme"))]["left"] == "145"
    refunds = rows[("refunds-daily", "agent")]
    assert (refunds["spent"], refunds["reserved"], refunds["left"]) == ("0", "500", "1500")
    assert rows[("outbound-email", "-")]["left"] == "200"  # nobody sent anything yet
    table = CliRunner().invoke(
        app,
        ["budget", "status", "--policy", str(EXAMPLE), "--database-url", url],
        env={"COLUMNS": "200"},
    )
    assert table.exit_code == 0
    assert "tenant:acme|key:" + account_key("C7", "acme") in table.output
    assert "2,000 USD" in table.output
    assert "1,500 USD" in table.output


def test_status_without_a_store_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("PROCTOR_SQLITE_PATH", str(tmp_path / "missing.db"))
    monkeypatch.delenv("PROCTOR_DATABASE_URL", raising=False)
    res = CliRunner().invoke(app, ["budget", "status", "--policy", str(EXAMPLE)])
    assert res.exit_code == 2
    assert "does not exist" in res.output


def test_policy_check_warns_of_a_key_budget_no_agent_wide_budget_caps(tmp_path):
    """review H2 (c): the agent steers key and session scopes; alone, they cap nothing."""
    text = EXAMPLE.read_text()
    start = text.index("  goodwill-tenant:")
    alone = tmp_path / "alone.yaml"
    alone.write_text(text[:start] + text[text.index("  outbound-email:") :])
    env = {"COLUMNS": "300"}
    res = CliRunner().invoke(app, ["policy", "check", str(alone)], env=env)
    assert res.exit_code == 0, res.output
    said = " ".join(res.output.split())
    assert "warning" in said
    assert "budget goodwill (scope key) is steerable by the agent" in said
    assert "caps billing.credit, billing.discount" in said
    paired = CliRunner().invoke(app, ["policy", "check", str(EXAMPLE)], env=env)
    assert paired.exit_code == 0, paired.output
    assert "warning" not in paired.output
