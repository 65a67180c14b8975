"""Invisible and look-alike Unicode: tag characters, zero-width, bidi overrides, homoglyphs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from proctor.detect._base import Detector, ScanContext
from proctor.detect._document import Document, Segment
from proctor.detect._text import CONFUSABLES, SPECIAL, TAG_FIRST
from proctor.model import Finding, Severity

_TAGS = re.compile("[\U000e0000-\U000e007f]+")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]+")
_ZW_IN_WORD = re.compile("(?<=[A-Za-z])[\u200b\u200c\u200d\u2060\ufeff\u00ad]+(?=[A-Za-z])")
_CONF = "".join(sorted(CONFUSABLES))
_PAIR = re.compile(f"[A-Za-z][{_CONF}]|[{_CONF}][A-Za-z]")
_WORD = re.compile(f"[A-Za-z{_CONF}]{{3,}}")
_CONF_SET = frozenset(_CONF)


class InvisibleUnicode(Detector):
    id = "hidden.unicode"
    description = (
        "Unicode tag characters (U+E0000 block) that spell hidden text, bidi overrides that "
        "reorder what a reader sees, zero-width characters inside words, and words that mix "
        "Latin letters with Cyrillic or Greek look-alikes."
    )
    severity = Severity.MEDIUM
    rescannable = False

    def detect(self, doc: Document, ctx: ScanContext) -> Iterable[Finding]:
        for seg in doc.segments:
            if not seg.text.isascii():
                yield from self._segment(seg, ctx)

    def _segment(self, seg: Segment, ctx: ScanContext) -> Iterator[Finding]:
        text = seg.text
        if SPECIAL.search(text) is None:
            return  # fast path: no tag, bidi, zero-width or look-alike character at all
        for m in _TAGS.finditer(text):
            hidden = "".join(
                chr(ord(c) - TAG_FIRST) for c in m.group() if 0x20 <= ord(c) - TAG_FIRST < 0x7F
            )
            inner = ctx.rescan(hidden, f"{seg.where or 'text'} > unicode-tags@{m.start()}")
            why = f"; it {inner[0].explanation}" if inner else ""
            yield self.finding(
                seg,
                m.start(),
                m.end(),
                f"{len(m.group())} invisible Unicode tag characters spell “{hidden[:80]}”{why}",
                score=0.97 if inner else 0.8,
                rule="tags",
                severity=Severity.HIGH,
            )
        for m in _BIDI.finditer(text):
            yield self.finding(
                seg,
                m.start(),
                m.end(),
                "bidirectional override characters reorder how the text is displayed, so a "
                "reader and a model see different text",
                score=0.5,
                rule="bidi",
            )
        zw = list(_ZW_IN_WORD.finditer(text))
        if zw:
            yield self.finding(
                seg,
                zw[0].start(),
                zw[-1].end(),
                f"{len(zw)} zero-width character run(s) inside words, which split words so that "
                "filters miss them",
                score=0.5 if len(zw) >= 3 else 0.3,
                rule="zero-width",
                severity=Severity.LOW,
            )
        pair = _PAIR.search(text)
        if pair is None:
            return
        start = text.rfind(" ", 0, pair.start()) + 1
        mixed = [
            m
            for m in _WORD.finditer(text, start)
            if not m.group().isascii() and not _CONF_SET.issuperset(m.group())
        ]
        if mixed:
            words = ", ".join(f"“{m.group()}”" for m in mixed[:3])
            yield self.finding(
                seg,
                mixed[0].start(),
                mixed[-1].end(),
                f"{len(mixed)} word(s) mix Latin letters with Cyrillic or Greek look-alikes "
                f"({words}), a way to slip past keyword filters",
                score=0.55 if len(mixed) >= 2 else 0.4,
                rule="homoglyph",
            )
