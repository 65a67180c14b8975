"""Train the injection classifier offline and write it as package data.

    pip install -e '.[train]'
    python -m training.train_classifier [--buckets 65536] [--C 16] [--out PATH]

Fits an L2-regularized logistic regression (scikit-learn) on the ``train`` split of
``training/manifest.yaml`` only, over the same hashed n-gram features the runtime computes
(``proctor.detect._linear.features``). First the leakage audit (``training.audit_overlap``)
must pass. Every choice is made on out-of-fold predictions of the training split, one source
left out at a time, never on the held-out or external splits: the regularization ``C`` (the
grid value with the best leave-one-source-out TPR at 1 % FPR, unless ``--C`` is given) and the
decision threshold (1 % false positives on the left-out benign texts). Weights are quantized
to int8. The same corpus and interpreter give the same bytes.
"""

from __future__ import annotations

import argparse
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from proctor.detect._linear import LinearModel, features, windows
from training.corpus import ROOT, Sample, corpus_digest, load

GRID = (2.0, 4.0, 8.0, 16.0, 32.0)


def matrix(texts: list[str], buckets: int) -> csr_matrix:
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        for h, v in features(text, buckets).items():
            rows.append(i)
            cols.append(h)
            vals.append(v)
    return csr_matrix((vals, (rows, cols)), shape=(len(texts), buckets), dtype=np.float32)


@dataclass
class Windows:
    """The training texts cut into the windows the runtime scores, with their owners."""

    samples: list[Sample]
    x: csr_matrix
    y: np.ndarray
    groups: np.ndarray
    owner: np.ndarray

    @staticmethod
    def of(samples: Sequence[Sample], buckets: int) -> Windows:
        texts, labels, groups, owner = [], [], [], []
        for i, s in enumerate(samples):
            for win in windows(s.text):
                texts.append(win)
                labels.append(s.label)
                groups.append(s.group)
                owner.append(i)
        return Windows(list(samples), matrix(texts, buckets), np.array(labels),
                       np.array(groups), np.array(owner))  # fmt: skip

    @property
    def text_labels(self) -> np.ndarray:
        return np.array([s.label for s in self.samples])

    def per_text(self, window_scores: np.ndarray) -> np.ndarray:
        """Each text's score: its most hostile window's."""
        out = np.full(len(self.samples), -np.inf)
        np.maximum.at(out, self.owner, window_scores)
        return out


def fit(x: csr_matrix, y: np.ndarray, c: float) -> LogisticRegression:
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    return model.fit(x, y)


def leave_one_source_out(w: Windows, c: float) -> np.ndarray:
    """Per-text scores, each source scored by a model that never saw it (as a new source
    would be)."""
    oof = np.zeros(len(w.y))
    for src in sorted(set(w.groups)):
        te = w.groups == src
        oof[te] = fit(w.x[~te], w.y[~te], c).decision_function(w.x[te])
    return w.per_text(oof)


def threshold_at(scores: np.ndarray, labels: np.ndarray, fpr: float) -> float:
    benign = np.sort(scores[labels == 0])
    return float(benign[min(len(benign) - 1, int(np.ceil(len(benign) * (1 - fpr))))])


def train(samples: Sequence[Sample], c: float, buckets: int, cut: float,
          meta: dict[str, object]) -> LinearModel:  # fmt: skip
    """The int8 model fitted on all ``samples`` with the threshold ``cut`` (a logit)."""
    w = Windows.of(samples, buckets)
    model = fit(w.x, w.y, c)
    coef = model.coef_[0]
    scale = float(np.abs(coef).max() / 127) or 1.0
    q = np.clip(np.round(coef / scale), -127, 127).astype(np.int8)
    return LinearModel(array("b", q.tobytes()), scale, float(model.intercept_[0]),
                       float(1 / (1 + np.exp(-cut))), meta)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buckets", type=int, default=1 << 16)
    ap.add_argument("--C", type=float, default=None, help="skip the search over the grid")
    ap.add_argument("--target-fpr", type=float, default=0.01)
    ap.add_argument("--out", type=Path, default=ROOT / "src/proctor/detect/data/injection.lm")
    args = ap.parse_args(argv)

    from training.audit_overlap import audit

    leaks = [r for r in audit() if r.leak]
    if leaks:
        for r in leaks:
            print(f"leak: {r}")
        raise SystemExit("the leakage audit failed: python -m training.audit_overlap")

    train_set = load(("train",))
    w = Windows.of(train_set, args.buckets)
    ty = w.text_labels
    print(f"train: {len(train_set)} texts, {len(w.y)} windows, {int(w.y.sum())} hostile windows")

    results: dict[float, tuple[float, float, float]] = {}
    oof: dict[float, np.ndarray] = {}
    for c in (args.C,) if args.C else GRID:
        per_text = oof[c] = leave_one_source_out(w, c)
        cut = threshold_at(per_text, ty, args.target_fpr)
        tpr = float(np.mean(per_text[ty == 1] > cut))
        results[c] = (tpr, float(roc_auc_score(ty, per_text)), cut)
        print(f"C={c:<5g} leave-one-source-out AUC {results[c][1]:.4f}, TPR {tpr:.3f} at "
              f"{args.target_fpr:.1%} FPR (logit threshold {cut:.3f})", flush=True)  # fmt: skip
    best = max(results, key=lambda c: (round(results[c][0], 3), -c))
    tpr, lso_auc, cut = results[best]
    above = Counter(s.source for s, v in zip(train_set, oof[best], strict=True)
                    if not s.label and v > cut)  # fmt: skip
    print("benign texts above the threshold, left out with their source: "
          + ", ".join(f"{k} {n}" for k, n in above.most_common()))  # fmt: skip
    model = train(
        train_set,
        best,
        args.buckets,
        cut,
        {
            "trained_on": sorted({s.source for s in train_set}),
            "texts": len(train_set),
            "windows": len(w.y),
            "C": best,
            "corpus_sha256": corpus_digest(),
            "leave_one_source_out_auc": round(lso_auc, 4),
            "leave_one_source_out_tpr_at_1pct": round(tpr, 4),
        },
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(model.dumps())
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes), C={best}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
