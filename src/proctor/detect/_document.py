"""What detectors read: a document split into segments (visible text, hidden HTML, JSON strings).

A plain text is one segment. HTML becomes its visible text plus one segment per hidden part
(comments, ``display:none``, zero-size or white text, ``alt``/``title``/``aria-label``).
JSON becomes one segment per string value, named by its path. Spans in findings are offsets
into the segment named by ``Finding.where`` (empty: the document's own text).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from proctor.detect._html import extract_html
from proctor.detect._literal import Hits, LiteralIndex
from proctor.detect._text import Normalized, normalize


class ContentKind(StrEnum):
    """How to read a text before scanning it."""

    AUTO = "auto"
    TEXT = "text"
    HTML = "html"
    MARKDOWN = "markdown"
    JSON = "json"

    def __str__(self) -> str:
        return self.value


@dataclass(eq=False)
class Segment:
    """One piece of a document. ``hidden`` says a human reader would not see it."""

    text: str
    where: str = ""
    hidden: bool = False
    why_hidden: str = ""

    @cached_property
    def norm(self) -> Normalized:
        return normalize(self.text)

    @cached_property
    def lowered(self) -> str:
        return self.norm.text.lower()

    def literal_hits(self, index: LiteralIndex) -> Hits:
        """Where the rules' literal prefixes occur in ``lowered`` (computed once per segment)."""
        cached: tuple[LiteralIndex, int, Hits] | None = self.__dict__.get("_literal_hits")
        if cached is not None and cached[0] is index and cached[1] == index.version:
            return cached[2]
        version = index.version  # read first: a rule added meanwhile makes the cache stale
        hits = index.hits(self.lowered)
        self.__dict__["_literal_hits"] = (index, version, hits)
        return hits


@dataclass(eq=False)
class Document:
    """A text as detectors see it: its kind, its source and its segments."""

    source: str
    kind: ContentKind
    segments: list[Segment] = field(default_factory=list)
    depth: int = 0

    @staticmethod
    def parse(text: str, kind: ContentKind | str = ContentKind.AUTO) -> Document:
        kind = ContentKind(kind)
        if kind is ContentKind.AUTO:
            kind = sniff(text)
        if kind is ContentKind.JSON:
            try:
                data = json.loads(text)
            except (ValueError, RecursionError):
                kind = ContentKind.TEXT
            else:
                segs = [Segment(s, where) for where, s in json_strings(data, "$") if s.strip()]
                return Document(text, kind, segs)
        if kind is ContentKind.HTML:
            visible, hidden = extract_html(text)
            segs = [Segment(visible, "html text")]
            segs += [Segment(h.text, f"html {h.where}", True, h.why) for h in hidden]
            return Document(text, kind, segs)
        segs = [Segment(text)]
        if kind is ContentKind.MARKDOWN or "<!--" in text:
            for m in _COMMENT.finditer(text):
                segs.append(Segment(m.group(1), f"comment @{m.start()}", True, "an HTML comment"))
        return Document(text, kind, segs)


_COMMENT = re.compile(r"<!--(.*?)(?:-->|\Z)", re.DOTALL)
_HTML_SNIFF = re.compile(
    r"<(?:!doctype|html|head|body|div|span|p|a|img|table|ul|li|br|style|script|section)\b",
    re.IGNORECASE,
)
_MD_SNIFF = re.compile(r"^(?:#{1,6} |[-*] |\d+\. |> )|\]\(|```", re.MULTILINE)


def sniff(text: str) -> ContentKind:
    """Guess a text's kind from its first characters and its markup."""
    head = text.lstrip()[:1]
    if head in ("{", "["):
        try:
            json.loads(text)
        except (ValueError, RecursionError):
            pass
        else:
            return ContentKind.JSON
    if len(_HTML_SNIFF.findall(text[:20000])) >= 2:
        return ContentKind.HTML
    if _MD_SNIFF.search(text[:20000]):
        return ContentKind.MARKDOWN
    return ContentKind.TEXT


def json_strings(data: object, path: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    stack: list[tuple[str, object]] = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            out.append((f"json {where}", value))
        elif isinstance(value, dict):
            for k, v in value.items():
                stack.append((f"{where}.{k}", v))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                stack.append((f"{where}[{i}]", v))
    out.reverse()
    return out
