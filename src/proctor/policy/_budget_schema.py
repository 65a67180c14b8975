"""The policy's ``budgets:`` section: cumulative limits over a sliding window and a scope.

Kept apart from ``_schema.py`` so that the section reads as one unit; ``PolicySpec`` names it.
``proctor.budgets`` keeps the accounts (docs/budgets.md).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema, field_validator

TOOL = r"^[a-z][a-z0-9_.-]{0,63}$"
MAX_LIMIT = Decimal(10) ** 9  # micro-units stay exact in a double (Redis scripts sum in Lua)
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_WINDOW = re.compile(r"^\s*(\d+)?\s*(second|minute|hour|day)s?\s*$")


def _window(value: object) -> object:
    if isinstance(value, str):
        m = _WINDOW.match(value)
        if not m:
            raise ValueError(
                f"invalid window {value!r}; expected a number and a unit such as 'hour', "
                "'1 day' or '30 days' (units: second, minute, hour, day)"
            )
        return int(m.group(1) or 1) * _UNITS[m.group(2)]
    return value


Window = Annotated[
    int,
    BeforeValidator(_window),
    Field(ge=60, le=366 * 86400),
    WithJsonSchema({"type": "string", "description": "e.g. `hour`, `1 day`, `30 days`"}),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BudgetTerm(_Strict):
    """What one tool's call adds to a budget. Shorthand: `payments.refund: args.amount`."""

    amount: str = Field(
        min_length=1,
        description="CEL expression over the call (args, env, agent, tool, principal, tenant) "
        "that yields a number: what the call spends, e.g. `args.amount` or `size(args.to)`. "
        "An error, a result that is not a number, or a negative number denies the call.",
    )
    key: str | None = Field(
        default=None,
        min_length=1,
        description="For `scope: key`: CEL expression naming whose budget it is for this tool, "
        "e.g. `args.customer_id`; unset: the budget's `key`.",
    )


def _term_shorthand(value: object) -> object:
    return {"amount": value} if isinstance(value, str | int | float) else value


def _amount_text(value: object) -> object:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


TermValue = Annotated[BudgetTerm, BeforeValidator(_term_shorthand)]


class Budget(_Strict):
    """A cumulative limit: what the calls of several tools add up to, per scope, in any window
    of `window` (a sliding window: the sum of what was spent or is reserved in the last
    `window`, never a calendar period). A call that would take the sum above `limit` gets
    `on_exceed`. Its rule id is `budget.NAME`."""

    limit: Annotated[str, BeforeValidator(_amount_text)] = Field(
        description="The most the sum may reach, e.g. `2000` or `150.50` (at most 6 decimals).",
        json_schema_extra={"type": "number"},
    )
    unit: str = Field(default="", max_length=16, description="Shown in reasons, e.g. `USD`.")
    window: Window = Field(description="The sliding window, e.g. `1 day`, `30 days`, `hour`.")
    scope: Literal["agent", "tenant", "session", "key"] = Field(
        default="agent",
        description="Whose budget: this agent's (all tenants), this agent's per tenant, per "
        "session, or per `key` (a CEL expression over the call, within its tenant, e.g. per "
        "customer). The agent steers `key` and `session` scopes: pair them with an `agent` or "
        "`tenant` budget over the same tools (`proctor policy check` warns).",
    )
    key: str | None = Field(
        default=None,
        min_length=1,
        description="For `scope: key`: CEL expression naming whose budget it is, e.g. "
        "`args.customer_id` (a tool's own `key` wins). Must yield a non-empty string or an "
        "integer; anything else denies the call. Vault tokens count as their clear value, "
        "normalized (NFKC, no format characters, trimmed, case-folded) and stored as a digest.",
    )
    tools: dict[Annotated[str, Field(pattern=TOOL)], TermValue] = Field(
        min_length=1,
        description="The tools that spend from it, each with what a call adds, e.g. "
        "`payments.refund: args.amount`.",
    )
    on_exceed: Literal["hold", "deny"] = Field(
        default="hold", description="Verdict on a call that would exceed the limit."
    )
    approvers: int | None = Field(
        default=None,
        ge=1,
        le=5,
        description="For `hold`: distinct people who approve; unset: `defaults.approval`'s.",
    )
    group: str | None = Field(
        default=None,
        description="For `hold`: the approver group; unset: `defaults.approval`'s, else the "
        "agent's owner.",
    )
    reason: str = Field(default="", description="Added to the reason of an exceeding call.")

    @field_validator("limit")
    @classmethod
    def _limit_is_amount(cls, value: str) -> str:
        try:
            d = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"limit {value!r} is not a number") from None
        if not d.is_finite() or d <= 0 or d > MAX_LIMIT:
            raise ValueError(f"limit {value!r} must be above 0 and at most {MAX_LIMIT:,}")
        if d != d.quantize(Decimal("0.000001")):
            raise ValueError(f"limit {value!r} has more than 6 decimals")
        return value.strip()
