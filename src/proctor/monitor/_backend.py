"""Where baselines live: the store (shared by every gateway process, survives restarts) or
memory (one process: tests, notebooks and the simulation of ``proctor bench monitor``).

Both do the same two things. ``add`` adds a process's counts of finished minutes to the
pending buckets (``value = value + n``: any number of processes add to the same minute).
``close(agent, upto, work)`` folds every pending minute up to ``upto`` into the agent's
baseline, exactly once: under the agent's row lock (``SELECT ... FOR UPDATE`` on PostgreSQL,
``BEGIN IMMEDIATE`` on SQLite) it reads the state and the buckets, calls ``work`` (which folds
and may write alert and containment records in the same transaction), writes the state back
and deletes the buckets it folded. A process that comes second finds the minutes closed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Protocol, TypeVar

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.expression import Executable

from proctor.monitor._baseline import AgentState
from proctor.store import StoreError
from proctor.store import monitor_buckets as mb
from proctor.store import monitor_state as ms
from proctor.store._engine import WRITE

T = TypeVar("T")
Buckets = Mapping[tuple[str, int], Mapping[str, float]]  # (agent, minute) -> series -> value
Pending = dict[int, dict[str, float]]  # minute -> series -> value
Work = Callable[[AgentState | None, Pending, Connection | None], tuple[AgentState, T]]
FRESH = -1  # the ``closed`` of a state row that was reserved but never folded


class Backend(Protocol):
    """Where a monitor keeps its baselines (see the module docstring)."""

    def add(self, buckets: Buckets) -> None: ...

    def closed(self, agent: str) -> int | None:
        """The last minute folded for ``agent`` (None: never)."""
        ...

    def close(self, agent: str, upto: int, work: Work[T]) -> T | None:
        """Fold up to ``upto`` with ``work``; None if another process already did."""
        ...

    def load(self, agent: str) -> AgentState | None: ...


class MemoryBackend:
    """Baselines in this process's memory: lost on exit, shared with nobody."""

    def __init__(self) -> None:
        self._states: dict[str, AgentState] = {}
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()

    def add(self, buckets: Buckets) -> None:
        with self._lock:
            for (agent, minute), values in buckets.items():
                slot = self._pending.setdefault(agent, {}).setdefault(minute, {})
                for key, value in values.items():
                    slot[key] = slot.get(key, 0.0) + value

    def closed(self, agent: str) -> int | None:
        with self._lock:
            state = self._states.get(agent)
            return state.closed if state is not None else None

    def close(self, agent: str, upto: int, work: Work[T]) -> T | None:
        with self._lock:
            state = self._states.get(agent)
            if state is not None and state.closed >= upto:
                return None
            pending = self._pending.get(agent, {})
            due = {m: pending.pop(m) for m in [m for m in pending if m <= upto]}
            state, result = work(state, due, None)
            self._states[agent] = state
            return result

    def load(self, agent: str) -> AgentState | None:
        with self._lock:
            return self._states.get(agent)


@contextmanager
def _transaction(engine: Engine, *, write: bool) -> Iterator[Connection]:
    try:
        with engine.connect() as conn:
            if write:
                conn.execution_options(**{WRITE: True})  # SQLite: BEGIN IMMEDIATE
            with conn.begin():
                yield conn
    except SQLAlchemyError as exc:
        raise StoreError(f"monitor store at {engine.url!r}: {exc}") from exc


def _upsert_add(conn: Connection) -> Executable:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(mb)
    upsert: Executable = stmt.on_conflict_do_update(
        index_elements=[mb.c.agent, mb.c.series, mb.c.minute],
        set_={"value": mb.c.value + stmt.excluded.value},
    )
    return upsert


class StoreBackend:
    """Baselines in the store (SQLite or PostgreSQL), shared by every process using it."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self._clock = clock

    def add(self, buckets: Buckets) -> None:
        rows = [
            {"agent": agent, "series": key, "minute": minute, "value": float(value)}
            for (agent, minute), values in buckets.items()
            for key, value in values.items()
            if value
        ]
        if not rows:
            return
        with _transaction(self.engine, write=True) as conn:
            conn.execute(_upsert_add(conn), rows)

    def closed(self, agent: str) -> int | None:
        with _transaction(self.engine, write=False) as conn:
            value = conn.execute(select(ms.c.closed).where(ms.c.agent == agent)).scalar()
        return None if value is None or value == FRESH else int(value)

    def _reserve(self, agent: str) -> None:
        """Make sure the agent's state row exists, so that there is a row to lock."""
        with _transaction(self.engine, write=True) as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(ms).values(
                agent=agent, closed=FRESH, state="", updated_at=self._clock()
            )
            conn.execute(stmt.on_conflict_do_nothing(index_elements=[ms.c.agent]))

    def close(self, agent: str, upto: int, work: Work[T]) -> T | None:
        known = self.closed(agent)
        if known is not None and known >= upto:
            return None  # the common case, without taking a lock
        if known is None:
            self._reserve(agent)
        with _transaction(self.engine, write=True) as conn:
            row = conn.execute(select(ms).where(ms.c.agent == agent).with_for_update()).one()
            if row.closed != FRESH and row.closed >= upto:
                return None
            state = None if not row.state else AgentState.from_state(json.loads(row.state))
            due: Pending = {}
            for minute, key, value in conn.execute(
                select(mb.c.minute, mb.c.series, mb.c.value).where(
                    mb.c.agent == agent, mb.c.minute <= upto
                )
            ):
                due.setdefault(int(minute), {})[key] = float(value)
            state, result = work(state, due, conn)
            text = json.dumps(state.to_state(), separators=(",", ":"), allow_nan=False)
            conn.execute(
                update(ms)
                .where(ms.c.agent == agent)
                .values(closed=state.closed, state=text, updated_at=self._clock())
            )
            conn.execute(delete(mb).where(mb.c.agent == agent, mb.c.minute <= upto))
        return result

    def load(self, agent: str) -> AgentState | None:
        with _transaction(self.engine, write=False) as conn:
            text = conn.execute(select(ms.c.state).where(ms.c.agent == agent)).scalar()
        return AgentState.from_state(json.loads(text)) if text else None
