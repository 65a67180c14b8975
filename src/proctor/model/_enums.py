"""Enumerations shared by every ring."""

from __future__ import annotations

from enum import IntEnum, StrEnum


class Verdict(IntEnum):
    """What the gate decides. Ordered so that ``max()`` picks the strictest: DENY > HOLD > ALLOW."""

    ALLOW = 0
    HOLD = 1
    DENY = 2

    def __str__(self) -> str:
        return self._name_  # the name, without the enum property's lookup


class Autonomy(IntEnum):
    """How much an action may do on its own, from reading to executing. Ordered."""

    READ = 0
    DRAFT = 1
    WRITE = 2
    EXECUTE = 3

    def __str__(self) -> str:
        return self._name_.lower()


class Environment(StrEnum):
    """Where a session runs. A policy grants autonomy per environment."""

    DEV = "dev"
    STAGING = "staging"
    PRODUCTION = "production"

    def __str__(self) -> str:
        return str.__str__(self)  # the value: a member is that str (no enum property lookup)


class Flag(StrEnum):
    """Risk flags of a tool. The first three make a call HOLD unless the policy says otherwise."""

    IRREVERSIBLE = "irreversible"
    CUSTOMER_VISIBLE = "customer_visible"
    MOVES_MONEY = "moves_money"
    EXTERNAL = "external"

    def __str__(self) -> str:
        return str.__str__(self)  # the value: a member is that str (no enum property lookup)


HOLDING_FLAGS: frozenset[Flag] = frozenset(
    {Flag.IRREVERSIBLE, Flag.CUSTOMER_VISIBLE, Flag.MOVES_MONEY}
)


class Step(StrEnum):
    """The steps of the gate pipeline, in the order they run."""

    RESOLVE = "resolve"
    BOUNDARY = "boundary"
    LIMITS = "limits"
    FLOW = "flow"
    RATE = "rate"
    VERDICT = "verdict"
    EXECUTE = "execute"
    VALIDATE = "validate"

    def __str__(self) -> str:
        return str.__str__(self)  # the value: a member is that str (no enum property lookup)


class StepStatus(StrEnum):
    """Whether a check ran. Kept apart from the verdict: an ``error`` never allows."""

    OK = "ok"
    ERROR = "error"
    SKIPPED = "skipped"

    def __str__(self) -> str:
        return str.__str__(self)  # the value: a member is that str (no enum property lookup)
