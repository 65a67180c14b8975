"""A policy's ``memory:`` section, applied: lifetimes, review and quarantine per kind, and the
memory scope of a session."""

from __future__ import annotations

import re
from typing import Literal

from proctor.errors import MemoryItemError, MemoryScopeError
from proctor.memory._scope import Scope
from proctor.model import Session
from proctor.policy._memory_schema import MEMORY_KIND, MemoryPolicy
from proctor.vault._rules import session_value

_KIND = re.compile(MEMORY_KIND)


def check_kind(kind: object) -> str:
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise MemoryItemError(
            f"memory kind {kind!r} is not valid (lower case letters, digits and _, "
            "starting with a letter, at most 64)"
        )
    return kind


class MemoryRules:
    """What one agent's policy says about its memory."""

    def __init__(self, policy: MemoryPolicy | None = None) -> None:
        self.policy = policy if policy is not None else MemoryPolicy()
        kinds = self.policy.kinds
        self._review = frozenset(self.policy.review_kinds) | {
            k for k, r in kinds.items() if r.review
        }

    def ttl(self, kind: str, scope: Scope) -> int:
        """Seconds ``kind`` lives in ``scope``: the shortest of the kind's (or the default)
        lifetime and every matching scope rule's."""
        rule = self.policy.kinds.get(kind)
        ttls = [rule.ttl if rule is not None and rule.ttl is not None else self.policy.ttl]
        for sr in self.policy.scopes:
            if sr.tenant is not None and sr.tenant != scope.tenant:
                continue
            if sr.workspace is not None and sr.workspace != scope.workspace:
                continue
            if sr.subject is not None and sr.subject != (scope.subject is not None):
                continue
            if sr.ttl is not None:
                ttls.append(sr.ttl)
            if kind in sr.kinds:
                ttls.append(sr.kinds[kind])
        return min(ttls)

    def always_review(self, kind: str) -> bool:
        return kind in self._review

    def untrusted(self, kind: str) -> Literal["fence", "review"]:
        rule = self.policy.kinds.get(kind)
        if rule is not None and rule.untrusted is not None:
            return rule.untrusted
        return self.policy.untrusted

    def scope_of(self, session: Session) -> Scope:
        """The memory scope of ``session``: its tenant and agent, the policy's workspace and
        subject. Raises ``MemoryScopeError`` if the session lacks the workspace's value."""
        ref = self.policy.workspace
        workspace = session_value(session, ref) if ref.startswith("session.") else ref
        if workspace is None:
            raise MemoryScopeError(
                f"the session carries no {ref} (the policy's memory.workspace); "
                "no memory without a workspace"
            )
        return Scope(session.tenant, workspace, session.agent, self.subject_of(session))

    def subject_of(self, session: Session) -> str | None:
        """The subject ``session`` is about (the policy's ``memory.subject``), or None."""
        if self.policy.subject is None:
            return None
        return session_value(session, self.policy.subject) or None
