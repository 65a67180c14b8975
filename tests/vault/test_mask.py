"""Masks keep a value's shape, never the value, and never its length."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proctor.vault import infer_kind, luhn_valid, mask


@pytest.mark.parametrize(
    ("kind", "value", "masked"),
    [
        ("email", "jane.doe@example.com", "j***@example.com"),
        ("card", "4242 4242 4242 4242", "**** **** **** 4242"),
        ("card", "4242424242424242", "**** **** **** 4242"),
        ("iban", "GB82 WEST 1234 5698 7654 32", "GB** **** 5432"),
        ("phone", "+44 20 7946 0958", "***-***-0958"),
        ("ssn", "536-22-4242", "***-**-4242"),
        ("ip", "203.0.113.42", "203.*.*.*"),
        ("ip", "2001:db8::1", "2001:****"),
        ("name", "Jane Doe", "J*** D***"),
        ("account", "0012345678", "****5678"),
        ("code", "12345", "****"),
    ],
)
def test_masks(kind, value, masked):
    assert mask(kind, value) == masked


def test_a_secret_keeps_its_public_prefix_only():
    key = "sk-" + "proj-" + "abc123" * 8
    assert mask("secret", key, keep_prefix="sk-proj-", secret=True) == "sk-proj-****"
    assert mask("secret", key, secret=True) == "[secret]****"


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("jane@example.com", "email"),
        ("536-22-4242", "ssn"),
        ("4242 4242 4242 4242", "card"),
        ("GB82WEST12345698765432", "iban"),
        ("10.1.2.3", "ip"),
        ("+1 415 555 0132", "phone"),
        ("Jane Doe", None),
        ("4242 4242 4242 4241", None),
    ],
)
def test_kinds_are_inferred_from_shape(value, kind):
    assert infer_kind(value) == kind


@given(st.text(alphabet="abcdefghij ", min_size=1, max_size=80).filter(str.strip))
def test_generic_masks_hide_the_length_of_each_word(text):
    words = text.split()
    assert mask("name", text).split()[: len(words[:6])] == [w[0] + "***" for w in words[:6]]


@given(st.lists(st.integers(0, 9), min_size=12, max_size=18))
def test_luhn_accepts_its_check_digit_and_refuses_every_other(body):
    digits = "".join(map(str, body))
    valid = [d for d in "0123456789" if luhn_valid(digits + d)]
    assert len(valid) == 1  # exactly one check digit completes a number
    assert mask("card", digits + valid[0]).endswith((digits + valid[0])[-4:])
