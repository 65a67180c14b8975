"""docs/data-access.md, docs/credentials.md and docs/memory.md are executable: their Python
example runs and prints what the page says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("page", ["data-access.md", "credentials.md", "memory.md"])
def test_the_quick_start_runs_and_prints_what_the_page_shows(page, tmp_path):
    text = (ROOT / "docs" / page).read_text()
    code = re.findall(r"```python\n(.*?)```", text, re.DOTALL)[0]
    shown = re.search(r"It prints[^\n]*\n\n```text\n(.*?)```", text, re.DOTALL)
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
    got = res.stdout.splitlines()
    want = shown.group(1).splitlines()
    assert len(got) == len(want), res.stdout
    for line, pattern in zip(got, want, strict=True):
        parts = [re.escape(p) for p in pattern.split("…")]
        assert re.fullmatch(".*".join(parts), line), (line, pattern)
