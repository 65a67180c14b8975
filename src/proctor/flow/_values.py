"""Typed values found in text: addresses, links, accounts, numbers, paths, identifiers.

The session's value index keeps them per piece of content, so that a decision can say *which*
value of *which* content an argument came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from proctor.flow._normalize import normalize

EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}")
URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'`)\]]+")
DOMAIN = re.compile(r"\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}\b")
IBAN = re.compile(r"\b[a-z]{2}\d{2}[a-z0-9]{10,30}\b")
PHONE = re.compile(
    r"(?<![\w+])\+\d[\d ().-]{7,}\d|\(\d{3}\) ?\d{3}-\d{4}\b|(?<![\w-])\d{3}[-.]\d{3}[-.]\d{4}\b"
)
PATH = re.compile(
    r"(?:~?/)?[\w.-]+(?:/[\w.-]+)+|\b[\w-]+\.(?:txt|pdf|docx?|xlsx?|csv|json|md|pptx?)\b"
)
NUMBER = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])-?\d+(?:\.\d+)?")
TOKEN = re.compile(r"\w+")

# kinds that name where data goes: found inside outgoing text, they are checked one by one
ADDRESS_KINDS = ("email", "url", "domain", "iban", "phone")
_BY_KIND = {"email": EMAIL, "url": URL, "iban": IBAN, "phone": PHONE, "path": PATH}


@dataclass(frozen=True, slots=True)
class Found:
    """One typed value found in a text, in normalized form."""

    kind: str
    value: str


def to_decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "")).normalize()
    except (InvalidOperation, ValueError):
        return None


def numbers(normalized: str) -> frozenset[Decimal]:
    """Every number in a normalized text (``1,200.50`` and ``1200.5`` are one value)."""
    found = (to_decimal(m.group()) for m in NUMBER.finditer(normalized))
    return frozenset(d for d in found if d is not None)


def tokens(normalized: str) -> frozenset[str]:
    return frozenset(TOKEN.findall(normalized))


def extract(text: str) -> tuple[Found, ...]:
    """Typed values (emails, URLs, domains, IBANs, phone numbers, paths) in ``text``."""
    norm = normalize(text)
    out: list[Found] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, value: str) -> None:
        value = value.rstrip(".,;:!?")
        if value and (kind, value) not in seen:
            seen.add((kind, value))
            out.append(Found(kind, value))

    for kind, pattern in _BY_KIND.items():
        for m in pattern.finditer(norm):
            add(kind, m.group())
    emails = {f.value for f in out if f.kind == "email"}
    for m in DOMAIN.finditer(norm):
        dom = m.group()
        if not any(e.endswith("@" + dom) for e in emails) and not re.fullmatch(
            r"[\w-]+\.(?:txt|pdf|docx?|xlsx?|csv|json|md|pptx?)", dom
        ):
            add("domain", dom)
    return tuple(out)
