"""The budget ledger in the SQL store (SQLite or PostgreSQL), shared by every process.

Check-and-reserve is one transaction. On PostgreSQL it locks each account's row
(``SELECT ... FOR UPDATE``, accounts in key order so that two calls never deadlock), then sums
and inserts: a second caller waits for the first to commit and then sees its reservation.
On SQLite the transaction begins with ``BEGIN IMMEDIATE``, which takes the database's write
lock before the first read. Timestamps come from this process's clock (``time.time``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from proctor.budgets._ledger import AccountState, Reservation, new_id
from proctor.errors import BudgetError
from proctor.policy import Charge
from proctor.store._engine import WRITE
from proctor.store._tables import budget_accounts as ba
from proctor.store._tables import budget_entries as be


class SqlLedger:
    """Budgets in ``proctor_budget_accounts`` and ``proctor_budget_entries`` (``0009_budgets``)."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        if engine.dialect.name not in ("postgresql", "sqlite"):
            raise BudgetError(f"budgets need SQLite or PostgreSQL, not {engine.dialect.name}")
        self.engine = engine
        self._clock = clock
        self._lock_rows = engine.dialect.name == "postgresql"

    @contextmanager
    def _tx(self, what: str, *, write: bool) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                if write:
                    conn.execution_options(**{WRITE: True})
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise BudgetError(f"cannot {what}: {type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _used(conn: Connection, key: str, window: int, now: float) -> tuple[int, int]:
        live = or_(
            and_(be.c.expires_at.is_(None), be.c.at > now - window),
            be.c.expires_at > now,
        )
        committed = case((be.c.expires_at.is_(None), be.c.amount), else_=0)
        reserved = case((be.c.expires_at.is_(None), 0), else_=be.c.amount)
        row = conn.execute(
            select(
                func.coalesce(func.sum(committed), 0), func.coalesce(func.sum(reserved), 0)
            ).where(be.c.key == key, live)
        ).one()
        return int(row[0]), int(row[1])

    def _over(self, conn: Connection, c: Charge, now: float) -> bool:
        return sum(self._used(conn, c.key, c.window, now)) + c.amount > c.limit

    def usage(self, charges: Sequence[Charge]) -> dict[str, int]:
        if not charges:
            return {}
        now = self._clock()
        with self._tx("read budgets", write=False) as conn:
            return {c.key: sum(self._used(conn, c.key, c.window, now)) for c in charges}

    def reserve(self, charges: Sequence[Charge], ttl: float) -> Reservation | Charge:
        rid = new_id()
        if not charges:
            return Reservation(rid, (), self._clock())
        ordered = sorted(charges, key=lambda c: c.key)
        with self._tx("reserve budget", write=True) as conn:
            dialect = postgresql if self._lock_rows else sqlite
            for c in ordered:
                stmt = dialect.insert(ba).values(key=c.key, budget=c.budget, created_at=time.time())
                conn.execute(stmt.on_conflict_do_nothing(index_elements=[ba.c.key]))
                if self._lock_rows:
                    conn.execute(select(ba.c.key).where(ba.c.key == c.key).with_for_update())
            now = self._clock()  # after the locks: nothing that committed before is missed
            full = next((c for c in charges if c.enforce and self._over(conn, c, now)), None)
            if full is not None:  # nothing reserved (the account rows may stay: harmless)
                return full
            conn.execute(
                be.insert(),
                [
                    {
                        "reservation": rid,
                        "key": c.key,
                        "budget": c.budget,
                        "amount": c.amount,
                        "at": now,
                        "expires_at": now + ttl,
                    }
                    for c in charges
                ],
            )
        return Reservation(rid, tuple(charges), now)

    def commit(self, reservation: Reservation) -> None:
        if reservation.empty:
            return
        with self._tx("commit budget", write=True) as conn:
            done = conn.execute(
                update(be).where(be.c.reservation == reservation.id).values(expires_at=None)
            ).rowcount
            if done < len(reservation.charges):  # swept meanwhile: the spend still happened
                have = set(
                    conn.execute(select(be.c.key).where(be.c.reservation == reservation.id))
                    .scalars()
                    .all()
                )
                rows = [
                    {
                        "reservation": reservation.id,
                        "key": c.key,
                        "budget": c.budget,
                        "amount": c.amount,
                        "at": reservation.at,
                        "expires_at": None,
                    }
                    for c in reservation.charges
                    if c.key not in have
                ]
                if rows:
                    conn.execute(be.insert(), rows)

    def release(self, reservation: Reservation) -> None:
        if reservation.empty:
            return
        with self._tx("release budget", write=True) as conn:
            conn.execute(
                delete(be).where(be.c.reservation == reservation.id, be.c.expires_at.is_not(None))
            )

    def accounts(self, budget: str, window: int) -> list[AccountState]:
        now = self._clock()
        with self._tx("read budgets", write=False) as conn:
            keys = conn.execute(
                select(ba.c.key).where(ba.c.budget == budget).order_by(ba.c.key)
            ).scalars()
            out = []
            for key in list(keys):
                spent, reserved = self._used(conn, key, window, now)
                out.append(AccountState(budget, key, spent, reserved))
        return out

    def sweep(self, older_than: float) -> int:
        """Delete entries that no window can count any more: committed ones reserved before
        ``older_than`` (a timestamp: now minus the longest window) and expired reservations.
        Returns how many rows went."""
        now = self._clock()
        with self._tx("sweep budgets", write=True) as conn:
            gone = conn.execute(
                delete(be).where(
                    or_(
                        and_(be.c.expires_at.is_(None), be.c.at < older_than),
                        be.c.expires_at <= now,
                    )
                )
            ).rowcount
        return int(gone)
