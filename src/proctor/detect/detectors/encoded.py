"""Encoded instructions: base64, hex, rot13, URL and HTML-entity text, decoded and re-scanned.

Each candidate run is decoded; if it decodes to readable text, the registry rescans it with
the pattern detectors (bounded depth and size, so a decoding bomb costs little). Only a decoded
layer that itself matches a rule is reported: benign base64 (images, hashes) stays quiet.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import ClassVar
from urllib.parse import unquote_plus

from proctor.detect._base import Detector, ScanContext
from proctor.detect._document import Document, Segment
from proctor.model import Finding, Severity

_B64 = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_HEX = re.compile(r"[0-9A-Fa-f]{24,}|(?:\\x[0-9A-Fa-f]{2}){8,}")
_URL = re.compile(r"%[0-9A-Fa-f]{2}")
_ENT = re.compile(r"&(?:#[xX][0-9A-Fa-f]{1,6}|#\d{1,7}|[A-Za-z]{2,8});")
_UESC = re.compile(r"(?:\\u[0-9A-Fa-f]{4}[^\\\n]{0,2}){4,}")
_ROT13 = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)
_MAX_CANDIDATES = 64


def _readable(text: str) -> bool:
    if len(text) < 8:
        return False
    printable = sum(1 for c in text if c.isprintable() or c in "\n\t\r")
    letters = sum(1 for c in text if c.isalpha())
    return printable / len(text) >= 0.95 and letters / len(text) >= 0.4


def _b64(s: str) -> str | None:
    if s.isalpha() or s.isdigit() or s.islower() or s.isupper():
        return None  # a word, a number or a hex hash: not worth decoding
    s = s.rstrip("=")
    s += "=" * (-len(s) % 4)
    alt = b"-_" if ("-" in s or "_" in s) else None
    try:
        return base64.b64decode(s, altchars=alt, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _hex(s: str) -> str | None:
    if len(s) % 2:
        return None
    try:
        return bytes.fromhex(s.replace("\\x", "")).decode("utf-8")
    except ValueError:
        return None


def _url(s: str) -> str | None:
    out = unquote_plus(s)
    return out if out != s else None


def _entities(s: str) -> str | None:
    out = html.unescape(s)
    return out if out != s else None


def _uescape(s: str) -> str | None:
    try:
        return codecs.decode(s, "unicode_escape")
    except (UnicodeDecodeError, ValueError):
        return None


# Runs decoded one by one: (name, a substring the text must contain, run pattern, decoder).
_RUNS: tuple[tuple[str, str, re.Pattern[str], Callable[[str], str | None]], ...] = (
    ("base64", "", _B64, _b64),
    ("hex", "", _HEX, _hex),
    ("unicode-escapes", "\\u", _UESC, _uescape),
)
# Escapes mixed into ordinary text: the whole text is decoded when it has at least 4.
_WHOLE: tuple[tuple[str, str, re.Pattern[str], Callable[[str], str | None]], ...] = (
    ("url", "%", _URL, _url),
    ("html-entities", "&", _ENT, _entities),
)
_COMMON_WORDS = "the|and|you|your|to|of|all|is|this|instructions?|ignore"
_COMMON = re.compile(rf"\b(?:{_COMMON_WORDS})\b", re.I)
# The same words rot13-encoded: counting them in a text counts _COMMON in its rot13 (rot13
# keeps each letter's case and \b), without translating it. Exact unless the text holds one of
# the non-ASCII letters that re.I matches with an ASCII one (dotted and dotless i, long s,
# Kelvin sign): rot13 leaves those as they are, so such a text takes the slow path.
_COMMON_ROT13 = re.compile(
    "(?=[" + "".join(sorted({w[0] for w in _COMMON_WORDS.translate(_ROT13).split("|")})) + "])"
    rf"\b(?:{_COMMON_WORDS.translate(_ROT13)})\b",
    re.I,
)
_CASE_FOLDS_TO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")
# A hex run (_HEX's first form) has 24 hex digits in a row; its second form has "\x".
_HEX_DIGITS = re.compile(r"[0-9A-Fa-f]{24}")


def candidates(text: str) -> Iterator[tuple[str, int, int, str]]:
    """Every encoded run in ``text`` that decodes to readable text: (encoding, start, end, text)."""
    n = 0
    for name, needle, pattern, decode in _RUNS:
        if needle and needle not in text:
            continue
        if pattern is _HEX and "\\x" not in text and _HEX_DIGITS.search(text) is None:
            continue  # no hex run: skip the costlier scan
        for m in pattern.finditer(text):
            decoded = decode(m.group())
            if decoded is not None and _readable(decoded):
                yield name, m.start(), m.end(), decoded
                n += 1
                if n >= _MAX_CANDIDATES:
                    return
    for name, needle, pattern, decode in _WHOLE:
        if needle in text and len(pattern.findall(text, 0, 20000)) >= 4:
            decoded = decode(text)
            if decoded is not None and _readable(decoded):
                yield name, 0, len(text), decoded


class EncodedInstructions(Detector):
    id = "hidden.encoded"
    description = (
        "Instructions hidden in base64, hex, rot13, URL, HTML-entity or \\u escapes: decoded "
        "and re-scanned with the pattern detectors (bounded depth and size)."
    )
    severity = Severity.HIGH
    rescannable = True
    options: ClassVar[Mapping[str, float | int | str | bool]] = {"rot13": True}

    def detect(self, doc: Document, ctx: ScanContext) -> Iterable[Finding]:
        for seg in doc.segments:
            yield from self._segment(seg, ctx)

    def _segment(self, seg: Segment, ctx: ScanContext) -> Iterator[Finding]:
        layer = seg.where or "text"
        for name, start, end, decoded in candidates(seg.text):
            inner = ctx.rescan(decoded, f"{layer} > {name}@{start}")
            if inner:
                yield self._report(seg, start, end, name, inner)
        if self.config["rot13"] and "rot13" not in layer:
            text = seg.text
            if (text.isascii() or _CASE_FOLDS_TO_ASCII.search(text) is None) and len(
                _COMMON_ROT13.findall(text)
            ) < 2:
                return  # fast path: its rot13 has fewer than 2 common words (tested below)
            flipped = seg.text.translate(_ROT13)
            common = len(_COMMON.findall(flipped))
            if common < 2 or common <= len(_COMMON.findall(seg.text)):
                return  # rot13 does not make it read more like English: not rot13 text
            ascii_only = "".join(c if c.isascii() else " " for c in flipped)
            inner = ctx.rescan(ascii_only, f"{layer} > rot13")
            if inner:
                yield self._report(seg, 0, len(seg.text), "rot13", inner)

    def _report(
        self, seg: Segment, start: int, end: int, name: str, inner: list[Finding]
    ) -> Finding:
        worst = max(inner, key=lambda f: f.score)
        return self.finding(
            seg,
            start,
            end,
            f"{name}-encoded text decodes to content that {worst.detector} flags: "
            f"{worst.explanation}",
            score=max(0.9, worst.score),
            rule=name,
        )
