"""Request and response bodies of ``/v1/memory`` (docs/memory.md). Strict, as every request of
the gateway is: unknown fields, wrong types and names outside the scope pattern are a 422 that
names the field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from proctor.memory import ErasureReport, MemoryItem
from proctor.memory._memory import MAX_TEXT
from proctor.policy._memory_schema import MEMORY_KIND
from proctor.server._models import _In, _Out

SCOPE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
ITEM_ID = r"^[A-Za-z0-9_]{1,64}$"
Mode = Literal["keyword", "vector", "hybrid"]


class ScopeIn(_In):
    """Whose memory: every operation names one. The tenant and agent must be the caller's
    (an agent key's grant names them)."""

    tenant: str = Field(pattern=SCOPE_NAME)
    workspace: str = Field(pattern=SCOPE_NAME)
    agent: str = Field(pattern=SCOPE_NAME)
    subject: str | None = Field(
        default=None,
        pattern=SCOPE_NAME,
        description="The customer or account the items are about (optional).",
    )


class PutIn(_In):
    scope: ScopeIn
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    kind: str = Field(default="note", pattern=MEMORY_KIND)


class SearchIn(_In):
    scope: ScopeIn
    query: str = Field(default="", max_length=2000)
    limit: int = Field(default=10, ge=1, le=200)
    mode: Mode = Field(
        default="keyword",
        description="`keyword`, `vector` (nearest vectors; needs an embedder: 409 without "
        "one) or `hybrid` (both rankings fused). `vector` and `hybrid` need a query.",
    )

    @model_validator(mode="after")
    def _query_for_vectors(self) -> SearchIn:
        if self.mode != "keyword" and not self.query.strip():
            raise ValueError(
                f"query: {self.mode} search needs a query (an empty one has no vector)"
            )
        return self


class ReviewIn(_In):
    tenant: str = Field(pattern=SCOPE_NAME)
    note: str | None = Field(default=None, max_length=2000)


class EraseIn(_In):
    tenant: str = Field(pattern=SCOPE_NAME)
    subject: str = Field(pattern=SCOPE_NAME)
    reason: str = Field(min_length=1, max_length=500)


class ContextIn(_In):
    query: str = Field(default="", max_length=2000)
    limit: int | None = Field(default=None, ge=1, le=200)


class RememberIn(_In):
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    kind: str = Field(default="note", pattern=MEMORY_KIND)
    derived_from: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Ids of the session's contents it derives from (from `ingest`); "
        "untrusted if any is; none: the agent's own words, untrusted.",
    )


class ItemOut(_Out):
    id: str
    tenant: str
    workspace: str
    agent: str
    subject: str | None
    kind: str
    text: str
    status: Literal["active", "pending"]
    trusted: bool
    confidentiality: str
    source: str = Field(description="Where it came from (`agent:NAME`, `user`, `email`...).")
    session_id: str | None
    contents: list[str] = Field(description="Ids of the contents it derives from.")
    audit_id: str | None
    findings: list[str] = Field(description="Why its text reads as instructions, if it does.")
    created_at: float
    expires_at: float
    reviewed_by: str | None
    reviewed_at: float | None

    @classmethod
    def of(cls, item: MemoryItem) -> ItemOut:
        return cls.model_validate(item.to_dict())


class ItemList(_Out):
    items: list[ItemOut]


class RecordOut(_Out):
    id: str
    kind: str
    ts: str
    session_id: str | None
    body: dict[str, Any]


class ReviewOut(_Out):
    """What a reviewer sees: the item, and the audit records of its writing and of the
    contents it derives from."""

    item: ItemOut
    records: list[RecordOut]


class Rejected(_Out):
    id: str
    rejected: Literal[True] = True


class Deleted(_Out):
    id: str
    deleted: Literal[True] = True


class ErasureOut(_Out):
    tenant: str
    subject: str
    count: int
    items: list[str]
    by_kind: dict[str, int]
    by_workspace: dict[str, int]
    fingerprints: int
    audit_id: str | None

    @classmethod
    def of(cls, report: ErasureReport) -> ErasureOut:
        return cls.model_validate(report.to_dict())


class ContextItemOut(_Out):
    id: str
    kind: str
    text: str = Field(description="As the model may see it: masked, fenced if untrusted.")
    trusted: bool
    content_id: str
    source: str


class ContextOut(_Out):
    items: list[ContextItemOut]
    prompt: str = Field(description="The items as one block for a prompt.")
    dropped: list[str] = Field(description="Items the leak filter dropped.")
    withheld: list[str] = Field(description="Items the detectors or data controls withheld.")
