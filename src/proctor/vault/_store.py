"""Where tokens live: ``VaultStore``, in memory (one process, tests) or SQL (SQLite or
PostgreSQL, shared by every gateway replica)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from proctor.errors import VaultError
from proctor.store import vault_tokens
from proctor.store._engine import WRITE


@dataclass(frozen=True, slots=True)
class TokenRow:
    """One token: its scope and its sealed value (never the value)."""

    token: str
    tenant: str
    session_id: str
    kind: str
    data_class: str
    key_id: str
    sealed: bytes
    created_at: float


class VaultStore(Protocol):
    """Token storage. ``put_many`` keeps an existing row (tokens are deterministic: the same
    token always seals the same value)."""

    blocking: bool  # True: calls do I/O and belong off the event loop

    def put_many(self, rows: Sequence[TokenRow]) -> None: ...

    def get(self, token: str) -> TokenRow | None: ...

    def not_under(self, key_id: str, limit: int) -> list[TokenRow]: ...

    def reseal(self, rows: Sequence[TokenRow]) -> None: ...

    def count_by_key(self) -> dict[str, int]: ...


class MemoryVaultStore:
    """Tokens in a dict: they live as long as the process."""

    blocking = False

    def __init__(self) -> None:
        self._rows: dict[str, TokenRow] = {}
        self._lock = threading.Lock()

    def put_many(self, rows: Sequence[TokenRow]) -> None:
        with self._lock:
            for row in rows:
                self._rows.setdefault(row.token, row)

    def get(self, token: str) -> TokenRow | None:
        return self._rows.get(token)

    def not_under(self, key_id: str, limit: int) -> list[TokenRow]:
        with self._lock:
            return [r for r in self._rows.values() if r.key_id != key_id][:limit]

    def reseal(self, rows: Sequence[TokenRow]) -> None:
        with self._lock:
            for row in rows:
                self._rows[row.token] = row

    def count_by_key(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        with self._lock:
            for r in self._rows.values():
                counts[r.key_id] = counts.get(r.key_id, 0) + 1
        return counts


_COLUMNS = (
    vault_tokens.c.token,
    vault_tokens.c.tenant,
    vault_tokens.c.session_id,
    vault_tokens.c.kind,
    vault_tokens.c.data_class,
    vault_tokens.c.key_id,
    vault_tokens.c.sealed,
    vault_tokens.c.created_at,
)


def _row(r: Sequence[Any]) -> TokenRow:
    return TokenRow(r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]), float(r[7]))


def _values(row: TokenRow) -> dict[str, object]:
    return {
        "token": row.token,
        "tenant": row.tenant,
        "session_id": row.session_id,
        "kind": row.kind,
        "data_class": row.data_class,
        "key_id": row.key_id,
        "sealed": row.sealed,
        "created_at": row.created_at,
    }


class SqlVaultStore:
    """Tokens in the ``proctor_vault_tokens`` table (migration ``0004_vault``)."""

    blocking = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        name = engine.dialect.name
        self._insert: Any
        if name == "postgresql":
            self._insert = postgresql.insert(vault_tokens).on_conflict_do_nothing(
                index_elements=["token"]
            )
        elif name == "sqlite":
            self._insert = sqlite.insert(vault_tokens).on_conflict_do_nothing(
                index_elements=["token"]
            )
        else:
            self._insert = None

    def put_many(self, rows: Sequence[TokenRow]) -> None:
        if not rows:
            return
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{WRITE: True})
                with conn.begin():
                    if self._insert is not None:
                        conn.execute(self._insert, [_values(r) for r in rows])
                        return
                    for r in rows:  # another dialect: insert one by one, keep existing rows
                        if (
                            conn.execute(
                                select(vault_tokens.c.token).where(vault_tokens.c.token == r.token)
                            ).first()
                            is None
                        ):
                            conn.execute(vault_tokens.insert().values(**_values(r)))
        except IntegrityError:  # a concurrent writer stored the same token: same value
            return
        except SQLAlchemyError as exc:
            raise VaultError(f"cannot store tokens: {type(exc).__name__}") from exc

    def get(self, token: str) -> TokenRow | None:
        try:
            with self.engine.connect() as conn:
                r = conn.execute(select(*_COLUMNS).where(vault_tokens.c.token == token)).first()
        except SQLAlchemyError as exc:
            raise VaultError(f"cannot read the vault: {type(exc).__name__}") from exc
        return None if r is None else _row(r)

    def not_under(self, key_id: str, limit: int) -> list[TokenRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*_COLUMNS)
                .where(vault_tokens.c.key_id != key_id)
                .order_by(vault_tokens.c.token)
                .limit(limit)
            ).all()
        return [_row(r) for r in rows]

    def reseal(self, rows: Sequence[TokenRow]) -> None:
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                for r in rows:
                    conn.execute(
                        update(vault_tokens)
                        .where(vault_tokens.c.token == r.token)
                        .values(key_id=r.key_id, sealed=r.sealed)
                    )

    def count_by_key(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(vault_tokens.c.key_id, func.count()).group_by(vault_tokens.c.key_id)
            ).all()
        return {str(k): int(n) for k, n in rows}
