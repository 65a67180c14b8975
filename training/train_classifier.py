"""Train the injection classifier offline and write it as package data.

    pip install -e '.[train]'
    python -m training.train_classifier [--buckets 65536] [--out PATH]

Fits an L2-regularized logistic regression (scikit-learn) on the ``train`` split of
``training/manifest.yaml`` only, over the same hashed n-gram features the runtime computes
(``proctor.detect._linear.features``). The decision threshold is chosen on out-of-fold
predictions of the training split, one source left out at a time (1 % false positives on its
benign texts), never on the held-out or external splits. Weights are quantized to int8.
"""

from __future__ import annotations

import argparse
import hashlib
from array import array
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from proctor.detect._linear import LinearModel, features, windows
from training.corpus import MANIFEST, ROOT, load


def matrix(texts: list[str], buckets: int) -> csr_matrix:
    rows, cols, vals = [], [], []
    for i, text in enumerate(texts):
        for h, v in features(text, buckets).items():
            rows.append(i)
            cols.append(h)
            vals.append(v)
    return csr_matrix((vals, (rows, cols)), shape=(len(texts), buckets), dtype=np.float32)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buckets", type=int, default=1 << 16)
    ap.add_argument("--C", type=float, default=4.0)
    ap.add_argument("--target-fpr", type=float, default=0.01)
    ap.add_argument("--out", type=Path, default=ROOT / "src/proctor/detect/data/injection.lm")
    args = ap.parse_args(argv)

    train = load(("train",))
    texts, labels, groups, owner = [], [], [], []
    for i, s in enumerate(train):
        for win in windows(s.text):
            texts.append(win)
            labels.append(s.label)
            groups.append(s.source)
            owner.append(i)
    y = np.array(labels)
    g = np.array(groups)
    x = matrix(texts, args.buckets)
    print(f"train: {len(train)} texts, {len(texts)} windows, {int(y.sum())} hostile windows")

    def fit(xs: csr_matrix, ys: np.ndarray) -> LogisticRegression:
        model = LogisticRegression(C=args.C, class_weight="balanced", max_iter=2000)
        return model.fit(xs, ys)

    # Leave one SOURCE out: each source is scored by a model that never saw it, as a new
    # source would be. The threshold is set on these scores (per text: its worst window).
    oof = np.zeros(len(y))
    for src in sorted(set(groups)):
        te = g == src
        oof[te] = fit(x[~te], y[~te]).decision_function(x[te])
    per_text = np.full(len(train), -np.inf)
    np.maximum.at(per_text, np.array(owner), oof)
    ty = np.array([s.label for s in train])
    benign = np.sort(per_text[ty == 0])
    cut = benign[min(len(benign) - 1, int(np.ceil(len(benign) * (1 - args.target_fpr))))]
    lso_auc = float(roc_auc_score(ty, per_text))
    print(f"leave-one-source-out AUC {lso_auc:.4f}; logit threshold {cut:.3f} "
          f"(TPR {np.mean(per_text[ty == 1] > cut):.3f} at {args.target_fpr:.1%} FPR)")  # fmt: skip

    model = fit(x, y)
    w = model.coef_[0]
    scale = float(np.abs(w).max() / 127) or 1.0
    q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
    manifest_sha = hashlib.sha256(MANIFEST.read_bytes()).hexdigest()[:16]
    lm = LinearModel(
        array("b", q.tobytes()),
        scale,
        float(model.intercept_[0]),
        float(1 / (1 + np.exp(-cut))),
        {
            "trained_on": sorted({s.source for s in train}),
            "texts": len(train),
            "windows": len(texts),
            "C": args.C,
            "manifest_sha256": manifest_sha,
            "leave_one_source_out_auc": round(lso_auc, 4),
        },
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(lm.dumps())
    check = LinearModel.loads(args.out.read_bytes())
    agree = np.mean([(check.logit(t) > cut) == (d > cut) for t, d in
                     zip(texts[:300], model.decision_function(x[:300]), strict=True)])  # fmt: skip
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes); int8 agreement {agree:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
