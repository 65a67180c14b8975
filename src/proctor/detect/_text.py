# ruff: noqa: RUF001, RUF002  (this module is about look-alike characters)
"""Text normalization before matching: NFKC, a confusables map, and invisible characters removed.

Attackers hide instructions from pattern matchers with look-alike letters (Cyrillic ``а`` for
Latin ``a``), full-width forms, zero-width characters inside words and bidi controls. Every rule
matches the *normalized* view; ``Normalized.origin`` maps a span of that view back to the
original text so that findings point at what the reader actually has.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Characters that render as nothing (or only reorder text): removed before matching.
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad\u180e")
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
TAG_FIRST, TAG_LAST = 0xE0000, 0xE007F

# Letters from other scripts that look like Latin ones (a subset of Unicode's confusables.txt:
# the Cyrillic, Greek and Armenian letters that attackers use in place of ASCII).
CONFUSABLES: dict[str, str] = {
    # Cyrillic lowercase
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j",
    "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "г": "r",
    "ѕ": "s", "т": "t", "ц": "u", "ѵ": "v", "ԝ": "w", "х": "x", "у": "y", "ѡ": "w",
    "ё": "e", "ї": "i", "ь": "b",
    # Cyrillic uppercase
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K",
    "М": "M", "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "Ԝ": "W",
    # Greek
    "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "υ": "u",
    "χ": "x", "ε": "e", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I",
    "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Armenian and others
    "օ": "o", "ս": "u", "հ": "h", "ո": "n", "ց": "g", "ɡ": "g", "ı": "i", "ȷ": "j",
}  # fmt: skip


# Every character that normalization maps specially (and that the hidden.unicode detector
# reports): zero-width, bidi, tag characters and look-alikes.
SPECIAL = re.compile(
    "["
    + "".join(sorted(ZERO_WIDTH | BIDI))
    + "\U000e0000-\U000e007f"
    + "".join(sorted(CONFUSABLES))
    + "]"
)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def is_invisible(ch: str) -> bool:
    cp = ord(ch)
    return ch in ZERO_WIDTH or ch in BIDI or TAG_FIRST <= cp <= TAG_LAST


@dataclass(frozen=True, slots=True)
class Normalized:
    """The normalized view of a text, and where each of its characters came from."""

    text: str
    source: str
    _origin: tuple[int, ...] | None  # None: identity (the text was plain ASCII)

    def origin(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that produced ``text[start:end]``."""
        if self._origin is None:
            return start, end
        if not self._origin:
            return 0, 0
        lo = self._origin[min(start, len(self._origin) - 1)]
        hi = self._origin[end - 1] + 1 if end > start else lo
        return lo, hi


_MAPPED: dict[str, str] = {}


def _mapped(ch: str) -> str:
    """What one non-ASCII character becomes: "" if invisible, else NFKC and confusables."""
    m = _MAPPED.get(ch)
    if m is None:
        if is_invisible(ch):
            m = ""
        else:
            m = CONFUSABLES.get(ch) or "".join(
                CONFUSABLES.get(c, c) for c in unicodedata.normalize("NFKC", ch)
            )
        if len(_MAPPED) < 65536:
            _MAPPED[ch] = m
    return m


def normalize(text: str) -> Normalized:
    """NFKC, confusables mapped to ASCII, invisible characters dropped; offsets kept."""
    if text.isascii() or (unicodedata.is_normalized("NFKC", text) and not SPECIAL.search(text)):
        return Normalized(text, text, None)  # nothing to change: identity, no offset table
    out: list[str] = []
    origin: list[int] = []
    last = 0
    for found in _NON_ASCII.finditer(text):  # ASCII characters stay as they are: skipped in C
        i, ch = found.start(), found.group()
        m = _mapped(ch)
        if m == ch:
            continue
        out.append(text[last:i])
        origin.extend(range(last, i))
        out.append(m)
        origin.extend([i] * len(m))
        last = i + 1
    out.append(text[last:])
    origin.extend(range(last, len(text)))
    return Normalized("".join(out), text, tuple(origin))


def excerpt(text: str, start: int, end: int, limit: int = 80) -> str:
    """A short, single-line quote of ``text[start:end]`` for explanations."""
    piece = " ".join(text[start:end].split())
    return piece if len(piece) <= limit else piece[: limit - 1] + "…"
