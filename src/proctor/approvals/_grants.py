"""What an agent key may run: the agents and tenants of the sessions it may open.

A principal with role ``agent`` is a program that reaches Proctor through the HTTP gateway. Its
grant names the agents (policy ``agent.name``) it may open sessions for and the tenants they may
be in (``*``: any tenant, said explicitly). No grant: it opens nothing (default deny). Only an
admin grants; every grant is recorded (an ``access.granted`` alert in the audit log).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select

from proctor.approvals._access import NAME, AccessRegistry, Principal, Role
from proctor.approvals._db import dumps, loads, reading, writing
from proctor.approvals._outbox import Recorder
from proctor.audit import events
from proctor.errors import AccessDeniedError, ApprovalNotFoundError
from proctor.store import agent_grants as t
from proctor.store import principals as people

ANY_TENANT = "*"


@dataclass(frozen=True, slots=True)
class AgentGrant:
    """The agents an agent key may open sessions for, and in which tenants."""

    principal: str
    agents: frozenset[str]
    tenants: frozenset[str]

    def allows(self, agent: str, tenant: str) -> bool:
        return agent in self.agents and (ANY_TENANT in self.tenants or tenant in self.tenants)


def _names(values: Iterable[str], what: str, *, star: bool = False) -> list[str]:
    out = sorted({v.strip() for v in values if v.strip()})
    if not out:
        raise ValueError(f"an agent grant needs at least one {what}")
    for v in out:
        if not (NAME.fullmatch(v) or (star and v == ANY_TENANT)):
            raise ValueError(f"invalid {what} {v!r}: letters, digits and _.@+- only, 1-128")
    return out


class AgentGrants:
    """Grants in the store, beside the principals they belong to."""

    def __init__(
        self,
        engine: Engine,
        recorder: Recorder,
        access: AccessRegistry,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self.access = access
        self._clock = clock

    def grant(
        self, name: str, agents: Iterable[str], tenants: Iterable[str], *, by: Principal
    ) -> AgentGrant:
        """Give the agent key ``name`` (role ``agent``) these agents and tenants, replacing
        what it had. Needs role admin."""
        agent_list = _names(agents, "agent")
        tenant_list = _names(tenants, "tenant", star=True)
        with writing(self.engine) as conn:
            who = self.access.current(conn, by)
            who.require(Role.ADMIN, action="grant agents")
            row = conn.execute(select(people.c.roles).where(people.c.name == name)).first()
            if row is None:
                raise ApprovalNotFoundError(f"no principal named {name!r}")
            if str(Role.AGENT) not in loads(row.roles):
                raise AccessDeniedError(f"{name} is not an agent key (role agent)")
            conn.execute(delete(t).where(t.c.principal == name))
            conn.execute(
                insert(t).values(
                    principal=name,
                    agents=dumps(agent_list),
                    tenants=dumps(tenant_list),
                    granted_by=who.name,
                    granted_at=self._clock(),
                )
            )
            detail = {"principal": name, "agents": agent_list, "tenants": tenant_list}
            self.recorder.add(
                conn,
                events.alert(
                    "access.granted",
                    f"{who.name} granted {name} agents {', '.join(agent_list)} "
                    f"in tenants {', '.join(tenant_list)}",
                    detail=detail,
                ),
            )
        self.recorder.committed()
        return AgentGrant(name, frozenset(agent_list), frozenset(tenant_list))

    def get(self, name: str) -> AgentGrant | None:
        """The grant of ``name``, or None (it may open no session)."""
        with reading(self.engine) as conn:
            row = conn.execute(select(t).where(t.c.principal == name)).first()
        if row is None:
            return None
        return AgentGrant(name, frozenset(loads(row.agents)), frozenset(loads(row.tenants)))
