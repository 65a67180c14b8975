"""In-process rate limiting: exact sliding windows, one counter per rule and scope.

The gate reads the counts (``usage``) to feed the pure engine, then, for an allowed call,
``acquire`` re-checks and records under one lock, so two threads racing for the last slot of a
window never both get it. State lives in this process only; the gateway issue moves it to Redis.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Protocol

from proctor.policy import RateRule


class RateCounter(Protocol):
    """What the gate needs of a rate limiter: ``RateLimiter`` in one process, or a shared one
    (``proctor.server``'s Redis limiter) across processes. Errors propagate: the gate denies.
    A counter that asks a server may also have coroutines ``ausage``, ``aacquire`` and
    ``arelease`` (same arguments, same results): the gate awaits those instead, so that its
    event loop never blocks on the round trip."""

    def usage(self, rules: Sequence[RateRule], agent: str, session_id: str) -> dict[str, int]: ...

    def acquire(
        self, rules: Sequence[RateRule], agent: str, session_id: str
    ) -> RateRule | None: ...

    def release(self, rules: Sequence[RateRule], agent: str, session_id: str) -> None: ...


class RateLimiter:
    """Sliding-window-log limiter. Memory per key is bounded by the rule's count."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, deque[float]] = {}

    def _count(self, key: str, seconds: int, now: float) -> int:
        window = self._windows.get(key)
        if not window:
            return 0
        horizon = now - seconds
        while window and window[0] <= horizon:
            window.popleft()
        if not window:
            del self._windows[key]
            return 0
        return len(window)

    def usage(self, rules: Sequence[RateRule], agent: str, session_id: str) -> dict[str, int]:
        """Current count of every rule, by rule id."""
        now = self._clock()
        with self._lock:
            return {r.id: self._count(r.key(agent, session_id), r.rate.seconds, now) for r in rules}

    def acquire(self, rules: Sequence[RateRule], agent: str, session_id: str) -> RateRule | None:
        """Record one call against every rule, atomically; or, if any rule is full, record
        nothing and return that rule."""
        now = self._clock()
        with self._lock:
            keys = []
            for r in rules:
                key = r.key(agent, session_id)
                if self._count(key, r.rate.seconds, now) >= r.rate.count:
                    return r
                keys.append(key)
            for key in keys:
                self._windows.setdefault(key, deque()).append(now)
        return None

    def release(self, rules: Sequence[RateRule], agent: str, session_id: str) -> None:
        """Give back one slot of every rule, for a call that was acquired but then refused
        (for example because its decision could not be recorded). Removes the newest entry; a
        concurrent caller's entry may be newer by microseconds, which changes no count."""
        with self._lock:
            for r in rules:
                window = self._windows.get(r.key(agent, session_id))
                if window:
                    window.pop()
