"""Literal-start gating: the gate never skips a match, for every rule of every pattern detector."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor.detect import BUILTIN, PatternDetector
from proctor.detect._literal import ANCHOR, INDEX, LiteralIndex, finditer_at, starts

RULES = [
    (cls, i, rule)
    for cls in BUILTIN.values()
    if issubclass(cls, PatternDetector)
    for i, rule in enumerate(cls.rules)
]
IDS = [f"{cls.id}:{rule.id}" for cls, _, rule in RULES]
for _cls in {cls for cls, _, _ in RULES}:
    _cls.regexes()  # registers the rules with the shared index

# Words and marks the rules are made of, so that generated texts come close to matching.
VOCAB = sorted(
    {w for _, _, rule in RULES for w in re.findall(r"[^\W\d_]{2,}|[<>|\[\]\"':/]", rule.pattern)}
    | {p.lstrip(ANCHOR) for _, _, rule in RULES for p in starts(rule.pattern, re.M) or ()}
)
NOISE = st.sampled_from([" ", " ", "  ", "\n", ".", ", ", "-", "x", "é", "_", "'", "\u3002"])
TEXTS = st.lists(st.one_of(st.sampled_from(VOCAB), NOISE), max_size=40).map("".join)


def gated_matches(cls: type[PatternDetector], i: int, text: str) -> list[tuple[int, int]]:
    """What the detector's gated path matches for rule ``i`` in ``text`` (already lower-case)."""
    fast, _ = cls.regexes()[i]
    if not cls._gated[i]:
        return plain_matches(cls, i, text)  # not gated: the detector runs finditer
    positions = INDEX.hits(text).get((cls, i))
    if positions is None:
        return []
    return [m.span() for m in finditer_at(fast, text, positions)]


def plain_matches(cls: type[PatternDetector], i: int, text: str) -> list[tuple[int, int]]:
    fast, _ = cls.regexes()[i]
    return [m.span() for m in fast.finditer(text)]


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"\bignore\b", {ANCHOR + "ignore"}),
        (r"\b(?:ignore|forget) (?:all )?prior", {ANCHOR + "ignore prior", ANCHOR + "forget prior",
                                                  ANCHOR + "ignore all prior",
                                                  ANCHOR + "forget all prior"}),
        (r"new (?:system )?task[:\uff1a]", {"new system task:", "new system task\uff1a",
                                            "new task:", "new task\uff1a"}),
        (r"\bdo(?:n'?t)? stop", {ANCHOR + "do stop", ANCHOR + "don't stop", ANCHOR + "dont stop"}),
        (r"<\|(?:im_start|system)\|>", {"<|im_start|>", "<|system|>"}),
        (r"abc\s+def", {"abc"}),  # \s+ ends the prefixes
        (r"ab[^x]cd", {"ab"}),  # so does a negated class
        (r"x(?:ab|cd)+y", {"xab", "xcd"}),  # a repeat gives its first round, then ends them
        (r"foo|foobar", {"foo"}),  # minimal: foobar starts with foo
        (r"x\b(?:yz)", {"xyz"}),  # a \b after the start does not anchor
    ],
)  # fmt: skip
def test_starts_derives_the_prefixes(pattern: str, expected: set[str]) -> None:
    assert starts(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        r"^\s*action:",  # opens with a repeat that may be empty
        r".foo",  # opens with any character
        r"(?i)ignore",  # case-insensitive: a lower-case literal would miss upper case
        r"a|bc",  # one alternative is a single character
        r"[a-z]+ing",  # a wide class
        r"(?:ab)?cd|x",
    ],
)
def test_starts_gives_up_when_nothing_useful_is_forced(pattern: str) -> None:
    assert starts(pattern) is None


def test_starts_ignores_a_case_insensitive_flag() -> None:
    assert starts("ignore", re.IGNORECASE) is None


def test_most_rules_are_gated() -> None:
    gated = [rule.id for cls, _, rule in RULES if starts(rule.pattern, re.M) is not None]
    assert len(gated) >= len(RULES) - 8, sorted({r.id for _, _, r in RULES} - set(gated))


def test_long_prefix_sets_are_cut_to_fit() -> None:
    many = "(?:" + "|".join(f"w{i:03d}" for i in range(300)) + ") tail"
    got = starts(many)
    assert got is not None
    assert len(got) <= 128
    assert all(any(f"w{i:03d} tail".startswith(p) for p in got) for i in range(300))


@pytest.mark.parametrize(("cls", "i", "rule"), RULES, ids=IDS)
@settings(
    max_examples=40,
    deadline=None,
    # from_regex filters out the strings that fail a \b: many, for some rules
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_gate_never_skips_a_match(
    cls: type[PatternDetector], i: int, rule: object, data: st.DataObject
) -> None:
    """A text the rule's own regex generates (so it matches), alone and between words of the
    rules: the gated matches are exactly ``finditer``'s."""
    fast, _ = cls.regexes()[i]
    matching = data.draw(st.from_regex(fast, fullmatch=True), label="a match")
    mixed = data.draw(TEXTS, label="before") + matching + data.draw(TEXTS, label="after")
    assert plain_matches(cls, i, matching)  # not vacuous: there is a match to find
    for text in (matching, mixed):
        assert gated_matches(cls, i, text) == plain_matches(cls, i, text)


@settings(max_examples=300, deadline=None)
@given(text=TEXTS)
def test_gate_never_skips_a_match_in_word_soup(text: str) -> None:
    for cls, i, _ in RULES:
        assert gated_matches(cls, i, text) == plain_matches(cls, i, text)


@settings(max_examples=300, deadline=None)
@given(
    prefixes=st.lists(
        st.tuples(st.booleans(), st.text("ab c<|", min_size=2, max_size=4)), max_size=8
    ),
    text=st.text("ab c<|\n", max_size=60),
)
def test_index_hits_are_every_occurrence(prefixes: list[tuple[bool, str]], text: str) -> None:
    index = LiteralIndex()
    for n, (anchored, p) in enumerate(prefixes):
        index.add(("g", n), [ANCHOR + p if anchored else p])
    expected: dict[tuple[object, int], list[int]] = {}
    for n, (anchored, p) in enumerate(prefixes):
        for pos in range(len(text)):
            if text.startswith(p, pos) and (
                not anchored or re.compile(r"\b").match(text, pos) is not None
            ):
                expected.setdefault(("g", n), []).append(pos)
    got = {k: sorted(set(v)) for k, v in index.hits(text).items()}
    assert got == expected


def test_an_index_recompiles_when_a_rule_is_added() -> None:
    index = LiteralIndex()
    index.add(("a", 0), [ANCHOR + "ignore"])
    before = index.version
    assert index.hits("please ignore it") == {("a", 0): [7]}
    index.add(("b", 0), ["it"])
    assert index.version > before
    assert index.hits("please ignore it") == {("a", 0): [7], ("b", 0): [14]}
