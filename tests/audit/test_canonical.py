"""The encoding every hash is taken over, and the masking of argument values."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proctor.audit import canonical_json, mask_args, mask_value, record_hash

text = st.text(max_size=30)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


@given(
    seq=st.integers(1, 2**62),
    rid=text,
    ts=text,
    kind=text,
    session=st.none() | text,
    links=st.lists(text, max_size=3),
    body=st.dictionaries(text, json_values, max_size=5),
    prev=text,
)
def test_record_hash_is_sha256_of_the_canonical_json_of_the_content(
    seq, rid, ts, kind, session, links, body, prev
):
    content = {
        "body": body,
        "id": rid,
        "kind": kind,
        "links": links,
        "prev": prev,
        "seq": seq,
        "session": session,
        "ts": ts,
    }
    expected = hashlib.sha256(canonical_json(content).encode("utf-8", "surrogatepass")).hexdigest()
    got = record_hash(
        seq, rid, ts, kind, session, canonical_json(links), canonical_json(body), prev
    )
    assert got == expected


def test_canonical_json_sorts_keys_and_drops_whitespace():
    assert canonical_json({"b": [1, 2.5], "a": "é"}) == '{"a":"é","b":[1,2.5]}'


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1, 2}])
def test_canonical_json_refuses_what_json_cannot_say_exactly(bad):
    with pytest.raises((ValueError, TypeError)):
        canonical_json({"x": bad})


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ("4111 1111 1111 1111", "string"),
        (40.0, "number"),
        (7123, "integer"),
        (True, "boolean"),
        (None, "null"),
        ([1, 2], "array"),
        ({"iban": "DE89370400440532013000"}, "object"),
    ],
)
def test_mask_keeps_type_and_digest_never_the_value(value, type_name):
    masked = mask_value(value)
    assert masked == {
        "type": type_name,
        "sha256": hashlib.sha256(canonical_json(value).encode()).hexdigest(),
    }
    assert set(masked) == {"type", "sha256"}


def test_mask_args_keeps_every_name():
    masked = mask_args({"to": "alice@example.test", "amount": 12})
    assert set(masked) == {"to", "amount"}
    assert "alice@example.test" not in json.dumps(masked)


def test_values_that_are_not_json_are_masked_by_their_text():
    class Opaque:
        def __str__(self) -> str:
            return "opaque"

    assert mask_value(Opaque())["type"] == "Opaque"


class _Opaque:
    def __str__(self) -> str:
        return "opaque \u00e9 \ud800"


def _dumps(value: object, **kw: object) -> str:
    """``json.dumps`` as the encoders built once replaced it (the bytes must not change)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, **kw)


@given(value=json_values | st.dictionaries(text, st.just(_Opaque()) | json_values, max_size=3))
def test_the_encoders_built_once_write_what_json_dumps_writes(value):
    # surrogates and non-ASCII text (hypothesis' text), non-JSON values by their str
    from proctor.audit._canonical import value_digest
    from proctor.model import _receipt
    from proctor.vault import _digest

    as_value = _dumps(value, default=str)
    assert (
        value_digest(value) == hashlib.sha256(as_value.encode("utf-8", "surrogatepass")).hexdigest()
    )
    assert _digest.canonical(value) == as_value.encode("utf-8", "surrogatepass")
    salt = bytes(range(32))
    args = {"v": value}
    assert (
        _receipt.args_commitment(salt, args)
        == hashlib.sha256(
            salt + _dumps(args, default=str).encode("utf-8", "surrogatepass")
        ).hexdigest()
    )
    try:
        expected = _dumps(value, allow_nan=False)
    except TypeError:  # not JSON: refused by both
        with pytest.raises(TypeError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected
    assert _receipt._canonical(value) == expected
