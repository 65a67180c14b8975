"""The scanner's machinery: overlap resolution and the windows slow patterns run on."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from proctor.vault import DataClass, Match
from proctor.vault._scan import resolve_overlaps
from proctor.vault._windows import windows
from proctor.vault.detectors.detect_secrets_plugins import DetectSecretsDetector

_spans = st.lists(
    st.tuples(
        st.integers(0, 80),
        st.integers(1, 20),
        st.booleans(),
        st.floats(0, 1, allow_nan=False),
    ),
    max_size=15,
)


def _rank(m: Match) -> tuple:
    return (not m.secret, m.start - m.end, -m.score, m.start)


@settings(max_examples=300)
@given(_spans)
def test_overlaps_resolve_to_disjoint_spans_keeping_the_best(spans):
    ms = [
        Match("d", "r", "k", DataClass.SECRET if sec else DataClass.CUSTOMER, s, s + n, sc, "x")
        for s, n, sec, sc in spans
    ]
    kept = resolve_overlaps(ms)
    assert [m.start for m in kept] == sorted(m.start for m in kept)
    assert all(a.end <= b.start for a, b in itertools.pairwise(kept))
    for m in ms:  # a dropped match overlaps a kept one ranked at least as high
        if m not in kept:
            assert any(k.start < m.end and m.start < k.end and _rank(k) <= _rank(m) for k in kept)


@settings(max_examples=300)
@given(
    st.text(alphabet="ab @.\n", min_size=0, max_size=400),
    st.lists(st.tuples(st.integers(0, 399), st.integers(0, 5)), max_size=8),
)
def test_windows_cover_every_hit_and_the_word_around_it(text, raw):
    hits = [(s, min(len(text), s + n)) for s, n in raw if s < len(text)]
    got = windows(text, hits, margin=5, reach=400)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(got))  # disjoint, sorted
    for s, e in hits:
        (w,) = [w for w in got if w[0] <= s and e <= w[1]]
        assert w[0] <= max(0, s - 5)
        assert w[1] >= min(len(text), e + 5)
    for start, end in got:  # windows cut at whitespace: no word is split
        assert start == 0 or text[start - 1] in " \n"
        assert end == len(text) or text[end] in " \n"


def test_detect_secrets_keyword_plugins_are_the_ones_gated_by_a_credential_word():
    gated = {name for name, _t, _r, needs in DetectSecretsDetector.table() if needs}
    assert gated == {
        "AWSKeyDetector",
        "CloudantDetector",
        "IbmCloudIamDetector",
        "IbmCosHmacDetector",
        "SoftlayerDetector",
    }
    for _name, _t, regex, needs in DetectSecretsDetector.table():
        if needs:  # each gated regex cannot match without one of the words
            assert any(w in regex.pattern for w in ("key", "pwd", "pass", "token", "secret"))
