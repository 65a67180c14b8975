"""CPU work of the rule detectors, in instructions per text (valgrind's callgrind).

Wall-clock latency depends on what else the machine runs; an instruction count does not. This
runs the rules (the default registry without the classifier) on the same benign 1 KB and 10 KB
texts as ``bench_detect.py``'s latency figures, under ``valgrind --tool=callgrind``, three
times: setup only (imports, registry, one warm-up pass over every text), then setup and one
more pass over the twenty 1 KB texts, then over the twenty 10 KB texts. The differences,
divided by twenty, are the instructions of one warm check::

    python benchmarks/detect_instructions.py          # needs valgrind on PATH; ~5 minutes

``run`` is the part that valgrind runs (``run TEXTS.json setup|1k|10k``).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

N = 20


def run(texts_file: str, mode: str) -> None:
    from proctor.detect import DetectorRegistry

    rules = DetectorRegistry.default().without("injection.classifier")
    texts = json.loads(Path(texts_file).read_text(encoding="utf-8"))
    for size in ("1k", "10k"):
        for text in texts[size]:
            rules.check(text)  # warm: compiled regexes and caches
    if mode != "setup":
        for text in texts[mode]:
            rules.check(text)


def instructions(texts_file: Path, mode: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(  # noqa: S603 (fixed argv)
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/out",  # noqa: S607
             sys.executable, __file__, "run", str(texts_file), mode],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    m = re.search(r"Collected : (\d+)", proc.stderr)
    if m is None:
        raise RuntimeError(f"no instruction count in valgrind's output:\n{proc.stderr[-2000:]}")
    return int(m.group(1))


def main() -> int:
    if sys.argv[1:2] == ["run"]:
        run(sys.argv[2], sys.argv[3])
        return 0
    from training.corpus import load

    from bench_detect import sized

    benign = [s for s in load(("heldout", "external")) if s.split == "heldout"]
    texts = {"1k": sized(benign, 1024, N), "10k": sized(benign, 10240, N)}
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts), encoding="utf-8")
        base = instructions(texts_file, "setup")
        for mode in ("1k", "10k"):
            per_text = (instructions(texts_file, mode) - base) / N
            print(f"rules, {mode:>3}: {per_text / 1e6:6.2f} M instructions per check")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
