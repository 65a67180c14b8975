"""The kill switch, read through a cache in front of the store's switch.

``AgentControls.status`` (the kill switch and the monitor's containment) reads the store on
every call: one database read per decision. Here a gateway reads a cache instead, and the store
only when the cached switch expired (``ttl`` seconds, at most one): Redis when the gateways
share one, else this process's memory. A pause or resume through a gateway writes the store
(the record) and then the cache, so every gateway sharing the cache sees it on its next call; a
containment drops the cached switch; one flipped elsewhere (``proctor agent pause``) is seen
within ``ttl``. A Redis error propagates: the gate denies (fail closed).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from sqlalchemy import Connection

from proctor.approvals import AgentControls, ApprovalQueue, Pause, Principal
from proctor.model import Autonomy, Session, StepResult, ToolCall
from proctor.server._state import PREFETCHED, pause_key


class CachedControls(AgentControls):
    """``AgentControls`` whose ``paused`` reads a Redis cache first."""

    def __init__(self, base: AgentControls, client: Any, ttl: float, prefix: str) -> None:
        super().__init__(
            base.engine,
            base.recorder,
            base.access,
            base.requests,
            base._clock,
            max_break_glass_minutes=base.max_break_glass_minutes,
        )
        self._r = client
        self._ttl_ms = max(1, int(ttl * 1000))
        self._prefix = prefix

    def _put(self, agent: str, state: Pause | None) -> None:
        body: dict[str, Any] = {"paused": False}
        if state is not None and not state.running:
            body = {
                "paused": state.paused,
                "cap": state.max_autonomy.name if state.max_autonomy is not None else None,
                "by": state.by,
                "reason": state.reason,
                "at": state.at,
            }
        self._r.set(pause_key(self._prefix, agent), json.dumps(body), px=self._ttl_ms)

    def _forget(self, agent: str) -> None:
        self._r.delete(pause_key(self._prefix, agent))

    async def running(self, agent: str, client: Any = None) -> bool:
        """True when the cache says ``agent`` is neither paused nor contained, read without a
        thread: from ``client`` (an asyncio Redis client) or the in-memory cache. False:
        paused, contained, or not cached (ask ``status``)."""
        key = pause_key(self._prefix, agent)
        raw = await client.get(key) if client is not None else self._r.get(key)
        return self.says_running(raw)

    @staticmethod
    def says_running(raw: str | bytes | None) -> bool:
        """True when a cached switch says neither paused nor contained."""
        return raw is not None and json.loads(raw) == {"paused": False}

    def status(self, agent: str) -> Pause | None:
        """The switch from the cache; on a miss from the store, then cached for ``ttl``."""
        raw = self._r.get(pause_key(self._prefix, agent))
        if raw is None:
            state = super().status(agent)
            self._put(agent, state)
            return state
        body = json.loads(raw)
        if body == {"paused": False}:
            return None
        cap = body.get("cap")
        return Pause(
            agent,
            bool(body["paused"]),
            str(body["by"]),
            str(body["reason"]),
            float(body["at"]),
            Autonomy[cap] if cap else None,
        )

    def pause(self, agent: str, *, by: Principal, reason: str) -> Pause:
        state = super().pause(agent, by=by, reason=reason)
        self._put(agent, state)
        return state

    def resume(self, agent: str, *, by: Principal, reason: str | None = None) -> Pause:
        state = super().resume(agent, by=by, reason=reason)
        self._put(agent, state)
        return state

    def contain(
        self,
        agent: str,
        action: str,
        *,
        by: str,
        reason: str,
        conn: Connection | None = None,
    ) -> Pause | None:
        """Containment, then the cached switch is dropped: the next call reads the store. In
        a caller's transaction (``conn``), a call racing the commit may cache the old state
        again, for at most ``ttl``."""
        try:
            return super().contain(agent, action, by=by, reason=reason, conn=conn)
        finally:
            self._forget(agent)


class _Memory:
    """The subset of a Redis client the cache uses, in this process's memory."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            hit = self._data.get(key)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    def set(self, key: str, value: str, px: int) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + px / 1000, value)

    def delete(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)


def memory_cache() -> Any:
    """A cache for one gateway process without Redis."""
    return _Memory()


class GatewayQueue(ApprovalQueue):
    """The approval queue of a gateway: the kill switch's common case (not paused, cached) is
    answered in the event loop, without the queue's thread; everything else is the queue's."""

    aio: Any = None  # the asyncio Redis client, when the cache is in Redis

    async def admit(self, session: Session, call: ToolCall) -> StepResult | None:
        controls = self.controls
        if isinstance(controls, CachedControls):
            pre = PREFETCHED.get()
            read, raw = pre.take_pause(session.agent) if pre is not None else (False, None)
            if read and controls.says_running(raw):  # read in this request's first round trip
                return None
            if not read and await controls.running(session.agent, self.aio):
                return None
        return await super().admit(session, call)
