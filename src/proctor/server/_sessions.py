"""Sessions opened through the gateway: in the store (every process knows them) and cached
in the shared state (Redis, or this process), read through on a miss.

A session belongs to the agent key that opened it (``owner``). Closing it is final.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from proctor.approvals._db import reading, writing
from proctor.model import Environment, Session
from proctor.server._state import SharedState
from proctor.store import gateway_sessions as t


@dataclass(frozen=True, slots=True)
class Opened:
    """A gateway session: the gate's ``Session``, who opened it, and whether it is closed."""

    session: Session
    owner: str
    closed_at: float | None = None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def as_cache(self) -> dict[str, Any]:
        s = self.session
        return {
            "id": s.id,
            "agent": s.agent,
            "principal": s.principal,
            "tenant": s.tenant,
            "environment": str(s.environment),
            "scope": dict(s.scope),
            "opened_at": s.opened_at.timestamp(),
            "owner": self.owner,
            "closed_at": self.closed_at,
        }

    @staticmethod
    def from_cache(d: dict[str, Any]) -> Opened:
        session = Session(
            agent=str(d["agent"]),
            principal=str(d["principal"]),
            tenant=str(d["tenant"]),
            environment=Environment(d["environment"]),
            id=str(d["id"]),
            opened_at=datetime.fromtimestamp(float(d["opened_at"]), UTC),
            scope={str(k): str(v) for k, v in dict(d["scope"]).items()},
        )
        closed = d.get("closed_at")
        return Opened(session, str(d["owner"]), None if closed is None else float(closed))


class SessionStore:
    """Open, find and close gateway sessions."""

    def __init__(self, engine: Engine, state: SharedState) -> None:
        self.engine = engine
        self.state = state

    def _insert(self, opened: Opened) -> None:
        s = opened.session
        with writing(self.engine) as conn:
            conn.execute(
                insert(t).values(
                    id=s.id,
                    agent=s.agent,
                    principal=s.principal,
                    tenant=s.tenant,
                    environment=str(s.environment),
                    scope=json.dumps(dict(s.scope), sort_keys=True),
                    owner=opened.owner,
                    opened_at=s.opened_at.timestamp(),
                )
            )

    async def open(self, session: Session, owner: str) -> Opened:
        opened = Opened(session, owner)
        await asyncio.to_thread(self._insert, opened)
        await self.state.session_put(session.id, opened.as_cache())
        return opened

    def _read(self, session_id: str) -> Opened | None:
        with reading(self.engine) as conn:
            row = conn.execute(select(t).where(t.c.id == session_id)).first()
        if row is None:
            return None
        return Opened.from_cache(
            {
                "id": row.id,
                "agent": row.agent,
                "principal": row.principal,
                "tenant": row.tenant,
                "environment": row.environment,
                "scope": json.loads(row.scope),
                "opened_at": row.opened_at,
                "owner": row.owner,
                "closed_at": row.closed_at,
            }
        )

    async def get(self, session_id: str) -> Opened | None:
        return await self.read_through(session_id, await self.state.session_get(session_id))

    async def read_through(self, session_id: str, cached: dict[str, Any] | None) -> Opened | None:
        """The session from its cached form, or (None: not cached) from the store, then
        cached."""
        if cached is not None:
            return Opened.from_cache(cached)
        opened = await asyncio.to_thread(self._read, session_id)
        if opened is not None:
            await self.state.session_put(session_id, opened.as_cache())
        return opened

    def _close(self, session_id: str, by: str) -> float:
        now = time.time()
        with writing(self.engine) as conn:
            conn.execute(
                update(t)
                .where(t.c.id == session_id, t.c.closed_at.is_(None))
                .values(closed_at=now, closed_by=by)
            )
        return now

    async def close(self, opened: Opened, by: str) -> Opened:
        now = await asyncio.to_thread(self._close, opened.session.id, by)
        done = Opened(opened.session, opened.owner, opened.closed_at or now)
        await self.state.session_put(opened.session.id, done.as_cache())
        return done

    def _owned(self, owner: str, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        with reading(self.engine) as conn:
            rows = conn.execute(select(t.c.id).where(t.c.owner == owner, t.c.id.in_(ids)))
            return {r.id for r in rows}

    async def owned(self, owner: str, ids: list[str]) -> set[str]:
        """Which of ``ids`` ``owner`` opened."""
        return await asyncio.to_thread(self._owned, owner, ids)
