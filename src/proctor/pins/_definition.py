"""A tool's definition as the pin sees it: canonical JSON, its SHA-256, and the diff of two.

The fingerprint covers what a model reads or relies on: ``name``, ``title`` (if present),
``description``, ``inputSchema``, and, if present, ``outputSchema`` and ``annotations`` (MCP's
wire names). ``_meta``, ``icons`` and ``execution`` are left out (display and transport hints).

Canonical JSON: keys sorted, no insignificant whitespace, every non-ASCII character escaped
(``\\u200b``), so a zero-width or look-alike character is visible in a diff. Key order and the
formatting of the JSON do not change a fingerprint; anything inside a string does (whitespace
included: spaces and newlines can hide text, so they are not normalized), and so do Unicode
variants (no NFC folding: a look-alike letter is a different tool).
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any

FIELDS = ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
OPTIONAL = frozenset({"title", "outputSchema", "annotations"})
PREFIX = 16  # hex digits of a fingerprint shown in listings and messages (64 bits)
REVIEWED_MIN = PREFIX  # hex digits an approval must name at least: a 64-bit prefix


def definition(
    name: str,
    description: str | None,
    input_schema: Mapping[str, Any] | None,
    *,
    title: str | None = None,
    output_schema: Mapping[str, Any] | None = None,
    annotations: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The pinned part of a tool definition (optional fields only when present)."""
    out: dict[str, Any] = {
        "name": name,
        "description": description,
        "inputSchema": dict(input_schema or {}),
    }
    if title is not None:
        out["title"] = title
    if output_schema is not None:
        out["outputSchema"] = dict(output_schema)
    if annotations:
        out["annotations"] = dict(annotations)
    return out


def canonical(defn: Mapping[str, Any]) -> str:
    """Sorted keys, compact, ASCII only; NaN and infinities refused (ValueError)."""
    return json.dumps(
        defn, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def fingerprint(defn: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON."""
    return hashlib.sha256(canonical(defn).encode("ascii")).hexdigest()


def pretty(defn: Mapping[str, Any] | None) -> list[str]:
    """Canonical JSON, indented: the lines a diff compares."""
    if defn is None:
        return []
    return json.dumps(defn, sort_keys=True, indent=2, ensure_ascii=True).splitlines()


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, *, label: str = "") -> str:
    """A unified diff of the indented canonical JSON of two definitions ("" if the same)."""
    lines = difflib.unified_diff(
        pretty(old),
        pretty(new),
        fromfile=f"{label} (pinned)" if label else "pinned",
        tofile=f"{label} (now)" if label else "now",
        lineterm="",
        n=2,
    )
    return "\n".join(lines)


def changed_fields(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """The top-level fields that differ (all of ``new``'s if there is no ``old``)."""
    if old is None:
        return sorted(new)
    keys = set(old) | set(new)
    return sorted(k for k in keys if canonical({"v": old.get(k)}) != canonical({"v": new.get(k)}))


def texts(defn: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every string a model may read in a definition, with where it is: the name, title and
    description, and every key and string value inside the schemas and annotations (parameter
    names and descriptions, enum values, defaults, examples)."""
    for key in ("name", "title", "description"):
        value = defn.get(key)
        if isinstance(value, str) and value:
            yield key, value
    for key in ("inputSchema", "outputSchema", "annotations"):
        if key in defn:
            yield from _strings(defn[key], key)


def _strings(value: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        if value:
            yield where, value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(k, str) and k:
                yield f"{where} key", k
            yield from _strings(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{where}[{i}]")
