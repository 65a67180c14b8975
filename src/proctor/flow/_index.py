"""The session's value index: every piece of content that entered, labeled and normalized.

A *content* is one ingest (a user prompt, one tool output); it splits into *pieces*, one per
leaf field of a structured output, each with its own label. Pieces keep the normalized text,
a whitespace-free copy (for values split across lines), its words and its numbers.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from proctor.flow._instructions import instruction_like
from proctor.flow._labels import Confidentiality, Label, SourceKind, Trust
from proctor.flow._normalize import compact, normalize
from proctor.flow._values import Found, extract, numbers, tokens


@dataclass(frozen=True, slots=True)
class Piece:
    """One labeled leaf of a content, indexed for matching."""

    content_id: str
    path: str  # field path inside the content, "" for plain text
    kind: SourceKind
    label: Label
    text: str  # normalized
    compact: str
    words: frozenset[str]
    numbers: frozenset[Decimal]
    values: tuple[Found, ...]
    instructions: str | None  # the instruction-like phrase, for pieces not from the principal

    @property
    def link(self) -> str:
        return f"{self.content_id}#{self.path}" if self.path else self.content_id

    @staticmethod
    def build(
        content_id: str,
        path: str,
        kind: SourceKind,
        label: Label,
        raw: str,
        *,
        patterns: bool = True,
    ) -> Piece:
        norm = normalize(raw)
        phrase = instruction_like(norm) if patterns and kind is not SourceKind.PRINCIPAL else None
        if phrase and kind is SourceKind.RECORD:
            # a system of record holds names, ids and amounts, not instructions: a record field
            # that carries instruction-like text was written by someone else (a channel name,
            # a display name), so it is third-party text
            kind = SourceKind.THIRD_PARTY
            label = Label(Trust.UNTRUSTED, label.confidentiality, label.tenant)
        return Piece(
            content_id,
            path,
            kind,
            label,
            norm,
            compact(raw),
            tokens(norm),
            numbers(norm),
            extract(raw),
            phrase,
        )


@dataclass(frozen=True, slots=True)
class Content:
    """One ingest: where it came from, its overall label, and its pieces."""

    id: str
    source: str
    label: Label
    pieces: tuple[Piece, ...]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def confidentiality(self) -> Confidentiality:
        return max((p.label.confidentiality for p in self.pieces), default=Confidentiality.PUBLIC)


class FlowStore(Protocol):
    """Where a session's ingested content lives. In memory by default; a durable store (SQL,
    Redis) implements the same two methods."""

    async def add(self, session_id: str, content: Content) -> None: ...

    async def contents(self, session_id: str) -> Sequence[Content]: ...


class InMemoryFlowStore:
    """Per-session content, in process memory. Lost on restart."""

    def __init__(self, max_contents: int = 10_000) -> None:
        self._by_session: dict[str, list[Content]] = {}
        self._lock = threading.Lock()
        self._max = max_contents

    async def add(self, session_id: str, content: Content) -> None:
        with self._lock:
            items = self._by_session.setdefault(session_id, [])
            if len(items) >= self._max:
                raise OverflowError(
                    f"session {session_id} holds {self._max} contents; refusing more "
                    "(provenance would be incomplete)"
                )
            items.append(content)

    async def contents(self, session_id: str) -> Sequence[Content]:
        with self._lock:
            return tuple(self._by_session.get(session_id, ()))

    def forget(self, session_id: str) -> None:
        self._by_session.pop(session_id, None)
