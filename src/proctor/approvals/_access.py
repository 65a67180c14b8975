"""Who may act: a registry of principals (people) with roles, approver groups and a key.

Roles: ``viewer`` reads the queue; ``approver`` also approves and denies, for the groups it is
in; ``operator`` pauses and resumes agents; ``admin`` manages principals, issues break-glass and
pauses; ``auditor`` reads the audit log and the queue through the gateway; ``agent`` is a
program, not a person: it opens sessions through the gateway for the agents and tenants its
grant names (``AgentGrants``), and reads only its own. Roles do not imply each other: an admin
approves nothing unless it is also an approver.

A key is 192 random bits, shown once when the principal is added. The registry keeps a salted
SHA-256 of it (no password stretching is needed for a random key nobody chose). The first
principal, when the registry is empty, must be an admin; afterwards only an admin adds more.
See docs/approvals.md for what this does and does not protect against.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, Row, func, insert, select, update
from sqlalchemy.engine import Connection

from proctor.approvals._db import dumps, loads, reading, writing
from proctor.approvals._outbox import Recorder
from proctor.audit import events
from proctor.errors import AccessDeniedError, ApprovalNotFoundError, AuthenticationError
from proctor.store import principals as t

log = logging.getLogger("proctor.approvals")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,127}$")
KEY_PREFIX = "pk_"


class Role(StrEnum):
    VIEWER = "viewer"
    APPROVER = "approver"
    OPERATOR = "operator"
    ADMIN = "admin"
    AUDITOR = "auditor"
    AGENT = "agent"

    def __str__(self) -> str:
        return self.value


_SEAL = secrets.token_bytes(32)  # this process's: proves a Principal came from authenticate()


def _proof(name: str) -> str:
    return hmac.new(_SEAL, name.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated person: name, roles, and the approver groups they belong to. Only
    ``AccessRegistry.authenticate`` makes one the store accepts: a Principal built by hand (say
    from a user name in a web request) is refused, whatever roles it claims."""

    name: str
    roles: frozenset[Role]
    groups: frozenset[str]
    proof: str = field(default="", repr=False, compare=False)

    def has(self, *roles: Role) -> bool:
        return any(r in self.roles for r in roles)

    def member(self, group: str) -> bool:
        """In ``group``, or is the person the group names (a workflow owner may be a person)."""
        return group in self.groups or group == self.name

    def require(self, *roles: Role, action: str) -> None:
        if not self.has(*roles):
            need = " or ".join(str(r) for r in roles)
            have = ", ".join(sorted(str(r) for r in self.roles)) or "none"
            raise AccessDeniedError(f"{self.name} may not {action}: needs role {need} (has {have})")


def _digest(salt: str, key: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + key.encode()).hexdigest()


def _principal(row: Row[Any]) -> Principal:
    return Principal(
        row.name,
        frozenset(Role(r) for r in loads(row.roles)),
        frozenset(loads(row.groups)),
        _proof(row.name),
    )


def _names(values: Iterable[str], what: str) -> list[str]:
    out = sorted({v.strip() for v in values if v.strip()})
    for v in out:
        if not NAME.fullmatch(v):
            raise ValueError(f"invalid {what} {v!r}: letters, digits and _.@+- only, 1-128")
    return out


class AccessRegistry:
    """Principals in the store, and the identity check every command makes."""

    def __init__(
        self, engine: Engine, recorder: Recorder, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self._clock = clock

    def add(
        self,
        name: str,
        roles: Iterable[Role | str],
        groups: Iterable[str] = (),
        *,
        by: Principal | None,
    ) -> str:
        """Add a principal; return its key (shown once, never stored). ``by`` must be an admin,
        except for the first principal of an empty registry, which must itself be an admin."""
        if not name.strip():
            raise ValueError("a principal needs a name")
        (name,) = _names([name], "principal name")
        role_set = sorted({Role(r) for r in roles})
        if not role_set:
            raise ValueError(f"principal {name!r} needs at least one role")
        group_list = _names(groups, "group name")
        key = KEY_PREFIX + secrets.token_urlsafe(24)
        salt = secrets.token_hex(16)
        with writing(self.engine) as conn:
            if conn.dialect.name == "postgresql":  # two first admins at once: one wins
                conn.exec_driver_sql("LOCK TABLE proctor_principals IN SHARE ROW EXCLUSIVE MODE")
            if by is None:
                count = conn.execute(select(func.count()).select_from(t)).scalar_one()
                if count:
                    raise AccessDeniedError(
                        "the registry is not empty: an admin must add principals"
                    )
                if Role.ADMIN not in role_set:
                    raise AccessDeniedError("the first principal must have the admin role")
            else:
                self.current(conn, by).require(Role.ADMIN, action="add principals")
            if conn.execute(select(t.c.name).where(t.c.name == name)).first() is not None:
                raise AccessDeniedError(f"principal {name!r} already exists")
            creator = by.name if by is not None else "bootstrap"
            conn.execute(
                insert(t).values(
                    name=name,
                    roles=dumps([str(r) for r in role_set]),
                    groups=dumps(group_list),
                    key_salt=salt,
                    key_hash=_digest(salt, key),
                    created_at=self._clock(),
                    created_by=creator,
                    disabled=0,
                )
            )
            detail = {"principal": name, "roles": [str(r) for r in role_set], "groups": group_list}
            self.recorder.add(
                conn,
                events.alert("access.added", f"{creator} added principal {name}", detail=detail),
            )
        self.recorder.committed()
        return key

    def disable(self, name: str, *, by: Principal) -> None:
        """Disable a principal: its key stops working, its past votes stand."""
        with writing(self.engine) as conn:
            self.current(conn, by).require(Role.ADMIN, action="disable principals")
            done = conn.execute(update(t).where(t.c.name == name).values(disabled=1)).rowcount
            if done != 1:
                raise ApprovalNotFoundError(f"no principal named {name!r}")
            self.recorder.add(
                conn,
                events.alert("access.disabled", f"{by.name} disabled principal {name}"),
            )
        self.recorder.committed()

    def authenticate(self, name: str, key: str) -> Principal:
        """The principal ``name`` if ``key`` is its key and it is enabled. The same error, in
        the same time, for an unknown name and a wrong key."""
        with reading(self.engine) as conn:
            row = conn.execute(select(t).where(t.c.name == name)).first()
        salt = row.key_salt if row is not None else "00" * 16
        expected = row.key_hash if row is not None else "0" * 64
        ok = hmac.compare_digest(_digest(salt, key), expected)
        if row is None or not ok or row.disabled:
            self._refused(name)
            raise AuthenticationError(
                f"cannot authenticate {name!r}: unknown, wrong key or disabled"
            )
        return _principal(row)

    def _refused(self, name: str) -> None:
        """A failed authentication is evidence: record it (best effort)."""
        try:
            with writing(self.engine) as conn:
                shown = name if NAME.fullmatch(name) else repr(name[:64])
                self.recorder.add(
                    conn,
                    events.alert("access.refused", f"failed authentication as {shown}"),
                )
            self.recorder.committed()
        except Exception:
            log.exception("cannot record a failed authentication")

    def current(self, conn: Connection, who: Principal) -> Principal:
        """``who`` as the registry has it now, inside the caller's transaction: a principal
        disabled or changed since it authenticated acts with what it has now."""
        if not hmac.compare_digest(who.proof, _proof(who.name)):
            raise AuthenticationError(
                f"principal {who.name!r} was not authenticated in this process: "
                "use authenticate(name, key)"
            )
        row = conn.execute(select(t).where(t.c.name == who.name)).first()
        if row is None or row.disabled:
            raise AuthenticationError(f"principal {who.name!r} is unknown or disabled")
        return _principal(row)

    def verify(self, who: Principal) -> Principal:
        """``who`` as the registry has it now (see ``current``), in its own read."""
        with reading(self.engine) as conn:
            return self.current(conn, who)

    def principals(self) -> list[tuple[Principal, bool]]:
        """Every principal, and whether it is enabled."""
        with reading(self.engine) as conn:
            rows = conn.execute(select(t).order_by(t.c.name)).all()
        return [(_principal(r), not r.disabled) for r in rows]

    def empty(self) -> bool:
        with reading(self.engine) as conn:
            return not conn.execute(select(func.count()).select_from(t)).scalar_one()
