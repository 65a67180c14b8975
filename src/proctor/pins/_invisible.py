"""Invisible characters in a tool definition: anything a reviewer would see as nothing.

In content, the Unicode detector looks for zero-width characters *inside words* (a lone one is
common in pasted text). A tool definition is written by its developer for a model: none of
these has any business there, and each is how text is hidden from a reviewer:

- a format or control character (category Cf, Cc, Co, Cn: zero-width, joiners, bidi controls,
  BOM, tag characters, U+180E) other than newline, tab and carriage return;
- a letter or symbol that renders blank (``BLANK``): the Hangul fillers U+115F, U+1160,
  U+3164, U+FFA0 and BRAILLE PATTERN BLANK U+2800, which are not "format" characters, so
  ``str.isprintable`` and a category check let them through;
- a run of spaces (category Zs, U+0020 included) holding ``RUN`` or more non-ASCII ones (en
  quad to hair space U+2000-U+200A, U+205F, ideographic space U+3000, no-break spaces...): a
  single one is ordinary typography (a thin space in ``10 000``, a no-break space in French),
  a run of them is padding that pushes text out of view, or a blank that looks like a word.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator

from proctor.detect import Detector, Document, ScanContext
from proctor.model import Finding, Severity

_ALLOWED = frozenset("\n\t\r")
_INVISIBLE = frozenset({"Cf", "Cc", "Co", "Cn"})
BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")
RUN = 3  # non-ASCII spaces in one run of spaces that count as padding


def _spaces(text: str) -> Iterator[int]:
    """Offsets of the non-ASCII spaces in runs of spaces that hold ``RUN`` or more of them."""
    run: list[int] = []
    for i, c in enumerate((*text, "")):
        if c and unicodedata.category(c) == "Zs":
            if c != " ":
                run.append(i)
            continue
        if len(run) >= RUN:
            yield from run
        run = []


def invisible(text: str) -> list[int]:
    """Offsets of the characters of ``text`` a reviewer would not see (sorted)."""
    if text.isascii() and text.isprintable():
        return []
    hits = {
        i
        for i, c in enumerate(text)
        if c in BLANK or (c not in _ALLOWED and unicodedata.category(c) in _INVISIBLE)
    }
    hits.update(_spaces(text))
    return sorted(hits)


class InvisibleCharacters(Detector):
    id = "tool.invisible"
    description = (
        "Format characters (zero-width, bidi, tags, BOM), control characters, blank letters "
        "(Hangul fillers, braille blank) and runs of unusual spaces in a tool definition, "
        "where nothing should be invisible."
    )
    severity = Severity.HIGH

    def detect(self, doc: Document, ctx: ScanContext) -> Iterable[Finding]:
        for seg in doc.segments:
            text = seg.text
            hits = invisible(text)
            if not hits:
                continue
            names = sorted({f"U+{ord(text[i]):04X}" for i in hits})
            yield self.finding(
                seg,
                hits[0],
                hits[-1] + 1,
                f"{len(hits)} invisible character(s) ({', '.join(names[:5])}) in a tool "
                "definition: text a reviewer does not see",
                score=0.9,
                rule="invisible",
            )
