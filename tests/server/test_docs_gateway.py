"""docs/gateway.md and docs/mcp.md are executable: their quick starts run and print what the
pages show; their policies load; every endpoint the gateway page names exists."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from proctor.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]


def _matches(line: str, pattern: str) -> bool:
    parts = [re.escape(p) for p in re.split(r"…", pattern)]
    return re.fullmatch(".*".join(parts), line) is not None


@pytest.mark.parametrize("page", ["gateway.md", "mcp.md"])
def test_quick_start_runs_and_prints_what_the_page_shows(page):
    text = (ROOT / "docs" / page).read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    shown = re.search(r"prints \(ids shortened here\):\n\n```text\n(.*?)```", text, re.DOTALL)
    assert shown
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    got, want = res.stdout.splitlines(), shown.group(1).splitlines()
    assert len(got) == len(want), res.stdout
    for line, pattern in zip(got, want, strict=True):
        assert _matches(line, pattern), (line, pattern)


def test_example_policies_load():
    for path in [*ROOT.glob("examples/gateway/*.yaml"), *ROOT.glob("examples/mcp/*.yaml")]:
        load_policy(path)


def test_every_endpoint_on_the_page_exists(world):
    text = (ROOT / "docs" / "gateway.md").read_text()
    named = set(re.findall(r"`(?:GET|POST) (/v1/[^` ?]+)", text))
    spec = set(world.client.get("/openapi.json").json()["paths"])
    spec_patterns = {re.sub(r"\{[^}]+\}", "{id}", p) for p in spec}
    for path in named:
        assert re.sub(r"\{[^}]+\}", "{id}", path) in spec_patterns, path
