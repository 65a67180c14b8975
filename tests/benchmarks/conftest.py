"""The benchmark's question generator and Cedar translation live in ``benchmarks/``, a directory
of scripts rather than a package; put it on the import path so these tests ask the same questions
as ``make bench``."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = str(Path(__file__).resolve().parents[2] / "benchmarks")
if BENCHMARKS not in sys.path:
    sys.path.insert(0, BENCHMARKS)
