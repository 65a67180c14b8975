# ruff: noqa: RUF001  (look-alike and CJK characters are the point of these cases)
"""Normalization with offsets, and how documents of each kind are split into segments."""

from __future__ import annotations

import pytest

from proctor.detect import ContentKind, Document
from proctor.detect._document import sniff
from proctor.detect._text import normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain ascii", "plain ascii"),
        ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
        ("іgnоrе", "ignore"),
        ("ig\u200bnore", "ignore"),
        ("a\u202eb", "ab"),
        ("x" + chr(0xE0041) + "y", "xy"),
        ("café", "café"),
    ],
    ids=["ascii", "fullwidth", "cyrillic", "zero-width", "bidi", "tag", "accent"],
)
def test_normalize(text, expected):
    assert normalize(text).text == expected


def test_origin_maps_back_to_the_original():
    text = "say: ig\u200bnore"
    n = normalize(text)
    start = n.text.index("ignore")
    lo, hi = n.origin(start, start + 6)
    assert text[lo:hi] == "ig\u200bnore"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('{"a": 1}', ContentKind.JSON),
        ("[1, 2]", ContentKind.JSON),
        ("<html><body><p>x</p></body></html>", ContentKind.HTML),
        ("# Title\n\n- item", ContentKind.MARKDOWN),
        ("see [docs](https://x.example)", ContentKind.MARKDOWN),
        ("just words", ContentKind.TEXT),
        ("{not json", ContentKind.TEXT),
    ],
    ids=[
        "json-object",
        "json-array",
        "html",
        "markdown-heading",
        "markdown-link",
        "text",
        "broken",
    ],
)
def test_sniff(text, kind):
    assert sniff(text) is kind


def test_html_keeps_visible_and_hidden_apart():
    doc = Document.parse(
        '<html><body><p>Hello</p><script>var x = "ignore";</script>'
        '<div style="display:none">secret words</div><!-- note --></body></html>'
    )
    visible = doc.segments[0]
    assert visible.text == "Hello"
    hidden = {s.why_hidden: s.text for s in doc.segments[1:]}
    assert hidden == {"display:none": "secret words", "an HTML comment": "note"}


def test_unclosed_html_still_reports_hidden_text():
    doc = Document.parse('<div><p>a</p><div style="display:none">never closed', "html")
    assert [s.text for s in doc.segments if s.hidden] == ["never closed"]


def test_json_strings_are_segments_named_by_path():
    doc = Document.parse('{"a": {"b": ["x", "y"]}, "n": 3}')
    assert [(s.where, s.text) for s in doc.segments] == [
        ("json $.a.b[0]", "x"),
        ("json $.a.b[1]", "y"),
    ]


def test_invalid_json_falls_back_to_text():
    doc = Document.parse("{oops", "json")
    assert doc.kind is ContentKind.TEXT
