"""docs/audit.md is executable: its Python example runs and prints what the page says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_quick_start_runs_and_prints_what_the_page_shows():
    text = (ROOT / "docs" / "audit.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    shown = re.search(r"prints \(digests shortened here\)\n\n```text\n(.*?)```", text, re.DOTALL)
    assert shown
    res = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    got = res.stdout.splitlines()
    want = shown.group(1).splitlines()
    assert len(got) == len(want)
    for line, pattern in zip(got, want, strict=True):
        parts = [re.escape(p) for p in re.split(r"…|\.\.\.", pattern)]
        assert re.fullmatch(".*".join(parts), line), (line, pattern)
