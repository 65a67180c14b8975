"""The demo's budget scene: credits add up per customer; the one that would pass the budget
is held, reserves nothing, and the audit log names the budget."""

from __future__ import annotations

import io

from rich.console import Console

from proctor.audit import AuditLog
from proctor.demo import run_demo
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
    assert "tenant:acme|key:C1001 │    85 │        0 │ 100 USD │ 15 USD" in out
    assert "proctor budget status --policy" in out
    engine = create_store_engine(f"sqlite:///{db}")
    try:
        bodies = [r.body for r in AuditLog(engine, None).records()]
    finally:
        engine.dispose()
    assert any("budget.goodwill" in str(b) and "would be exceeded" in str(b) for b in bodies)
