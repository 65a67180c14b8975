"""A session is one agent run, for one principal, in one tenant and one environment."""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from proctor.model._enums import Environment


class _Entropy:
    """Random bytes from ``os.urandom``, fetched 4 KiB at a time: one system call per 512 ids
    instead of one per id (every decision makes several). A forked child starts with an empty
    buffer (``os.register_at_fork``): it never repeats its parent's ids."""

    _SIZE = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buf = b""
        self._at = 0

    def hex8(self) -> str:
        """8 random bytes, as 16 hexadecimal digits."""
        with self._lock:
            at = self._at
            if at + 8 > len(self._buf):
                self._buf, at = os.urandom(self._SIZE), 0
            self._at = at + 8
            return self._buf[at : at + 8].hex()

    def reset(self) -> None:
        """Forget the buffer (in a forked child: a lock another thread held stays held)."""
        self._lock = threading.Lock()
        self._buf, self._at = b"", 0


_ENTROPY = _Entropy()
os.register_at_fork(after_in_child=_ENTROPY.reset)


def new_id(prefix: str) -> str:
    """A random, URL-safe identifier such as ``ses_3fa9c1d2e4b5a6f7`` (64 random bits)."""
    return f"{prefix}_{_ENTROPY.hex8()}"


@dataclass(frozen=True, slots=True)
class Session:
    """Who acts, for whom, where. Immutable: a new run is a new session."""

    agent: str
    principal: str
    tenant: str
    environment: Environment
    id: str = field(default_factory=lambda: new_id("ses"))
    opened_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # What the session is about, set by the host application (never by the model): for
    # dynamic data scopes such as the customer a ticket belongs to (``session.scope.customer``).
    scope: Mapping[str, str] = field(default_factory=dict, hash=False)
