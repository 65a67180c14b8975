"""The multi-turn score: repeated near misses in one session add up to an escalation.

One probing message may stay under every threshold; ten in a row should not. The score decays
each turn (so an old near miss fades) and grows by 1 for a hostile turn or by the judgement's
score for a near miss. Past ``hold_at`` the session's actions should be held for a human; past
``contain_at`` the agent should be contained. A value: ``observe`` returns a new score.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import IntEnum

from proctor.detect._judge import Judgement


class Escalation(IntEnum):
    """What a session's score asks for. Ordered: ``max()`` picks the strictest."""

    NONE = 0
    HOLD = 1
    CONTAIN = 2

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class SessionScore:
    score: float = 0.0
    turns: int = 0
    hostile_turns: int = 0
    near_misses: int = 0
    hold_at: float = 1.0
    contain_at: float = 2.0
    decay: float = 0.8

    def observe(self, judgement: Judgement) -> SessionScore:
        """The score after one more scanned text."""
        add = 1.0 if judgement.hostile else judgement.score if judgement.near_miss else 0.0
        return replace(
            self,
            score=self.score * self.decay + add,
            turns=self.turns + 1,
            hostile_turns=self.hostile_turns + judgement.hostile,
            near_misses=self.near_misses + judgement.near_miss,
        )

    @property
    def escalation(self) -> Escalation:
        if self.score >= self.contain_at:
            return Escalation.CONTAIN
        if self.score >= self.hold_at:
            return Escalation.HOLD
        return Escalation.NONE

    @property
    def explanation(self) -> str:
        return (
            f"session score {self.score:.2f} after {self.turns} texts ({self.hostile_turns} "
            f"hostile, {self.near_misses} near misses): {self.escalation} "
            f"(hold at {self.hold_at}, contain at {self.contain_at})"
        )
