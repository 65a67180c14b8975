"""The scope of every memory operation: tenant, workspace, agent, and optionally the subject
(the customer or account an item is about). There is no memory call without one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from proctor.errors import MemoryScopeError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")
_PARTS = ("tenant", "workspace", "agent")


def check_name(value: object, what: str) -> str:
    """``value`` if it is a valid scope name; ``MemoryScopeError`` naming ``what`` if not."""
    if not isinstance(value, str) or not value:
        raise MemoryScopeError(f"memory scope: {what} is required (got {value!r})")
    if not NAME.match(value):
        raise MemoryScopeError(
            f"memory scope: {what} {value[:40]!r} is not a valid name "
            "(1-128 letters, digits, _ . : @ -, starting with a letter or digit)"
        )
    return value


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose memory: ``tenant``, ``workspace`` and ``agent`` are required; ``subject`` (a
    customer, an account) is optional. An item about a subject is visible only in scopes of
    that subject; an item about none is visible in every scope of its workspace and agent."""

    tenant: str
    workspace: str
    agent: str
    subject: str | None = None

    def __post_init__(self) -> None:
        for part in _PARTS:
            check_name(getattr(self, part), part)
        if self.subject is not None:
            check_name(self.subject, "subject")

    def __str__(self) -> str:
        base = f"{self.tenant}/{self.workspace}/{self.agent}"
        return base if self.subject is None else f"{base}/{self.subject}"


def require_scope(scope: object) -> Scope:
    """``scope`` if it is a ``Scope``; ``MemoryScopeError`` otherwise (None included)."""
    if not isinstance(scope, Scope):
        raise MemoryScopeError(
            f"every memory operation needs a Scope(tenant, workspace, agent[, subject]); "
            f"got {type(scope).__name__}"
        )
    return scope
