"""HTML to text, keeping apart what a reader sees from what only a model would read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_VOID = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
_SKIP = frozenset({"script", "style"})
_HIDDEN_TAGS = frozenset({"template", "noscript"})
_ATTRS = ("alt", "title", "aria-label", "aria-description", "placeholder", "content")
_BLOCK = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "tr",
        "td",
        "th",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "header",
        "footer",
        "table",
        "ul",
        "ol",
    ]
)
_WHITE = r"(?:white|#fff(?:fff)?\b|rgba?\(\s*255\s*,\s*255\s*,\s*255)"
_STYLE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"display\s*:\s*none"), "display:none"),
    (re.compile(r"visibility\s*:\s*hidden"), "visibility:hidden"),
    (re.compile(r"(?<![-\w])opacity\s*:\s*0(?:\.0*)?\s*(?:;|$|!)"), "opacity:0"),
    (re.compile(r"font-size\s*:\s*0(?:\.0*)?(?:px|pt|em|rem|%)?\s*(?:;|$|!)"), "zero font size"),
    (re.compile(r"(?<![-\w])(?:height|width)\s*:\s*0(?:px)?\s*(?:;|$|!)"), "zero size"),
    (re.compile(r"(?<![-\w])color\s*:\s*" + _WHITE), "white text"),
    (re.compile(r"(?:left|top|text-indent)\s*:\s*-\d{3,}"), "moved off-screen"),
    (re.compile(r"clip\s*:\s*rect\(\s*0"), "clipped to nothing"),
)


@dataclass(frozen=True, slots=True)
class HiddenText:
    text: str
    where: str
    why: str


def _hidden_why(tag: str, attrs: dict[str, str]) -> str:
    if tag in _HIDDEN_TAGS:
        return f"inside <{tag}>"
    if "hidden" in attrs:
        return "the hidden attribute"
    style = attrs.get("style", "").lower()
    for pattern, why in _STYLE_RULES:
        if pattern.search(style):
            return why
    if attrs.get("color", "").lower() in ("white", "#fff", "#ffffff"):
        return "white text"
    return ""


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.hidden: list[HiddenText] = []
        self.stack: list[tuple[str, str]] = []  # (tag, why hidden or "")
        self.buf: list[str] = []
        self.skip = 0

    def _hidden_reason(self) -> str:
        return next((why for _, why in reversed(self.stack) if why), "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        amap = {k.lower(): (v or "") for k, v in attrs}
        for name in _ATTRS:
            value = amap.get(name, "").strip()
            if len(value) > 1:
                self.hidden.append(HiddenText(value, f"<{tag} @{name}>", f"the {name} attribute"))
        if tag in _BLOCK:
            self.visible.append("\n")
        if tag in _VOID:
            return
        if tag in _SKIP:
            self.skip += 1
        why = _hidden_why(tag, amap)
        if why and not self._hidden_reason():
            self.buf = []
        self.stack.append((tag, why))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if not any(t == tag for t, _ in self.stack):
            return
        while self.stack:
            t, why = self.stack.pop()
            if t in _SKIP:
                self.skip -= 1
            if why and not self._hidden_reason():
                text = " ".join("".join(self.buf).split())
                if text:
                    self.hidden.append(HiddenText(text, f"<{t}> ({why})", why))
                self.buf = []
            if t == tag:
                break
        if tag in _BLOCK:
            self.visible.append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self._hidden_reason():
            self.buf.append(data)
        else:
            self.visible.append(data)

    def handle_comment(self, data: str) -> None:
        if data.strip():
            self.hidden.append(HiddenText(data.strip(), "comment", "an HTML comment"))

    def close(self) -> None:
        super().close()
        while self.stack:
            self.handle_endtag(self.stack[-1][0])


def extract_html(source: str) -> tuple[str, list[HiddenText]]:
    """The visible text of an HTML page, and every piece of text a reader would not see."""
    parser = _Extractor()
    parser.feed(source)
    parser.close()
    visible = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.visible))
    visible = re.sub(r"\s*\n\s*", "\n", visible).strip()
    return visible, parser.hidden
