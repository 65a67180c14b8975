"""docs/memory.md is executable: its policy section loads (its Python example is run by
tests/test_data_docs.py, with the other pages of that shape)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_policy_section_of_the_page_loads():
    from proctor.policy import load_policy_text

    text = (ROOT / "docs" / "memory.md").read_text()
    section = re.search(r"## The policy section\n\n```yaml\n(.*?)```", text, re.DOTALL)
    assert section
    head = (
        "version: 1\nagent: {name: bot, role: svc, owner: team@example.com}\n"
        "environments: {production: {max_autonomy: write}}\n"
    )
    spec = load_policy_text(head + section.group(1), "memory.md").spec.memory
    assert spec.kinds["loyalty_tier"].review
    assert spec.subject == "session.scope.customer"


def test_the_shell_examples_name_real_commands():
    from typer.testing import CliRunner

    from proctor.cli import app

    text = (ROOT / "docs" / "memory.md").read_text()
    block = re.search(r"## From the shell\n\n```bash\n(.*?)```", text, re.DOTALL)
    assert block
    runner = CliRunner()
    for line in block.group(1).splitlines():
        command = line.split()[2]
        res = runner.invoke(app, ["memory", command, "--help"])
        assert res.exit_code == 0, (command, res.output)
        for option in re.findall(r"(--[a-z-]+)", line):
            assert option in res.output, (command, option)


def test_the_vector_search_example_runs_and_prints_what_the_page_shows(tmp_path):
    text = (ROOT / "docs" / "memory.md").read_text()
    section = text.split("## Vector search", 1)[1].split("\n## ", 1)[0]
    code = re.findall(r"```python\n(.*?)```", section, re.DOTALL)[0]
    shown = re.search(r"It prints:\n\n```text\n(.*?)```", section, re.DOTALL)
    assert shown
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == shown.group(1)


def test_the_http_table_names_real_routes():
    from proctor.server import GatewaySettings, create_app

    text = (ROOT / "docs" / "memory.md").read_text()
    section = text.split("## Over HTTP", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `(?:GET|POST|DELETE) (/v1/[^`?, ]+)", section, re.MULTILINE))
    app = create_app(GatewaySettings(policy=ROOT / "examples" / "gateway"))
    routes = {re.sub(r"\{\w+_id\}", "{id}", p) for p in app.openapi()["paths"]}
    assert listed
    assert listed <= routes, listed - routes
