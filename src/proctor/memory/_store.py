"""``MemoryStore``: memory items in SQL (SQLite or PostgreSQL).

Isolation is enforced twice. Every query names the tenant (and the workspace, agent and
subject where the operation has them) in its WHERE clause; and on PostgreSQL every transaction
first sets ``proctor.tenant`` (``set_config(..., true)``: for this transaction only), which
the table's row-level security policy compares with each row's tenant (migration
``0005_memory``). A query that forgot its tenant clause still sees one tenant's rows; a
transaction that forgot the setting sees none.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, delete, false, or_, select, text, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import SQLAlchemyError

from proctor.flow import Confidentiality
from proctor.memory._model import MemoryItem, Status
from proctor.memory._scope import Scope
from proctor.memory._vectors import cosine_rank
from proctor.store import StoreError, memory_items, memory_values
from proctor.store._engine import WRITE

T = memory_items.c
V = memory_values.c
CANDIDATES = 200  # rows a keyword search ranks at most
VECTOR_CANDIDATES = 5000  # rows of one scope a vector search ranks at most (the newest)
_SET = text(
    "SELECT set_config('proctor.tenant', :tenant, true), set_config('proctor.sweep', :sweep, true)"
)


def scope_clause(scope: Scope) -> ColumnElement[bool]:
    """The rows ``scope`` may see: its tenant, workspace and agent; its subject's items and
    items about no subject (a scope without a subject: items about no subject only)."""
    subject = (
        T.subject.is_(None)
        if scope.subject is None
        else or_(T.subject == scope.subject, T.subject.is_(None))
    )
    return and_(
        T.tenant == scope.tenant, T.workspace == scope.workspace, T.agent == scope.agent, subject
    )


def item_from(row: Row[Any] | Any) -> MemoryItem:
    prov = json.loads(row.provenance)
    return MemoryItem(
        id=row.id,
        scope=Scope(row.tenant, row.workspace, row.agent, row.subject),
        kind=row.kind,
        text=row.text,
        status=Status(row.status),
        trusted=row.trust == "trusted",
        confidentiality=Confidentiality.parse(row.confidentiality),
        source=row.source,
        session_id=row.session_id,
        contents=tuple(prov["contents"]),
        audit_id=row.audit_id,
        findings=tuple(prov["findings"]),
        created_at=float(row.created_at),
        expires_at=float(row.expires_at),
        reviewed_by=row.reviewed_by,
        reviewed_at=None if row.reviewed_at is None else float(row.reviewed_at),
    )


def item_row(
    item: MemoryItem, search_text: str, vector: tuple[str, bytes] | None = None
) -> dict[str, object]:
    """The row of ``item``; ``vector``: (embedder name, float32 bytes) if it has one."""
    return {
        "id": item.id,
        "tenant": item.scope.tenant,
        "workspace": item.scope.workspace,
        "agent": item.scope.agent,
        "subject": item.scope.subject,
        "kind": item.kind,
        "text": item.text,
        "search_text": search_text,
        "status": str(item.status),
        "trust": "trusted" if item.trusted else "untrusted",
        "confidentiality": str(item.confidentiality),
        "source": item.source[:200],
        "session_id": item.session_id,
        "audit_id": item.audit_id,
        # the ids of the contents it derives from; the detector findings on its text
        "provenance": json.dumps(
            {"contents": list(item.contents), "findings": list(item.findings)},
            ensure_ascii=False,
        ),
        "created_at": item.created_at,
        "expires_at": item.expires_at,
        "reviewed_by": item.reviewed_by,
        "reviewed_at": item.reviewed_at,
        "embedding_model": None if vector is None else vector[0],
        "embedding": None if vector is None else vector[1],
    }


class MemoryStore:
    """Memory items and value fingerprints in the tables of migration ``0005_memory``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(
        self, tenant: str | None, *, write: bool = False, sweep: bool = False
    ) -> Iterator[Connection]:
        """One transaction, with ``proctor.tenant`` set to ``tenant`` on PostgreSQL (None: set
        to nothing, which row-level security matches with no row). Store errors become
        ``StoreError``."""
        try:
            with self.engine.connect() as conn:
                if write:
                    conn.execution_options(**{WRITE: True})
                with conn.begin():
                    if self.postgres:
                        conn.execute(_SET, {"tenant": tenant or "", "sweep": "on" if sweep else ""})
                    yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"memory store: {type(exc).__name__}: {exc}") from exc

    # -- writing ------------------------------------------------------------------------

    def insert(
        self,
        item: MemoryItem,
        search_text: str,
        prints: Sequence[dict[str, str | None]],
        vector: tuple[str, bytes] | None = None,
    ) -> None:
        with self.transaction(item.scope.tenant, write=True) as conn:
            conn.execute(memory_items.insert().values(**item_row(item, search_text, vector)))
            if prints:
                conn.execute(memory_values.insert(), [{**p, "item_id": item.id} for p in prints])

    def delete(self, scope: Scope, item_id: str) -> MemoryItem | None:
        """Delete ``item_id`` if ``scope`` may see it (whatever its status); return it."""
        with self.transaction(scope.tenant, write=True) as conn:
            row = conn.execute(
                select(memory_items).where(scope_clause(scope), T.id == item_id)
            ).first()
            if row is None:
                return None
            conn.execute(delete(memory_items).where(T.tenant == scope.tenant, T.id == item_id))
            conn.execute(delete(memory_values).where(V.item_id == item_id))
            return item_from(row)

    def review(
        self, tenant: str, item_id: str, *, trusted: bool, by: str, at: float
    ) -> MemoryItem | None:
        """Mark a pending item of ``tenant`` active; None if there is no such pending item."""
        with self.transaction(tenant, write=True) as conn:
            done = conn.execute(
                update(memory_items)
                .where(T.tenant == tenant, T.id == item_id, T.status == str(Status.PENDING))
                .values(
                    status=str(Status.ACTIVE),
                    trust="trusted" if trusted else "untrusted",
                    reviewed_by=by,
                    reviewed_at=at,
                )
            )
            if done.rowcount != 1:
                return None
            row = conn.execute(
                select(memory_items).where(T.tenant == tenant, T.id == item_id)
            ).one()
            return item_from(row)

    def reject(self, tenant: str, item_id: str) -> MemoryItem | None:
        """Delete a pending item of ``tenant``; None if there is no such pending item."""
        pending = and_(T.tenant == tenant, T.id == item_id, T.status == str(Status.PENDING))
        with self.transaction(tenant, write=True) as conn:
            # locked: a concurrent approval waits, then finds the item gone (or we find it
            # approved and delete nothing)
            row = conn.execute(select(memory_items).where(pending).with_for_update()).first()
            if row is None:
                return None
            if conn.execute(delete(memory_items).where(pending)).rowcount != 1:
                return None
            conn.execute(delete(memory_values).where(V.item_id == item_id))
            return item_from(row)

    def erase_subject(self, tenant: str, subject: str) -> tuple[list[MemoryItem], int]:
        """Delete every item of ``tenant`` about ``subject`` and their fingerprints."""
        with self.transaction(tenant, write=True) as conn:
            rows = conn.execute(
                select(memory_items).where(T.tenant == tenant, T.subject == subject)
            ).all()
            items = [item_from(r) for r in rows]
            ids = [i.id for i in items]
            prints = 0
            for chunk in _chunks(ids, 500):
                conn.execute(delete(memory_items).where(T.tenant == tenant, T.id.in_(chunk)))
                prints += conn.execute(delete(memory_values).where(V.item_id.in_(chunk))).rowcount
            return items, prints

    def sweep(self, now: float, *, batch: int = 1000) -> int:
        """Delete up to ``batch`` expired items, of every tenant, and their fingerprints;
        return how many. On PostgreSQL the transaction sets ``proctor.sweep`` and no tenant:
        row-level security then shows it expired rows only."""
        with self.transaction(None, write=True, sweep=True) as conn:
            ids = list(
                conn.execute(
                    select(T.id).where(T.expires_at <= now).order_by(T.expires_at).limit(batch)
                ).scalars()
            )
            if not ids:
                return 0
            n = conn.execute(
                delete(memory_items).where(T.id.in_(ids), T.expires_at <= now)
            ).rowcount
            conn.execute(delete(memory_values).where(V.item_id.in_(ids)))
            return int(n)

    # -- reading ------------------------------------------------------------------------

    def get(self, scope: Scope, item_id: str, now: float) -> MemoryItem | None:
        """An active, unexpired item ``scope`` may see."""
        with self.transaction(scope.tenant) as conn:
            row = conn.execute(
                select(memory_items).where(
                    scope_clause(scope),
                    T.id == item_id,
                    T.status == str(Status.ACTIVE),
                    T.expires_at > now,
                )
            ).first()
        return None if row is None else item_from(row)

    def search(
        self, scope: Scope, terms: Sequence[str], now: float, limit: int
    ) -> list[MemoryItem]:
        """Active, unexpired items ``scope`` may see that contain any of ``terms`` (every item
        when there is none), ranked by how many terms they contain, then newest first."""
        match: ColumnElement[bool] = (
            or_(*(T.search_text.contains(t, autoescape=True) for t in terms)) if terms else ~false()
        )
        query = (
            select(memory_items)
            .where(scope_clause(scope), T.status == str(Status.ACTIVE), T.expires_at > now, match)
            .order_by(T.created_at.desc())
            .limit(max(limit, CANDIDATES) if terms else limit)
        )
        with self.transaction(scope.tenant) as conn:
            rows = conn.execute(query).all()
        ranked = sorted(
            rows, key=lambda r: (-sum(t in r.search_text for t in terms), -float(r.created_at))
        )
        return [item_from(r) for r in ranked[:limit]]

    def nearest(
        self, scope: Scope, model: str, query: bytes, dimensions: int, now: float, limit: int
    ) -> list[MemoryItem]:
        """Active, unexpired items ``scope`` may see that have a vector of embedder ``model``,
        ranked by cosine similarity with ``query`` (float32 bytes), most similar first. The
        scoped query selects the rows (the newest ``VECTOR_CANDIDATES`` at most); ranking is
        brute force over them."""
        query_rows = (
            select(memory_items)
            .where(
                scope_clause(scope),
                T.status == str(Status.ACTIVE),
                T.expires_at > now,
                T.embedding_model == model,
                T.embedding.is_not(None),
            )
            .order_by(T.created_at.desc())
            .limit(VECTOR_CANDIDATES)
        )
        with self.transaction(scope.tenant) as conn:
            rows = conn.execute(query_rows).all()
        by_id = {r.id: r for r in rows}
        order = cosine_rank(query, [(r.id, bytes(r.embedding)) for r in rows], dimensions)
        return [item_from(by_id[i]) for i in order[:limit]]

    def find(self, tenant: str, item_id: str) -> MemoryItem | None:
        """An item of ``tenant`` whatever its scope, status or expiry (for reviewers)."""
        with self.transaction(tenant) as conn:
            row = conn.execute(
                select(memory_items).where(T.tenant == tenant, T.id == item_id)
            ).first()
        return None if row is None else item_from(row)

    def pending(
        self,
        tenant: str,
        now: float,
        *,
        workspace: str | None = None,
        agent: str | None = None,
        limit: int = 50,
    ) -> list[MemoryItem]:
        """Unexpired items of ``tenant`` awaiting review, oldest first."""
        query = select(memory_items).where(
            T.tenant == tenant, T.status == str(Status.PENDING), T.expires_at > now
        )
        if workspace is not None:
            query = query.where(T.workspace == workspace)
        if agent is not None:
            query = query.where(T.agent == agent)
        with self.transaction(tenant) as conn:
            rows = conn.execute(query.order_by(T.created_at).limit(limit)).all()
        return [item_from(r) for r in rows]

    def owners(self, values: Iterable[str]) -> dict[str, set[tuple[str, str | None]]]:
        """For each fingerprint, the (owner, subject) digests of the items that carry it."""
        wanted = sorted(set(values))
        out: dict[str, set[tuple[str, str | None]]] = {}
        if not wanted:
            return out
        with self.transaction(None) as conn:
            for chunk in _chunks(wanted, 500):
                for value, owner, subject in conn.execute(
                    select(V.value, V.owner, V.subject).where(V.value.in_(chunk))
                ):
                    out.setdefault(value, set()).add((owner, subject))
        return out

    def rls_enforced(self) -> bool | None:
        """PostgreSQL: whether row-level security applies to this connection's role (False
        for a superuser or a BYPASSRLS role). None on SQLite, which has none."""
        if not self.postgres:
            return None
        with self.transaction(None) as conn:
            row = conn.execute(
                text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
            ).first()
        return row is not None and not bool(row[0])


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
