"""Vectors for memory's vector search: an ``Embedder`` (``proctor.types``) turns a text into
a vector, stored beside the item as little-endian float32 bytes with the embedder's name.

Search ranks the rows of one scope (the store's scoped query selects them first, as keyword
search does) by cosine similarity with the query's vector, by brute force: a scope holds few
items. ``HashingEmbedder`` is a deterministic bag-of-words embedder for tests and examples: it
knows no meaning, only shared words; real deployments configure a model
(``OnnxMiniLMEmbedder``).
"""

from __future__ import annotations

import hashlib
import math
import operator
import re
import struct
from collections.abc import Sequence
from typing import Literal

from proctor.errors import MemoryVectorError
from proctor.flow import normalize
from proctor.types import Embedder

SearchMode = Literal["keyword", "vector", "hybrid"]
"""``keyword``: items holding the query's words. ``vector``: items nearest the query's vector
(cosine). ``hybrid``: both rankings fused (reciprocal rank fusion)."""
MODES: tuple[SearchMode, ...] = ("keyword", "vector", "hybrid")
RRF_K = 60  # reciprocal rank fusion: 1 / (RRF_K + rank) from each ranking
_WORD = re.compile(r"\w{2,}")


def embed_one(embedder: Embedder | None, text: str, what: str) -> bytes:
    """``text``'s vector as float32 bytes, unit length. Raises ``MemoryVectorError`` when
    there is no embedder, it fails, or its vector has the wrong shape or no direction."""
    if embedder is None:
        raise MemoryVectorError(
            f"{what} needs an embedder and this memory has none: configure one "
            "(Memory(..., embedder=...), or PROCTOR_MEMORY_MINILM_PATH); "
            "keyword search needs none"
        )
    try:
        got = embedder.embed([text])
        vec = [float(x) for x in got[0]] if len(got) == 1 else None
    except Exception as exc:
        raise MemoryVectorError(
            f"embedder {embedder.name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    if vec is None or len(vec) != embedder.dimensions or not all(map(math.isfinite, vec)):
        raise MemoryVectorError(
            f"embedder {embedder.name!r} returned no finite vector of {embedder.dimensions} "
            "dimensions"
        )
    norm = math.sqrt(sum(x * x for x in vec))
    if norm == 0.0 or not math.isfinite(norm):
        raise MemoryVectorError(f"embedder {embedder.name!r} returned a zero vector")
    return struct.pack(f"<{len(vec)}f", *(x / norm for x in vec))


def unpack(blob: bytes, dimensions: int) -> tuple[float, ...] | None:
    """A stored vector, or None if it does not have ``dimensions`` float32 values."""
    if len(blob) != 4 * dimensions:
        return None
    return struct.unpack(f"<{dimensions}f", blob)


def cosine_rank(query: bytes, rows: Sequence[tuple[str, bytes]], dimensions: int) -> list[str]:
    """The ids of ``rows`` (id, stored vector) ranked by cosine similarity with ``query``,
    most similar first (ties: the order of ``rows``). Rows whose vector has another shape are
    left out. Stored vectors are unit length, so the dot product is the cosine."""
    q = unpack(query, dimensions)
    if q is None:
        return []
    scored: list[tuple[float, int, str]] = []
    for n, (item_id, blob) in enumerate(rows):
        v = unpack(blob, dimensions)
        if v is not None:
            scored.append((-sum(map(operator.mul, q, v)), n, item_id))
    scored.sort()
    return [item_id for _, _, item_id in scored]


def fuse(*rankings: Sequence[str]) -> list[str]:
    """Reciprocal rank fusion of rankings of ids: best first (ties: first seen first)."""
    score: dict[str, float] = {}
    for ranking in rankings:
        for rank, item_id in enumerate(ranking):
            score[item_id] = score.get(item_id, 0.0) + 1.0 / (RRF_K + rank + 1)
    order = {item_id: n for n, item_id in enumerate(score)}
    return sorted(score, key=lambda i: (-score[i], order[i]))


class HashingEmbedder:
    """A deterministic embedder for tests and examples: each normalized word of two letters
    or more adds 1 to one of ``dimensions`` coordinates (chosen by a hash of the word), so
    that texts sharing words are near. It knows no synonyms: not a semantic model."""

    def __init__(self, dimensions: int = 256) -> None:
        if dimensions < 8:
            raise MemoryVectorError(
                f"HashingEmbedder needs at least 8 dimensions, got {dimensions}"
            )
        self._dimensions = dimensions

    @property
    def name(self) -> str:
        return f"hashing-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        out = []
        for text in texts:
            vec = [0.0] * self._dimensions
            for word in _WORD.findall(normalize(text)):
                h = hashlib.blake2b(word.encode(), digest_size=8).digest()
                vec[int.from_bytes(h, "little") % self._dimensions] += 1.0
            if not any(vec):  # no word: a fixed direction, so that the vector has a norm
                vec[0] = 1.0
            out.append(vec)
        return out


def check_mode(mode: object) -> SearchMode:
    for m in MODES:
        if mode == m:
            return m
    raise MemoryVectorError(f"search mode must be one of {', '.join(MODES)}; got {mode!r}")
