"""Leakage audit: how much of each held-out and external source a training source overlaps.

    python -m training.audit_overlap            # table of overlapping pairs; exit 1 on a leak

Texts are normalized (NFKC, case-folded, words only; Chinese and Japanese text cut into
characters) and compared by word n-grams. For every pair (training source, evaluation source)
the audit counts the evaluation texts that

* ``share`` at least one 8-gram with the training source (a copied sentence or template), and
* are ``near-copies``: half or more of their 8-grams occur in the training source (the ones
  ``corpus.load`` drops from the evaluation, so a leaking source silently shrinks it).

A leak, which fails the audit, is any shared n-gram between an evaluation text and a training
source we write (``package: null``: ``families.py``, ``attacks.py``, ``benign.py``,
``documents.py``), checked with the shorter 6-grams; or a package source with more near-copies
than its ``max_near_copies`` in the manifest (default 0). A source that fails is fixed or left
out of training. The training script runs this audit before it fits.
"""

from __future__ import annotations

import argparse
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import yaml

from training.corpus import MANIFEST, Sample, deduplicated, raw_samples

_CJK = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}]{{1,2}}|[^\\W_{_CJK}]+")
NEAR_COPY = 0.5
N = 8


def tokens(text: str) -> list[str]:
    """Words of the normalized text; Chinese and Japanese text counts two characters a word."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def ngrams(text: str, n: int) -> set[str]:
    words = tokens(text)
    if len(words) < n:
        return {" ".join(words)} if len(words) >= 4 else set()
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


@dataclass(frozen=True)
class Overlap:
    train_source: str
    eval_source: str
    eval_texts: int
    shared: int  # evaluated texts (kept after deduplication) sharing an 8-gram
    near_copies: int  # evaluation texts dropped as near-copies of this source
    allowed: tuple[int, int]  # the manifest's max_shared and max_near_copies
    derived: bool  # an ``embed`` source: judged through the sources it embeds

    @property
    def leak(self) -> bool:
        if self.derived:
            return False
        return self.shared > self.allowed[0] or self.near_copies > self.allowed[1]


def audit(samples: Iterable[Sample] | None = None, n: int = N) -> list[Overlap]:
    """Every (training source, evaluation source) pair that shares at least one n-gram."""
    data = list(raw_samples() if samples is None else samples)
    kept = {id(s) for s in deduplicated(data)}
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    spec = {s["id"]: s for s in manifest["sources"]}
    by_source: dict[str, list[Sample]] = defaultdict(list)
    for s in data:
        by_source[s.source].append(s)
    evals = {k: [(s, ngrams(s.text, n)) for s in v] for k, v in by_source.items()
             if v[0].split != "train"}  # fmt: skip
    out: list[Overlap] = []
    for tsrc, tsamples in by_source.items():
        if tsamples[0].split != "train":
            continue
        src = spec.get(tsrc, {})
        grams: set[str] = set()
        for s in tsamples:
            grams |= ngrams(s.text, n)
        for esrc, esamples in evals.items():
            shared = near = 0
            for s, g in esamples:
                hit = len(g & grams)
                near += bool(g) and hit / len(g) >= NEAR_COPY
                shared += hit > 0 and id(s) in kept
            if shared or near:
                allowed = (int(src.get("max_shared", 0)), int(src.get("max_near_copies", 0)))
                derived = src.get("reader") == "embed"
                out.append(Overlap(tsrc, esrc, len(esamples), shared, near, allowed, derived))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.parse_args(argv)
    rows = audit()
    print(f"{'training source':<26} {'evaluation source':<24} {'shared':>7} {'near':>5}  verdict")
    for r in sorted(rows, key=lambda r: (r.train_source, r.eval_source)):
        verdict = "via its sources" if r.derived else "LEAK" if r.leak else "ok"
        print(f"{r.train_source:<26} {r.eval_source:<24} {r.shared:>3}/{r.eval_texts:<3} "
              f"{r.near_copies:>5}   {verdict}")  # fmt: skip
    leaks = [r for r in rows if r.leak]
    print(f"{len(rows)} overlapping pairs, {len(leaks)} leaks")
    return 1 if leaks else 0


if __name__ == "__main__":
    raise SystemExit(main())
