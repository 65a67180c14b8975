"""Clear values back into their tokens.

A tool the policy lets see a token's value gets the clear value at execution time. Whatever it
echoes of that value (in its output, in an error message) becomes the token again before the
model, the audit log or an approver sees it: the gate knows those values even when no detector
pattern does (a customer id).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from proctor.vault._scan import MIN_KNOWN
from proctor.vault._vault import TOKEN

WITHHELD = "[value withheld]"


class Retokenizer:
    """Replaces every clear value of ``tokens`` (clear value -> token) in a text by its token,
    longest first, ignoring case. Tokens already in the text are left whole (a value may be a
    few characters of a token's digest). Values shorter than ``MIN_KNOWN`` characters are left
    alone: they would replace parts of common words."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        self._tokens = {c.casefold(): t for c, t in tokens.items() if len(c) >= MIN_KNOWN}
        values = sorted({c for c in tokens if len(c) >= MIN_KNOWN}, key=len, reverse=True)
        self._pattern = (
            re.compile(
                f"(?P<token>{TOKEN.pattern})|" + "|".join(re.escape(v) for v in values),
                re.IGNORECASE,
            )
            if values
            else None
        )

    def __bool__(self) -> bool:
        return self._pattern is not None

    def _swap(self, m: re.Match[str]) -> str:
        if m["token"] is not None:
            return m[0]
        # a case variant that casefolds apart from every value still never shows
        return self._tokens.get(m[0].casefold(), WITHHELD)

    def __call__(self, text: str) -> str:
        return text if self._pattern is None else self._pattern.sub(self._swap, text)


NO_TOKENS = Retokenizer({})
