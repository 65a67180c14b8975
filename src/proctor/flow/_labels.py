"""Labels: how far content may be trusted, how confidential it is, and whose it is."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Trust(StrEnum):
    """Trusted: the operator's instructions and the user's own request, and fields a tool
    declares as coming from a system of record. Untrusted: everything else."""

    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"

    def __str__(self) -> str:
        return self.value


class Confidentiality(IntEnum):
    """How confidential content is. Ordered: ``max()`` picks the most confidential."""

    PUBLIC = 0
    INTERNAL = 1
    PERSONAL = 2
    FINANCIAL = 3
    REGULATED = 4
    SECRET = 5

    def __str__(self) -> str:
        return self.name.lower()

    @staticmethod
    def parse(name: str) -> Confidentiality:
        return Confidentiality[name.strip().upper()]


class Provenance(StrEnum):
    """Where an argument value came from, judged against the session's content."""

    TRUSTED = "trusted"  # found in trusted content (the user's words or a system of record)
    UNTRUSTED = "untrusted"  # found only in untrusted content, or named by instruction-like text
    GENERATED = "generated"  # found nowhere: the agent made it up or computed it

    def __str__(self) -> str:
        return self.value


class SourceKind(StrEnum):
    """Who wrote a piece of content."""

    PRINCIPAL = "principal"  # the operator or the user: trusted words
    RECORD = "record"  # a field a tool declares as system of record
    THIRD_PARTY = "third_party"  # text anybody could have written

    def __str__(self) -> str:
        return self.value


PRINCIPAL_SOURCES = frozenset({"user", "operator", "system"})


@dataclass(frozen=True, slots=True)
class Label:
    """The label of one piece of content."""

    trust: Trust
    confidentiality: Confidentiality
    tenant: str
