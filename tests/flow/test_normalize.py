"""Normalization: look-alike spellings of one value compare equal."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proctor.flow import canonical_value, compact, normalize


@pytest.mark.parametrize(
    ("spelled", "plain"),
    [
        pytest.param("Mark.Black@GMAIL.com", "mark.black@gmail.com", id="case"),
        pytest.param("  a \t b\n c ", "a b c", id="whitespace"),
        pytest.param(
            "\uff4d\uff41\uff52\uff4b\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
            "mark@example.com",
            id="fullwidth-nfkc",
        ),
        pytest.param("m\u0430rk@ex\u0430mple.com", "mark@example.com", id="cyrillic-a"),
        pytest.param("\u0440\u0430y\u0440\u0430l.com", "paypal.com", id="cyrillic-p-a"),
        pytest.param("\u03bf\u03c1en", "open", id="greek-omicron-rho"),
        pytest.param("\u039a\u0391\u03a4\u0395", "kate", id="greek-capitals"),
        pytest.param("mark%40example.com", "mark@example.com", id="url-encoded"),
        pytest.param("mark%2540example.com", "mark@example.com", id="double-url-encoded"),
        pytest.param("ma\u200brk@exa\u00admple.com", "mark@example.com", id="invisible"),
    ],
)
def test_look_alikes_normalize_to_the_plain_value(spelled, plain):
    assert normalize(spelled) == plain


def test_compact_joins_a_value_split_across_lines():
    assert compact("US13 3000 0001\n2121 2121 212") == "us133000000121212121212"


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("https://www.Example.com/", "www.example.com"),
        ("http://example.com/a/", "example.com/a"),
        ("mailto:Bob@Example.com", "bob@example.com"),
        ("/", "/"),
    ],
)
def test_canonical_value_drops_scheme_and_trailing_slash(value, key):
    assert canonical_value(value) == key


@given(st.text())
def test_normalize_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once


@given(st.text(alphabet=st.characters(categories=("L", "N")), min_size=1), st.data())
def test_whitespace_inserted_anywhere_does_not_change_compact(text, data):
    cut = data.draw(st.integers(0, len(text)))
    spaced = text[:cut] + data.draw(st.sampled_from([" ", "\n", "\t", "\r\n  "])) + text[cut:]
    assert compact(spaced) == compact(text)
