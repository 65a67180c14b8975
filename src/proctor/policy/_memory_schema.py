"""The policy's ``memory:`` section: how long each kind of memory item lives, which kinds a
person reviews before they can influence an action, and what happens to items derived from
untrusted content (see docs/memory.md). Kept apart from ``_schema.py``; ``PolicySpec`` names it.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from proctor.policy._data_schema import SESSION_REF

MEMORY_KIND = r"^[a-z][a-z0-9_]{0,63}$"
SCOPE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
IMPORTANT_KINDS = ("bank_account", "address", "email", "entitlement", "standing_instruction")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
MAX_TTL = 10 * 365 * 86400


def _duration(value: object) -> object:
    """``30d``, ``12h``, ``15m``, ``90s``, ``2w``, or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '30d', '12h' or a number of seconds")
    if isinstance(value, str):
        m = _DURATION.match(value)
        if not m:
            raise ValueError(
                f"invalid duration {value!r}; expected NUMBER followed by s, m, h, d or w "
                "(e.g. '30d', '12h')"
            )
        return int(m.group(1)) * _UNITS[m.group(2)]
    return value


Seconds = Annotated[int, BeforeValidator(_duration), Field(ge=1, le=MAX_TTL)]


def _session_or_literal(value: str, what: str) -> str:
    if value.startswith("session.") and not SESSION_REF.match(value):
        raise ValueError(
            f"{what} {value!r} is not a session value; expected session.tenant, "
            "session.principal, session.agent or session.scope.NAME, or a literal name"
        )
    if not value.startswith("session.") and not re.match(SCOPE_NAME, value):
        raise ValueError(f"{what} {value!r} is not a valid name (letters, digits, _ . : @ -)")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MemoryKindRule(_Strict):
    """How one kind of memory item is kept."""

    ttl: Seconds | None = Field(
        default=None,
        description="Lifetime (`30d`, `12h`, or seconds). Unset: the section's `ttl`.",
    )
    untrusted: Literal["fence", "review"] | None = Field(
        default=None,
        description="An item derived from untrusted content (or carrying instruction-like "
        "text): `review` keeps it out of every context until a person approves it; `fence` "
        "returns it fenced and marked untrusted. Unset: the section's `untrusted`.",
    )
    review: bool = Field(
        default=False,
        description="Always reviewed by a person before it can reach a context, whatever its "
        "source (as the kinds of `review_kinds`).",
    )


class MemoryScopeRule(_Strict):
    """A retention rule for the items of some tenants or workspaces. Every rule that matches
    an item applies; the item lives the shortest of the lifetimes that apply."""

    tenant: Annotated[str, Field(pattern=SCOPE_NAME)] | None = Field(
        default=None, description="Matches items of this tenant (unset: every tenant)."
    )
    workspace: Annotated[str, Field(pattern=SCOPE_NAME)] | None = Field(
        default=None, description="Matches items of this workspace (unset: every workspace)."
    )
    subject: bool | None = Field(
        default=None,
        description="true: matches items about a subject (a customer); false: items about "
        "none; unset: both.",
    )
    ttl: Seconds | None = Field(default=None, description="Lifetime of every matching item.")
    kinds: dict[Annotated[str, Field(pattern=MEMORY_KIND)], Seconds] = Field(
        default_factory=dict, description="Lifetime per kind, for matching items."
    )


class MemoryPolicy(_Strict):
    """Agent memory (docs/memory.md): retention, review and quarantine."""

    ttl: Seconds = Field(
        default=90 * 86400,
        description="Lifetime of an item whose kind sets none (`30d`, `12h`, or seconds).",
    )
    untrusted: Literal["fence", "review"] = Field(
        default="review",
        description="Items derived from untrusted content, or carrying instruction-like text: "
        "`review` (quarantined until a person approves them) or `fence` (returned fenced and "
        "marked untrusted). Per kind in `kinds`.",
    )
    review_kinds: list[Annotated[str, Field(pattern=MEMORY_KIND)]] = Field(
        default_factory=lambda: list(IMPORTANT_KINDS),
        description="Important facts: a person reviews every item of these kinds, whatever "
        "its source, before it can reach a context and so influence an action.",
    )
    kinds: dict[Annotated[str, Field(pattern=MEMORY_KIND)], MemoryKindRule] = Field(
        default_factory=dict, description="Per-kind lifetime and handling."
    )
    scopes: list[MemoryScopeRule] = Field(
        default_factory=list, description="Retention per tenant, workspace or subject."
    )
    workspace: str = Field(
        default="default",
        description="The workspace of a session's memory: a name, or a session value such as "
        "`session.scope.workspace` (a session without it gets no memory context).",
    )
    subject: str | None = Field(
        default=None,
        description="The subject (customer, account) a session is about, as a session value "
        "such as `session.scope.customer`. Its context holds that subject's items and items "
        "about no subject; unset or absent: items about no subject only.",
    )
    context_limit: int = Field(
        default=20, ge=1, le=200, description="Most items one context assembly returns."
    )
    context_search: Literal["keyword", "vector", "hybrid"] = Field(
        default="keyword",
        description="How context assembly finds items for its query: `keyword`, `vector` "
        "(nearest vectors) or `hybrid` (both, fused). `vector` and `hybrid` need the "
        "deployment to configure an embedder; without one, context assembly fails (it never "
        "falls back to keyword search).",
    )

    @field_validator("workspace")
    @classmethod
    def _workspace_ref(cls, value: str) -> str:
        return _session_or_literal(value, "workspace")

    @field_validator("subject")
    @classmethod
    def _subject_ref(cls, value: str | None) -> str | None:
        if value is not None and not SESSION_REF.match(value):
            raise ValueError(
                f"subject {value!r} is not a session value; expected session.principal or "
                "session.scope.NAME"
            )
        return value
