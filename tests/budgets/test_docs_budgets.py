"""docs/budgets.md: its policy loads and is the example's; the reasons it shows are the
demo's, word for word."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from proctor import load_policy, load_policy_text
from proctor.demo._budgets import budget_scene

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "budgets.md").read_text()


def test_the_page_policy_loads_and_matches_the_example():
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", PAGE, re.DOTALL) if "version:" in b]
    page = load_policy_text(block, "docs/budgets.md")
    example = load_policy(ROOT / "examples" / "budgets.yaml")
    shape = [(b.name, b.limit, b.window, b.scope, b.verdict, sorted(b.terms)) for b in page.budgets]
    assert shape == [
        (b.name, b.limit, b.window, b.scope, b.verdict, sorted(b.terms)) for b in example.budgets
    ]


def test_the_reasons_the_page_shows_are_what_the_gate_says(tmp_path):
    from proctor.store import create_store_engine, migrate

    engine = create_store_engine(f"sqlite:///{tmp_path / 'd.db'}")
    migrate(engine)
    buf = io.StringIO()
    try:
        assert budget_scene(Console(file=buf, width=1000), engine)
    finally:
        engine.dispose()
    (shown,) = re.findall(r"## What a decision says.*?```text\n(.*?)```", PAGE, re.DOTALL)
    for line in shown.splitlines():
        assert line in buf.getvalue()
