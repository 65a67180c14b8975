"""A linear model over hashed n-grams: the learned injection classifier's runtime half.

Features (the training script imports this very function, so training and serving agree):
byte 4-grams of the normalized, lower-cased text, plus word unigrams and bigrams, each hashed
with CRC-32 into ``buckets`` slots; values are log(1 + count), L2-normalized. Long texts are
scored in overlapping windows and the most hostile window wins, so that an injection buried in
a long page is not diluted. Pure Python and the standard library: no numpy at run time.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from array import array
from dataclasses import dataclass
from importlib import resources

from proctor.detect._text import normalize

WINDOW = 2000
STRIDE = 1500
_WORD = re.compile(r"\w+")
MAGIC = b"PROCTOR-LM1\n"


def features(text: str, buckets: int) -> dict[int, float]:
    """Hashed n-gram features of one window of text."""
    t = " ".join(normalize(text).text.lower().split())
    mask = buckets - 1
    crc = zlib.crc32
    counts: dict[int, int] = {}
    data = f" {t} ".encode()
    for i in range(len(data) - 3):
        h = crc(data[i : i + 4]) & mask
        counts[h] = counts.get(h, 0) + 1
    words = _WORD.findall(t)
    prev = "^"
    for w in words:
        h = crc(b"w:" + w.encode()) & mask
        counts[h] = counts.get(h, 0) + 1
        h = crc(f"b:{prev} {w}".encode()) & mask
        counts[h] = counts.get(h, 0) + 1
        prev = w
    if not counts:
        return {}
    vals = {h: math.log1p(c) for h, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vals.values()))
    return {h: v / norm for h, v in vals.items()}


def windows(text: str) -> list[str]:
    if len(text) <= WINDOW:
        return [text]
    return [text[i : i + WINDOW] for i in range(0, len(text) - WINDOW + STRIDE, STRIDE)]


@dataclass(frozen=True)
class LinearModel:
    """Weights (int8, scaled), bias and the decision threshold chosen at training time."""

    weights: array[int]
    scale: float
    bias: float
    threshold: float
    meta: dict[str, object]

    @property
    def buckets(self) -> int:
        return len(self.weights)

    def logit(self, text: str) -> float:
        w = self.weights
        return float(
            self.bias + self.scale * sum(w[h] * v for h, v in features(text, len(w)).items())
        )

    def probability(self, text: str) -> float:
        """The most hostile window's probability that ``text`` is an injection."""
        best = max(self.logit(win) for win in windows(text))
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, best))))

    def dumps(self) -> bytes:
        header = {
            "buckets": self.buckets,
            "scale": self.scale,
            "bias": self.bias,
            "threshold": self.threshold,
            "meta": self.meta,
        }
        body = json.dumps(header, sort_keys=True).encode() + b"\n" + self.weights.tobytes()
        return MAGIC + zlib.compress(body, 9)

    @staticmethod
    def loads(blob: bytes) -> LinearModel:
        if not blob.startswith(MAGIC):
            raise ValueError("not a proctor linear model (bad magic)")
        body = zlib.decompress(blob[len(MAGIC) :])
        head, _, raw = body.partition(b"\n")
        header = json.loads(head)
        weights = array("b")
        weights.frombytes(raw)
        if len(weights) != header["buckets"] or header["buckets"] & (header["buckets"] - 1):
            raise ValueError(
                f"model has {len(weights)} weights, header says {header['buckets']} "
                "(a power of two)"
            )
        return LinearModel(
            weights,
            float(header["scale"]),
            float(header["bias"]),
            float(header["threshold"]),
            dict(header.get("meta", {})),
        )

    @staticmethod
    def builtin() -> LinearModel:
        """The model shipped as package data (``proctor/detect/data/injection.lm``)."""
        blob = resources.files("proctor.detect").joinpath("data/injection.lm").read_bytes()
        return LinearModel.loads(blob)
