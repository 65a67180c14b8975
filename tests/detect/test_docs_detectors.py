"""docs/detectors.md is executable: its Python example runs, and it names every detector."""

from __future__ import annotations

import re
from pathlib import Path

from proctor.detect import BUILTIN

DOC = Path(__file__).resolve().parents[2] / "docs" / "detectors.md"


def test_python_examples_run(capsys):
    scan, gate = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.DOTALL)
    exec(compile(scan, str(DOC), "exec"), {})
    out = capsys.readouterr().out
    assert "hidden.markup instructions" in out
    assert "hostile: True" in out
    exec(compile(gate, str(DOC), "exec"), {})
    assert capsys.readouterr().out.strip() == "HOLD ('detect.hostile_content',)"


def test_every_detector_is_documented():
    text = DOC.read_text()
    missing = [det_id for det_id in BUILTIN if f"`{det_id}`" not in text]
    assert missing == []
