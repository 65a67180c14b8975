"""Invisible characters in a tool definition: any format or control character at all.

In content, the Unicode detector looks for zero-width characters *inside words* (a lone one is
common in pasted text). A tool definition is written by its developer for a model: a format
character (zero-width, joiner, bidi control, BOM, tag characters) or a control character other
than newline and tab has no business there and is how text is hidden from a reviewer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from proctor.detect import Detector, Document, ScanContext
from proctor.model import Finding, Severity

_ALLOWED = frozenset("\n\t\r")


class InvisibleCharacters(Detector):
    id = "tool.invisible"
    description = (
        "Format characters (zero-width, bidi, tags, BOM) and control characters in a tool "
        "definition, where nothing should be invisible."
    )
    severity = Severity.HIGH

    def detect(self, doc: Document, ctx: ScanContext) -> Iterable[Finding]:
        for seg in doc.segments:
            text = seg.text
            if text.isascii() and text.isprintable():
                continue
            hits = [
                i
                for i, c in enumerate(text)
                if c not in _ALLOWED and unicodedata.category(c) in ("Cf", "Cc", "Co", "Cn")
            ]
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
