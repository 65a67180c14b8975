"""Typed values found in text: each kind, and benign text that must not yield a false one."""

from __future__ import annotations

import pytest

from proctor.flow import extract
from proctor.flow._rules import identifiers


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("write to Mark.Black-2134@gmail.com today", "email", "mark.black-2134@gmail.com"),
        ("see https://evil.example/x?a=1 now", "url", "https://evil.example/x?a=1"),
        ("visit www.secure-systems-252.com.", "url", "www.secure-systems-252.com"),
        ("visit www.secure-systems-252.com.", "domain", "www.secure-systems-252.com"),
        ("IBAN: US133000000121212121212", "iban", "us133000000121212121212"),
        ("call +44 20 7946 0958", "phone", "+44 20 7946 0958"),
        ("open /etc/passwd please", "path", "/etc/passwd"),
        ("the file bill-december-2023.txt", "path", "bill-december-2023.txt"),
    ],
)
def test_extracts(text, kind, value):
    assert (kind, value) in {(f.kind, f.value) for f in extract(text)}


BENIGN = {
    "date": "meet on 2024-05-20 at 10:00",
    "amount": "total 1,200.50 EUR",
    "prose": "Thanks, see you at the offsite.",
    "file-name-not-domain": "notes.txt",
}


@pytest.mark.parametrize("text", BENIGN.values(), ids=BENIGN.keys())
def test_benign_text_has_no_address(text):
    assert [f for f in extract(text) if f.kind in ("email", "url", "domain", "iban", "phone")] == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("passport HGK137803", ["hgk137803"]),
        ("card 4237-4252-7456-2574", ["4237-4252-7456-2574"]),
        ("on 2024-05-20 at 10:00:00", []),
        ("short 1234", []),
    ],
)
def test_identifiers(text, found):
    assert identifiers(text) == found
