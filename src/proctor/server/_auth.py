"""Who is calling: an API key (``X-Proctor-Key: NAME:KEY``) or the same as a bearer token
(``Authorization: Bearer NAME:KEY``), checked against the principal registry, where keys are
stored as salted hashes (``proctor access add``).

An authenticated key is remembered for ``ttl`` seconds (by a hash of the key, never the key), so
that a busy agent costs no database read per request; a key disabled in the registry stops
working within ``ttl``. A failed authentication is never cached and is recorded by the registry.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from proctor.approvals import AgentGrant, ApprovalQueue, Principal, Role
from proctor.errors import AccessDeniedError, AuthenticationError

HEADER = "X-Proctor-Key"


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated principal, and for an agent key what it may open sessions for."""

    principal: Principal
    grant: AgentGrant | None

    @property
    def name(self) -> str:
        return self.principal.name

    def has(self, *roles: Role) -> bool:
        return self.principal.has(*roles)

    def require(self, *roles: Role, action: str) -> None:
        self.principal.require(*roles, action=action)

    @property
    def is_agent(self) -> bool:
        return self.principal.has(Role.AGENT)


def credential_from(authorization: str | None, api_key: str | None) -> tuple[str, str]:
    """(name, key) from the request's headers. Raises ``AuthenticationError``."""
    raw = api_key
    if raw is None and authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("Authorization must be 'Bearer NAME:KEY'")
        raw = token.strip()
    if raw is None:
        raise AuthenticationError(
            f"no credential: send {HEADER}: NAME:KEY or Authorization: Bearer NAME:KEY"
        )
    name, sep, key = raw.partition(":")
    if not sep or not name or not key:
        raise AuthenticationError("a credential is NAME:KEY (the name, a colon, the key)")
    return name, key


class Authenticator:
    """Checks credentials against the registry of ``queue``, with a short cache."""

    def __init__(self, queue: ApprovalQueue, ttl: float = 2.0, max_entries: int = 10_000) -> None:
        self.queue = queue
        self.ttl = ttl
        self._cache: OrderedDict[str, tuple[float, Caller]] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()
        self._flights: dict[str, asyncio.Future[Caller | None]] = {}  # digest -> a registry read

    @staticmethod
    def _digest(name: str, key: str) -> str:
        return hashlib.sha256(f"{name}\x00{key}".encode()).hexdigest()

    def cached(self, name: str, key: str) -> Caller | None:
        """The caller if this credential was authenticated less than ``ttl`` seconds ago."""
        digest = self._digest(name, key)
        with self._lock:
            hit = self._cache.get(digest)
        return hit[1] if hit is not None and hit[0] > time.monotonic() else None

    async def authenticate(self, name: str, key: str) -> Caller:
        """The caller, from the cache or the registry. Concurrent requests with a credential
        not cached (a busy agent when its entry expires) wait for one registry read; if it
        fails, each checks for itself (every failed attempt is recorded)."""
        digest = self._digest(name, key)
        loop = asyncio.get_running_loop()
        with self._lock:
            hit = self._cache.get(digest)
            if hit is not None and hit[0] > time.monotonic():
                return hit[1]
            flight = self._flights.get(digest)
            joined = flight is not None and flight.get_loop() is loop
            if flight is None or not joined:
                flight = self._flights[digest] = loop.create_future()
        if joined:
            caller = await asyncio.shield(flight)  # a cancelled waiter cancels only itself
            return caller if caller is not None else await self._check(name, key)
        caller = None
        try:
            caller = await self._check(name, key)
            return caller
        finally:
            with self._lock:
                if self._flights.get(digest) is flight:
                    del self._flights[digest]
            flight.set_result(caller)

    async def _check(self, name: str, key: str) -> Caller:
        now = time.monotonic()
        principal = await self.queue.run(self.queue.access.authenticate, name, key)
        grant = None
        if principal.has(Role.AGENT):
            grant = await self.queue.run(self.queue.grants.get, principal.name)
        caller = Caller(principal, grant)
        digest = self._digest(name, key)
        if self.ttl > 0:
            with self._lock:
                self._cache[digest] = (now + self.ttl, caller)
                self._cache.move_to_end(digest)
                while len(self._cache) > self._max:
                    self._cache.popitem(last=False)
        return caller

    def forget(self) -> None:
        with self._lock:
            self._cache.clear()


def require_agent_for(caller: Caller, agent: str, tenant: str) -> None:
    """An agent key may open a session only for an agent and tenant its grant names."""
    caller.require(Role.AGENT, action="open sessions")
    if caller.grant is None or not caller.grant.allows(agent, tenant):
        raise AccessDeniedError(
            f"{caller.name} may not open sessions of agent {agent!r} in tenant {tenant!r} "
            "(its grant does not name them)"
        )
