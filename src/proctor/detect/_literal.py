"""Literal-start gating: a rule's regex is tried only where a literal its match starts with occurs.

Most rule regexes open with a word from a short list (``\\b(?:ignore|disregard|...)``). From the
parsed regex, ``starts`` derives a set of literal strings one of which every match must start
with: zero-width assertions are skipped, a literal, a small character class, a group or an
alternation extends the prefixes, and anything open (a wide class, ``.``, an optional or
repeated part) ends them. A prefix that follows a ``\\b`` at the very start of the pattern is
*anchored*: it can only occur where ``\\b`` holds. A pattern for which no useful set can be
derived (a prefix shorter than ``MIN_LEN``) is not gated: ``starts`` returns ``None``.

``LiteralIndex`` finds the occurrences of every prefix of every gated rule at once: one regex
pass in C over the text for the anchored prefixes (a trie, tried only at word boundaries), a
few substring searches for the others. A rule is then matched only at the positions where one
of its prefixes occurs (``Pattern.match(text, pos)``, which sees the text before ``pos`` as
``search`` does), and a rule with no such position is skipped: the same matches as
``finditer``, for a fraction of the work.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

# The regex parser of the standard library and its opcodes (``re._parser`` since Python 3.11;
# typeshed does not describe them, hence ``Any``).
sre_parse: Any = importlib.import_module("re._parser")
sre: Any = importlib.import_module("re._constants")

MAX_STARTS = 128  # more prefixes than this: they are cut shorter until they fit
MAX_GROW = 1024  # prefixes stop growing past this many (the ones so far stand)
MAX_CLASS = 6  # a character class of at most this many characters is expanded
MIN_LEN = 2  # a prefix shorter than this occurs almost everywhere: no gate
ANCHOR = "\x00"  # marks a prefix that follows a \b at the start of the pattern

_Derived = tuple[frozenset[str], bool]  # (prefixes, complete: the match is one of them)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)


def starts(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """The literal strings one of which every match of ``pattern`` starts with, or ``None``.

    A string that begins with ``ANCHOR`` stands for the rest of it found where ``\\b`` holds.
    Case-sensitive: a pattern with ``re.IGNORECASE`` (flag or inline) is never gated. The set
    is minimal (no member is a prefix of another) and has at most ``MAX_STARTS`` members.
    """
    if flags & re.IGNORECASE or ANCHOR in pattern:
        return None
    try:
        parsed = sre_parse.parse(pattern, flags)
    except re.error:
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    prefixes = {p[:1] + p[1:].replace(ANCHOR, "") for p in _sequence(parsed.data)[0]}
    if any(len(p.lstrip(ANCHOR)) < MIN_LEN for p in prefixes):
        return None
    fitted = _minimal(prefixes)
    if len(fitted) <= MAX_STARTS:
        return fitted
    # Too many: cut them all to the longest length (anchor not counted) that leaves at most
    # MAX_STARTS; cutting shorter never leaves more, so a binary search finds it.
    low, high = MIN_LEN, max(map(len, fitted))
    best: frozenset[str] | None = None
    while low <= high:
        cut = (low + high) // 2
        fitted = _minimal(p[: cut + p.startswith(ANCHOR)] for p in prefixes)
        if len(fitted) <= MAX_STARTS:
            best, low = fitted, cut + 1
        else:
            high = cut - 1
    return best


def _minimal(prefixes: Iterable[str]) -> frozenset[str]:
    """Drop each prefix that has a shorter member of the set as its own prefix."""
    kept: list[str] = []
    for p in sorted(set(prefixes)):
        if not kept or not p.startswith(kept[-1]):
            kept.append(p)
    return frozenset(kept)


def _sequence(items: Sequence[tuple[Any, Any]]) -> _Derived:
    prefixes: frozenset[str] = frozenset({""})
    for op, av in items:
        if op is sre.AT:
            if av is sre.AT_BOUNDARY and prefixes == {""}:
                prefixes = frozenset({ANCHOR})
            continue  # matches no character: the prefixes go on after it
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            continue
        item = _item(op, av)
        if item is None:
            return prefixes, False
        ends, complete = item
        grown = frozenset(p + e for p in prefixes for e in ends)
        if len(grown) > MAX_GROW:
            return prefixes, False
        prefixes = grown
        if not complete:
            return prefixes, False
    return prefixes, True


def _item(op: Any, av: Any) -> _Derived | None:
    if op is sre.LITERAL:
        return frozenset({chr(av)}), True
    if op is sre.IN:
        chars = _class(av)
        return None if chars is None else (chars, True)
    if op is sre.BRANCH:
        alternatives = [_sequence(alt.data) for alt in av[1]]
        return frozenset().union(*(a[0] for a in alternatives)), all(a[1] for a in alternatives)
    if op is sre.SUBPATTERN:
        _group, add_flags, del_flags, sub = av
        if (add_flags | del_flags) & re.IGNORECASE:
            return None
        return _sequence(sub.data)
    if op is sre.ATOMIC_GROUP:
        return _sequence(av.data)
    if op in _REPEATS:
        low, high, sub = av
        inner = _sequence(sub.data)
        if low == 0:
            # optional: the prefixes so far stand; only a complete "x?" lets them grow
            if high == 1 and inner[1]:
                return inner[0] | {""}, True
            return frozenset({""}), False
        return inner[0], bool(low == high == 1 and inner[1])
    return None  # ., a negated or wide class, a back reference: nothing more is known


def _class(items: Sequence[tuple[Any, Any]]) -> frozenset[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is sre.LITERAL:
            chars.add(chr(av))
        elif op is sre.RANGE and av[1] - av[0] < MAX_CLASS:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        else:
            return None  # negated, a category (\s, \w), a wide range
        if len(chars) > MAX_CLASS:
            return None
    return frozenset(chars)


def _trie(strings: Iterable[str]) -> str:
    """A regex matching the longest of ``strings`` that starts at the current position."""
    root: dict[str, Any] = {}
    for s in strings:
        node = root
        for ch in s:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:  # a string ends here: a longer one is tried first
            return f"(?:{body})?"
        return body

    return build(root)


Owner = tuple[object, int]  # whose prefixes: a group (a detector class) and an index (a rule)
Hits = dict[Owner, list[int]]  # owner -> sorted positions where one of its prefixes occurs
# the trie regex of the anchored prefixes (tried at \b) and the owners of each (longest) one
# found there; the same for the other prefixes (found anywhere)
_Compiled = tuple[
    re.Pattern[str], dict[str, frozenset[Owner]], re.Pattern[str], dict[str, frozenset[Owner]]
]


class LiteralIndex:
    """The prefixes of many owners (rules), and where they occur in a text.

    ``add(owner, prefixes)`` registers an owner; ``hits(text)`` maps each owner that has an
    occurrence in ``text`` to the sorted positions where one of its prefixes starts (an
    anchored prefix only where ``\\b`` holds). Owners never added are absent, as are owners
    with no occurrence.
    """

    def __init__(self) -> None:
        self._owners: dict[str, set[Owner]] = {}  # prefix (anchor kept) -> owners
        self._lock = threading.Lock()
        self._compiled: _Compiled | None = None
        self.version = 0  # grows each time the prefixes change

    def add(self, owner: Owner, prefixes: Iterable[str]) -> None:
        """Register ``owner``'s prefixes (from ``starts``)."""
        with self._lock:
            for p in prefixes:
                self._owners.setdefault(p, set()).add(owner)
            self._compiled = None
            self.version += 1

    def _compile(self) -> _Compiled:
        with self._lock:
            if self._compiled is None:
                anchored = {p[1:]: o for p, o in self._owners.items() if p.startswith(ANCHOR)}
                plain = {p: o for p, o in self._owners.items() if not p.startswith(ANCHOR)}
                self._compiled = (
                    re.compile(r"\b(?=(" + (_trie(anchored) or "(?!)") + "))"),
                    _covers(anchored),
                    re.compile("(" + (_trie(plain) or "(?!)") + ")"),
                    _covers(plain),
                )
            return self._compiled

    def hits(self, text: str) -> Hits:
        anchored, anchored_covers, plain, plain_covers = self._compile()
        out: Hits = {}
        for m in anchored.finditer(text):
            pos = m.start()
            for owner in anchored_covers[m.group(1)]:
                out.setdefault(owner, []).append(pos)
        # The other prefixes: a consuming regex, whose first characters let the engine skip
        # ahead in C; each search resumes one character after the last hit, so that
        # overlapping occurrences are all found.
        found = plain.search(text)
        if found is None:
            return out
        while found is not None:
            pos = found.start()
            for owner in plain_covers[found.group(1)]:
                out.setdefault(owner, []).append(pos)
            found = plain.search(text, pos + 1)
        for positions in out.values():
            positions.sort()
        return out


def _covers(owners: dict[str, set[Owner]]) -> dict[str, frozenset[Owner]]:
    """For each prefix: the owners of it and of every shorter prefix it starts with (all of
    them occur where it does)."""
    return {
        s: frozenset().union(*(owners.get(s[:n], ()) for n in range(1, len(s) + 1))) for s in owners
    }


def finditer_at(
    regex: re.Pattern[str], text: str, positions: Iterable[int]
) -> Iterator[re.Match[str]]:
    """``regex.finditer(text)`` when every match starts at one of ``positions`` (sorted)."""
    end = -1
    for pos in positions:
        if pos < end:
            continue
        m = regex.match(text, pos)
        if m is not None:
            yield m
            end = m.end()  # never empty: it starts with a prefix of at least MIN_LEN chars


INDEX = LiteralIndex()  # the prefixes of every gated pattern-detector rule
