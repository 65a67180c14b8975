"""Provenance: for each argument value, where in the session it came from.

The order of evidence, strongest first:

1. the user's or operator's own words name the value: ``trusted``;
2. a system-of-record field shows it, and no instruction-like untrusted text names it:
   ``trusted`` (basis ``record``) — when instruction-like text names it too, the record only
   proves the value exists, not that anyone asked for it: ``untrusted``;
3. only untrusted content has it: ``untrusted``;

A value of one to three characters that instruction-like text names is ``untrusted`` even when
the user's words contain it too: "13" in "June 13" does not ask to delete file 13.
4. nothing has it: ``generated``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from proctor.flow._index import Piece
from proctor.flow._labels import Provenance, SourceKind
from proctor.flow._normalize import canonical_value
from proctor.flow._values import to_decimal

# values shorter than this (after normalization) must match a whole word, not a substring
MIN_SUBSTRING = 6
# values shorter than this are weak evidence of what the user asked for
WEAK_BELOW = 4


@dataclass(frozen=True, slots=True)
class Traced:
    """One leaf value of an argument and its provenance."""

    path: str  # argument path: "recipients[0]"
    value: object
    provenance: Provenance
    basis: str  # principal | record | third_party | instructions | none
    links: tuple[str, ...]  # content links (content_id#field) that contain the value
    instructions: str | None = None  # the instruction-like phrase that named it, if any

    def seen(self) -> dict[str, object]:
        out: dict[str, object] = {
            "value": self.value,
            "provenance": str(self.provenance),
            "basis": self.basis,
            "links": list(self.links),
        }
        if self.instructions:
            out["instructions"] = self.instructions
        return out


def leaves(value: object, path: str = "") -> Iterator[tuple[str, object]]:
    """Every scalar inside an argument value, with its path."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from leaves(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list | tuple | set | frozenset):
        for i, v in enumerate(value):
            yield from leaves(v, f"{path}[{i}]")
    elif value is not None:
        yield path, value


def _number(value: object) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return to_decimal(repr(float(value)) if isinstance(value, float) else str(value))
    if isinstance(value, str):
        return to_decimal(value.strip()) if value.strip() else None
    return None


def _probe(value: object) -> tuple[Decimal | None, str]:
    num = _number(value)
    key = "" if isinstance(value, bool | int | float) else canonical_value(str(value))
    return num, key


def _hit(piece: Piece, num: Decimal | None, key: str) -> bool:
    if num is not None and num in piece.numbers:
        return True
    if not key:
        return False
    if len(key) >= MIN_SUBSTRING:
        return key in piece.compact
    return key in piece.words or (not key.isalnum() and key in piece.compact)


def matches(piece: Piece, value: object) -> bool:
    """Does ``piece`` contain ``value``, modulo normalization?"""
    num, key = _probe(value)
    return _hit(piece, num, key)


def trace(value: object, pieces: Sequence[Piece], path: str = "") -> Traced:
    """The provenance of one scalar value against the session's pieces."""
    num, key = _probe(value)
    hits = [p for p in pieces if _hit(p, num, key)]
    principal = [p.link for p in hits if p.kind is SourceKind.PRINCIPAL]
    records = [p.link for p in hits if p.kind is SourceKind.RECORD]
    third = [p for p in hits if p.kind is SourceKind.THIRD_PARTY]
    steering = next((p for p in third if p.instructions), None)
    # a value of one to three characters ("13", "r") in the user's words is too weak to show
    # the user meant *this* value when instruction-like text names it too
    weak = len(key) < WEAK_BELOW and not (num is not None and abs(num) >= 1000)
    if principal and not (weak and steering is not None):
        return Traced(path, value, Provenance.TRUSTED, "principal", tuple(principal))
    if records and steering is None:
        return Traced(path, value, Provenance.TRUSTED, "record", tuple(records))
    if third:
        links = tuple(records) + tuple(p.link for p in third)
        if steering is not None:
            return Traced(
                path, value, Provenance.UNTRUSTED, "instructions", links, steering.instructions
            )
        return Traced(path, value, Provenance.UNTRUSTED, "third_party", links)
    return Traced(path, value, Provenance.GENERATED, "none", ())


def trace_argument(name: str, value: object, pieces: Sequence[Piece]) -> tuple[Traced, ...]:
    """Every leaf of one argument, traced."""
    return tuple(trace(v, pieces, p) for p, v in leaves(value, name))
