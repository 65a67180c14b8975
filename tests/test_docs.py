"""Docs are executable: generated pages are fresh, examples and README code run."""

from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from proctor import docgen

ROOT = Path(__file__).resolve().parents[1]


def test_generated_docs_are_fresh():
    assert docgen.main(["--check"]) == 0, "run `make docs` and commit docs/"


@pytest.mark.parametrize("page", sorted(docgen.PAGES))
def test_generated_page_matches_renderer(page):
    assert (ROOT / "docs" / page).read_text() == docgen.PAGES[page]().rstrip() + "\n"


@pytest.mark.parametrize(
    "example", sorted(p.name for p in (ROOT / "examples").glob("*.py")), ids=str
)
def test_examples_run_and_print_what_they_claim(example, capsys):
    path = ROOT / "examples" / example
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    text = path.read_text()
    assert "# Expected output" in text, "each example states its expected output"
    expected = text.split("# Expected output", 1)[1].splitlines()[1:]
    lines = [ln[2:] for ln in expected if ln.startswith("# ")]
    assert lines
    for line in lines:
        assert line in out


def test_readme_quick_start_runs():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert blocks, "README has a python quick start"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    for code in blocks:
        res = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert res.returncode == 0, res.stderr
        assert "40.0 executed refunded 40.00 on O-1001" in res.stdout
        assert "250.0 pending apr_" in res.stdout
        assert "5000.0 denied Refunds above 1000" in res.stdout


def test_every_policy_file_in_the_repo_loads():
    from proctor.policy import load_policy

    files = [*ROOT.glob("examples/*.yaml"), *ROOT.glob("src/proctor/demo/*.yaml")]
    assert files
    for f in files:
        load_policy(f)


def _matches(line: str, pattern: str) -> bool:
    parts = [re.escape(p) for p in re.split(r"…|\.\.\.", pattern)]
    return re.fullmatch(".*".join(parts), line) is not None


def test_approvals_page_example_runs_and_prints_what_the_page_shows():
    text = (ROOT / "docs" / "approvals.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    shown = re.search(r"prints \(ids shortened here\)\n\n```text\n(.*?)```", text, re.DOTALL)
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
    got, want = res.stdout.splitlines(), shown.group(1).splitlines()
    assert len(got) == len(want), res.stdout
    for line, pattern in zip(got, want, strict=True):
        assert _matches(line, pattern), (line, pattern)


def test_approvals_page_policy_loads():
    from proctor.policy import load_policy_text

    text = (ROOT / "docs" / "approvals.md").read_text()
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL) if "version:" in b]
    assert blocks
    for block in blocks:
        pol = load_policy_text(block, "docs/approvals.md")
        rule = pol.tools["payouts.send"].approval_rule
        assert (rule.two_person, rule.on_expiry, rule.min_confidence) == (True, "escalate", 0.8)
        assert rule.expires_seconds == 4 * 3600
