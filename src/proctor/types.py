"""Shared type aliases and protocols."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, TypeAlias, runtime_checkable

JSONScalar: TypeAlias = str | int | float | bool | None
JSON: TypeAlias = JSONScalar | Sequence["JSON"] | Mapping[str, "JSON"]
JSONObject: TypeAlias = dict[str, "JSON"]
Args: TypeAlias = Mapping[str, object]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors for memory's vector search (docs/memory.md).

    ``name`` identifies the model and its version: vectors are compared only with vectors
    of the same ``name`` (a changed model never meets its predecessor's vectors).
    ``dimensions``: the length of every vector. ``embed`` returns one vector per text, in
    order, or raises; it must be deterministic and thread-safe."""

    @property
    def name(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Sequence[Sequence[float]]: ...
