"""Shared type aliases and protocols."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

JSONScalar: TypeAlias = str | int | float | bool | None
JSON: TypeAlias = JSONScalar | Sequence["JSON"] | Mapping[str, "JSON"]
JSONObject: TypeAlias = dict[str, "JSON"]
Args: TypeAlias = Mapping[str, object]
