"""Windows: the parts of a long text worth a slow regex.

A slow pattern (Presidio's recognizers, detect-secrets' keyword plugins) runs only on windows
around the hits of a cheap trigger that every match must contain. A window reaches ``margin``
characters beyond its hit, and then on to the next whitespace (at most ``reach`` more), so
that a value without spaces (an email, a key) is never cut; overlapping windows merge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SPACE = re.compile(r"\s")


def windows(
    text: str, hits: Iterable[tuple[int, int]], *, margin: int = 80, reach: int = 320
) -> list[tuple[int, int]]:
    """Merged ``(start, end)`` windows of ``text`` around ``hits``, in text order."""
    out: list[tuple[int, int]] = []
    n = len(text)
    for hs, he in sorted(hits):
        start = max(0, hs - margin)
        if start > 0:
            floor = max(0, start - reach)
            cut = max(text.rfind(" ", floor, start), text.rfind("\n", floor, start))
            start = cut + 1 if cut >= 0 else floor
        end = min(n, he + margin)
        if end < n:
            m = _SPACE.search(text, end, min(n, end + reach))
            end = m.start() if m else min(n, end + reach)
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
