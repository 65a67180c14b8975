"""The demo's budget scene: credits add up per customer; the one that would pass the budget
is held, reserves nothing, and the audit log names the budget."""

from __future__ import annotations

import io

from rich.console import Console

from proctor.audit import AuditLog, EventKind
from proctor.demo import run_demo
from proctor.policy._budget import account_key
from proctor.store import create_store_engine


def test_the_demo_shows_a_budget_hold(tmp_path):
    buf = io.StringIO()
    db = tmp_path / "demo.db"
    assert run_demo(Console(file=buf, width=400), db_path=db) == 0
    out = buf.getvalue()
    assert (
        "credit 30.00 USD to C1001: pending [budget.goodwill] budget goodwill would be exceeded "
        "(85 USD" in out
    )
    assert "credit 30.00 USD to C1002: executed [budget.goodwill] within budget goodwill" in out
    row = next(line for line in out.splitlines() if account_key("C1001", "acme")[:20] in line)
    assert "│    85 │        0 │ 100 USD │ 15 USD" in row
    assert "C1001" not in row  # the account is a digest, never the customer id
    assert "proctor budget status --policy" in out
    engine = create_store_engine(f"sqlite:///{db}")
    try:
        bodies = [r.body for r in AuditLog(engine, None).records() if r.kind == EventKind.DECISION]
    finally:
        engine.dispose()
    budgeted = [b for b in bodies if "budget.goodwill" in b.get("rule_ids", ())]
    assert len(budgeted) == 4  # every decision names the budget, within it or not
    # (outcome records name the rules too, for receipts: only the decisions are counted here)
    held = [b for b in budgeted if b["verdict"] == "HOLD"]
    assert len(held) == 1
    (reason,) = held[0]["reasons"]
    assert "would be exceeded (85 USD spent" in reason
    assert "adds <amount> USD" in reason  # the call's amount is masked like its arguments
    assert "C1001" not in str(held[0])  # the customer (the budget's key) is not kept clear
