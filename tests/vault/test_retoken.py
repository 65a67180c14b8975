"""Clear values back into their tokens, in any text a tool produced: every occurrence, in any
case, longest first; tokens already there stay whole."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.vault import TOKEN
from proctor.vault._retoken import Retokenizer

_UPPER = "GHIJKLMNOPQRSTUVWXYZ- "  # no hex digit: a value is never part of a digest here


def _token(i: int) -> str:
    return f"tok_id_{i:032x}"


def test_every_occurrence_in_any_case_becomes_the_token():
    r = Retokenizer({"Jane.Doe@example.com": _token(1), "C-4711": _token(2), "abc": _token(3)})
    text = "to JANE.DOE@EXAMPLE.COM and jane.doe@example.com about c-4711 (abc)"
    assert r(text) == f"to {_token(1)} and {_token(1)} about {_token(2)} (abc)"  # abc: too short


def test_the_longest_value_wins_and_tokens_stay_whole():
    tok = _token(0x4711)
    r = Retokenizer({"4711": _token(9), "C-4711-X": _token(8)})
    assert r(f"C-4711-X, 4711 and {tok}") == f"{_token(8)}, {_token(9)} and {tok}"
    assert not Retokenizer({})
    assert Retokenizer({})("C-4711") == "C-4711"


@settings(max_examples=300)
@given(
    values=st.lists(
        st.text(alphabet=_UPPER, min_size=4, max_size=12),
        min_size=1,
        max_size=4,
        unique_by=str.casefold,
    ),
    parts=st.lists(
        st.one_of(
            st.text(alphabet=_UPPER.lower() + _UPPER, max_size=8),
            st.tuples(st.integers(0, 3), st.booleans()),  # a value, maybe lower-cased
            st.integers(100, 200).map(_token),  # a token already in the text
        ),
        max_size=12,
    ),
)
def test_no_clear_value_survives(values, parts):
    tokens = {v: _token(i) for i, v in enumerate(values)}
    text = "".join(
        p
        if isinstance(p, str)
        else (values[p[0] % len(values)].lower() if p[1] else values[p[0] % len(values)])
        for p in parts
    )
    out = Retokenizer(tokens)(text)
    rest = TOKEN.sub("\x00", out).casefold()
    for v in values:
        assert v.casefold() not in rest
    for p in parts:
        if isinstance(p, str) and TOKEN.fullmatch(p):
            assert p in out  # a token that was there is still there, whole
