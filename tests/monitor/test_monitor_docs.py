"""docs/monitoring.md: its example runs and prints what the page shows; its policy loads."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from proctor.policy import load_policy_text

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "monitoring.md"


def test_the_example_runs_and_prints_what_the_page_shows():
    text = PAGE.read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    shown = re.search(r"prints\n\n```text\n(.*?)```", text, re.DOTALL)
    assert shown
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == shown.group(1).splitlines()


def test_the_rules_shown_load():
    text = PAGE.read_text()
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL) if "rules:" in b]
    policy = (
        "version: 1\nagent: {name: bot, role: r, owner: o}\n"
        "environments: {production: {max_autonomy: write}}\n"
        "tools:\n  payments.refund: {autonomy: write}\n" + block
    )
    spec = load_policy_text(policy, "docs/monitoring.md").spec.monitoring
    assert spec is not None
    assert [r.id for r in spec.rules] == ["refunds.spike", "injection.burst"]
    assert (spec.alerts.dedup, spec.destinations.young_for) == (30, 60)


def test_the_value_shown_loads_and_computes():
    from proctor.model import Environment, Session, ToolCall
    from proctor.monitor._signals import call_value, value_expressions

    text = PAGE.read_text()
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL) if "value:" in b]
    policy = (
        "version: 1\nagent: {name: bot, role: r, owner: o}\n"
        "environments: {production: {max_autonomy: write}}\n"
        "tools:\n  payments.refund: {autonomy: write, args: {amount: number}}\n"
        "  credits.grant: {autonomy: write, args: {credits: integer}}\n" + block
    )
    exprs = value_expressions(load_policy_text(policy, "docs/monitoring.md"))
    session = Session("bot", "p", "t", Environment.PRODUCTION)
    grant = ToolCall("credits.grant", {"credits": 250}, session.id)
    assert call_value(exprs, session, grant) == 2.5
