"""People's controls over running agents: the kill switch and break-glass.

Both live in the store, so every gate sharing it sees a change on its very next call: the gate
reads the agent's switch with every call (no cache) and active overrides with every hold.

- **Kill switch.** ``pause(agent)``: every further call of the agent is held (or denied, as its
  policy's ``controls.on_pause`` says) until ``resume``, and every approved request of the agent
  not yet executing is voided (cancelled, audited): no approval given before the pause runs
  after the resume, and none is accepted during it. Break-glass never lifts it.
- **Containment.** ``contain(agent, action, ...)``: what the monitor does on a severe alert
  (``proctor.monitor``): pause the agent, or cap its autonomy (``draft``: calls above draft are
  denied). It only ever tightens; a person lifts it with ``resume``.
- **Break-glass.** ``issue_break_glass(agent, tools, environment=, minutes, reason)``: for at
  most ``minutes`` (never more than the registry's cap, nor than the policy's
  ``controls.break_glass.max_minutes`` when used), the agent's calls of those tools, in that
  environment (and that tenant, if given), that would be held run without an approval. A DENY
  stays a DENY. Issuing raises an alert; every use names the override in the decision. An
  override stored before it had a scope (migration 0007) matches nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, insert, or_, select, update
from sqlalchemy.engine import Connection

from proctor.approvals._access import NAME, AccessRegistry, Principal, Role
from proctor.approvals._db import dumps, iso, loads, reading, writing
from proctor.approvals._outbox import Recorder
from proctor.approvals._store import ApprovalStore
from proctor.audit import events
from proctor.errors import ApprovalError, ApprovalNotFoundError, ApprovalStateError
from proctor.model import Autonomy, Environment, new_id
from proctor.store import agent_controls as ac
from proctor.store import break_glass as bg

MIN_REASON = 10  # characters: a reason is a sentence, not "x"


@dataclass(frozen=True, slots=True)
class Pause:
    """The kill switch of one agent: on (paused) or off, who flipped it, when and why."""

    agent: str
    paused: bool
    by: str
    reason: str
    at: float
    max_autonomy: Autonomy | None = None  # containment: calls above this level are denied
    voided: tuple[str, ...] = ()  # pausing: the approved requests it cancelled

    @property
    def running(self) -> bool:
        """Neither paused nor contained."""
        return not self.paused and self.max_autonomy is None


def _pause(row: Row[Any]) -> Pause:
    cap = row.max_autonomy
    return Pause(
        row.agent,
        bool(row.paused),
        row.changed_by,
        row.reason,
        row.changed_at,
        Autonomy[cap.upper()] if cap else None,
    )


@dataclass(frozen=True, slots=True)
class BreakGlassGrant:
    """A time-boxed override: ``agent``'s held calls of ``tools`` in ``environment`` (and, if
    set, ``tenant``) run without approval. ``environment`` None: an override stored before
    overrides had a scope, which covers nothing (fail closed)."""

    id: str
    agent: str
    tools: tuple[str, ...]
    reason: str
    issued_by: str
    issued_at: float
    expires_at: float
    revoked_at: float | None
    revoked_by: str | None
    environment: str | None
    tenant: str | None  # None: every tenant of the environment

    def covers(self, environment: str, tenant: str) -> bool:
        """Whether the override applies to a session in ``environment`` and ``tenant``."""
        if self.environment is None or self.environment != environment:
            return False
        return self.tenant is None or self.tenant == tenant

    def active(self, now: float, max_minutes: int | None = None) -> bool:
        """In force at ``now``: not revoked, not expired, and (if ``max_minutes``, the
        policy's cap) issued less than that long ago."""
        if self.revoked_at is not None or now >= self.expires_at:
            return False
        return max_minutes is None or now < self.issued_at + 60 * max_minutes


def _grant(row: Row[Any]) -> BreakGlassGrant:
    return BreakGlassGrant(
        row.id,
        row.agent,
        tuple(loads(row.tools)),
        row.reason,
        row.issued_by,
        row.issued_at,
        row.expires_at,
        row.revoked_at,
        row.revoked_by,
        row.environment,
        row.tenant,
    )


def _environment(value: Environment | str) -> str:
    try:
        return str(Environment(value))
    except ValueError:
        known = ", ".join(str(e) for e in Environment)
        raise ApprovalError(
            f"break-glass needs the environment it is for ({known}), got {value!r}"
        ) from None


def _tenant(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.strip() or value != value.strip() or len(value) > 128 or not value.isprintable():
        raise ApprovalError(
            f"invalid tenant {value!r}: 1 to 128 printable characters, as the sessions name it"
        )
    return value


def _reason(reason: str | None, what: str) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise ApprovalError(f"{what} needs a reason of at least {MIN_REASON} characters")
    return text


def _name(value: str, what: str) -> str:
    if not NAME.fullmatch(value):
        raise ApprovalError(f"invalid {what} {value!r}")
    return value


class AgentControls:
    """The kill switch and break-glass overrides, in the store."""

    def __init__(
        self,
        engine: Engine,
        recorder: Recorder,
        access: AccessRegistry,
        requests: ApprovalStore,
        clock: Callable[[], float] = time.time,
        *,
        max_break_glass_minutes: int = 240,
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self.access = access
        self.requests = requests  # a pause voids the agent's approved requests
        self._clock = clock
        self.max_break_glass_minutes = max_break_glass_minutes

    # -- kill switch -------------------------------------------------------------------------

    def pause(self, agent: str, *, by: Principal, reason: str) -> Pause:
        """Pause ``agent`` everywhere: its next call, in any process, holds (or denies); and,
        in the same transaction, void (cancel) its approved requests that are not executing
        yet (``Pause.voided``). Until ``resume``, its requests can be denied, not approved."""
        by.require(Role.OPERATOR, Role.ADMIN, action="pause agents")
        return self._switch(agent, True, by, _reason(reason, "pausing an agent"))

    def resume(self, agent: str, *, by: Principal, reason: str | None = None) -> Pause:
        return self._switch(agent, False, by, (reason or "").strip())

    def _switch(self, agent: str, paused: bool, by: Principal, reason: str) -> Pause:
        _name(agent, "agent")
        now = self._clock()
        action = "paused" if paused else "resumed"
        with writing(self.engine) as conn:
            who = self.access.current(conn, by)
            who.require(Role.OPERATOR, Role.ADMIN, action=f"{action[:-1]} agents")
            row = conn.execute(select(ac).where(ac.c.agent == agent).with_for_update()).first()
            values: dict[str, object] = {
                "paused": int(paused),
                "changed_by": who.name,
                "reason": reason,
                "changed_at": now,
            }
            if not paused:  # a person resuming also lifts the monitor's containment
                values["max_autonomy"] = None
            if row is None:
                conn.execute(insert(ac).values(agent=agent, **values))
            else:
                conn.execute(update(ac).where(ac.c.agent == agent).values(**values))
            text = f"Agent *{agent}* {action} by {who.name}" + (f": {reason}" if reason else "")
            self.recorder.add(
                conn,
                events.agent_control(agent, action, by=who.name, reason=reason),
                notice=(f"agent.{action}", text, {"agent": agent, "by": who.name}),
            )
            voided: tuple[str, ...] = ()
            if paused:  # after the pause's own record: the audit log reads in that order
                done = self.requests.void_approved(conn, agent, by=who.name, reason=reason, now=now)
                voided = tuple(r.id for r in done)
        self.recorder.committed()
        cap = _pause(row).max_autonomy if paused and row is not None else None
        return Pause(agent, paused, who.name, reason, now, cap, voided)

    def status(self, agent: str) -> Pause | None:
        """The agent's switch as it is now (None: never paused). One indexed read."""
        with reading(self.engine) as conn:
            row = conn.execute(select(ac).where(ac.c.agent == agent)).first()
        if row is None:
            return None
        return _pause(row)

    def paused(self, agent: str) -> Pause | None:
        state = self.status(agent)
        return state if state is not None and state.paused else None

    def switches(self) -> list[Pause]:
        with reading(self.engine) as conn:
            rows = conn.execute(select(ac).order_by(ac.c.agent)).all()
        return [_pause(r) for r in rows]

    def contain(
        self,
        agent: str,
        action: str,
        *,
        by: str,
        reason: str,
        conn: Connection | None = None,
    ) -> Pause | None:
        """Containment by a system (``by``: ``monitor``), not a person: ``action`` ``pause``
        flips the kill switch; ``draft`` or ``read`` caps the agent's autonomy. It only
        tightens (a lower cap stays, a pause stays); a person lifts it with ``resume``. Runs
        in ``conn``'s transaction if given (the monitor's, so that the alert and the
        containment commit together). Returns the new state, or None if nothing changed."""
        _name(agent, "agent")
        if action not in ("pause", "draft", "read"):
            raise ApprovalError(f"unknown containment {action!r}; expected pause, draft or read")
        if conn is None:
            with writing(self.engine) as own:
                state = self.contain(agent, action, by=by, reason=reason, conn=own)
            self.recorder.committed()
            return state
        now = self._clock()
        row = conn.execute(select(ac).where(ac.c.agent == agent).with_for_update()).first()
        current = _pause(row) if row is not None else None
        paused = current is not None and current.paused
        cap = current.max_autonomy if current is not None else None
        if action == "pause":
            if paused:
                return None
            paused = True
        else:
            level = Autonomy[action.upper()]
            if cap is not None and cap <= level:
                return None
            cap = level
        values = {
            "paused": int(paused),
            "max_autonomy": str(cap) if cap is not None else None,
            "changed_by": by,
            "reason": reason,
            "changed_at": now,
        }
        if row is None:
            conn.execute(insert(ac).values(agent=agent, **values))
        else:
            conn.execute(update(ac).where(ac.c.agent == agent).values(**values))
        what = "paused" if action == "pause" else f"contained to {action}"
        text = f"Agent *{agent}* {what} by {by}: {reason}"
        self.recorder.add(
            conn,
            events.agent_control(
                agent, "paused" if action == "pause" else "contained", by=by, reason=reason
            ),
            notice=(
                f"agent.{'paused' if action == 'pause' else 'contained'}",
                text,
                {"agent": agent, "by": by, "action": action},
            ),
        )
        voided: tuple[str, ...] = ()
        if action == "pause":  # as a person's pause: no approval given before it runs after
            done = self.requests.void_approved(conn, agent, by=by, reason=reason, now=now)
            voided = tuple(r.id for r in done)
        return Pause(agent, paused, by, reason, now, cap, voided)

    # -- break-glass -------------------------------------------------------------------------

    def issue_break_glass(
        self,
        agent: str,
        tools: Iterable[str],
        *,
        environment: Environment | str,
        tenant: str | None = None,
        minutes: int,
        reason: str,
        by: Principal,
    ) -> BreakGlassGrant:
        """Issue an override (admins only; a reason is mandatory; at most the cap) for the
        agent's sessions in ``environment`` (mandatory: an incident in staging never lifts a
        hold in production) and, if given, ``tenant`` only. Raises an alert: an audit record
        of kind ``alert`` and a notification."""
        by.require(Role.ADMIN, action="issue break-glass")  # again below, as the store has it
        _name(agent, "agent")
        env = _environment(environment)
        tenant = _tenant(tenant)
        scope = sorted({_name(tool.strip(), "tool") for tool in tools})
        if not scope:
            raise ApprovalError("break-glass needs at least one tool; there is no wildcard")
        cap = self.max_break_glass_minutes
        if not 1 <= minutes <= cap:
            raise ApprovalError(f"break-glass lasts 1 to {cap} minutes, got {minutes}")
        why = _reason(reason, "break-glass")
        now = self._clock()
        grant = BreakGlassGrant(
            new_id("bg"),
            agent,
            tuple(scope),
            why,
            by.name,
            now,
            now + 60 * minutes,
            None,
            None,
            env,
            tenant,
        )
        with writing(self.engine) as conn:
            who = self.access.current(conn, by)
            who.require(Role.ADMIN, action="issue break-glass")
            conn.execute(
                insert(bg).values(
                    id=grant.id,
                    agent=agent,
                    tools=dumps(list(scope)),
                    reason=why,
                    issued_by=who.name,
                    issued_at=now,
                    expires_at=grant.expires_at,
                    ended_recorded=0,
                    environment=env,
                    tenant=tenant,
                )
            )
            until = iso(grant.expires_at)
            self.recorder.add(
                conn,
                events.break_glass(
                    grant.id,
                    "issued",
                    agent=agent,
                    tools=scope,
                    by=who.name,
                    reason=why,
                    expires_at=until,
                    environment=env,
                    tenant=tenant,
                ),
            )
            where = env + (f", tenant {tenant}" if tenant is not None else ", every tenant")
            message = (
                f"BREAK-GLASS {grant.id} issued by {who.name}: agent {agent} may run "
                f"{', '.join(scope)} without approval in {where} until {until}. Reason: {why}"
            )
            detail = {
                "grant_id": grant.id,
                "agent": agent,
                "tools": scope,
                "environment": env,
                "tenant": tenant,
                "by": who.name,
            }
            self.recorder.add(
                conn,
                events.alert("break_glass", message, detail=detail),
                notice=("break_glass.issued", message, detail),
            )
        self.recorder.committed()
        return grant

    def revoke_break_glass(self, grant_id: str, *, by: Principal) -> BreakGlassGrant:
        with writing(self.engine) as conn:
            who = self.access.current(conn, by)
            who.require(Role.ADMIN, action="revoke break-glass")
            grant = self._grant(conn, grant_id, lock=True)
            now = self._clock()
            if not grant.active(now):
                raise ApprovalStateError(f"{grant_id} is no longer in force")
            conn.execute(
                update(bg)
                .where(bg.c.id == grant_id)
                .values(revoked_at=now, revoked_by=who.name, ended_recorded=1)
            )
            self.recorder.add(
                conn,
                events.break_glass(
                    grant_id,
                    "revoked",
                    agent=grant.agent,
                    tools=grant.tools,
                    by=who.name,
                    reason=None,
                    expires_at=iso(grant.expires_at),
                    environment=grant.environment,
                    tenant=grant.tenant,
                ),
                notice=(
                    "break_glass.revoked",
                    f"Break-glass {grant_id} for {grant.agent} revoked by {who.name}",
                    {"grant_id": grant_id, "agent": grant.agent, "by": who.name},
                ),
            )
            grant = self._grant(conn, grant_id)
        self.recorder.committed()
        return grant

    def _grant(self, conn: Connection, grant_id: str, *, lock: bool = False) -> BreakGlassGrant:
        query = select(bg).where(bg.c.id == grant_id)
        row = conn.execute(query.with_for_update() if lock else query).first()
        if row is None:
            raise ApprovalNotFoundError(f"no break-glass override {grant_id!r}")
        return _grant(row)

    def active_grant(
        self,
        agent: str,
        tool: str,
        environment: Environment | str,
        tenant: str,
        max_minutes: int | None = None,
    ) -> BreakGlassGrant | None:
        """An override in force now for ``agent`` and ``tool`` in ``environment`` and
        ``tenant`` (the latest issued), or None. An override without an environment (stored
        before overrides had a scope) never matches."""
        now = self._clock()
        env = str(Environment(environment))
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(bg)
                .where(
                    bg.c.agent == agent,
                    bg.c.environment == env,
                    or_(bg.c.tenant.is_(None), bg.c.tenant == tenant),
                    bg.c.expires_at > now,
                    bg.c.revoked_at.is_(None),
                )
                .order_by(bg.c.issued_at.desc())
            ).all()
        for row in rows:
            grant = _grant(row)
            if tool in grant.tools and grant.covers(env, tenant) and grant.active(now, max_minutes):
                return grant
        return None

    def grants(self, agent: str | None = None, *, active: bool = False) -> list[BreakGlassGrant]:
        query = select(bg)
        if agent is not None:
            query = query.where(bg.c.agent == agent)
        if active:
            query = query.where(bg.c.expires_at > self._clock(), bg.c.revoked_at.is_(None))
        with reading(self.engine) as conn:
            return [_grant(r) for r in conn.execute(query.order_by(bg.c.issued_at)).all()]

    def record_ended(self) -> list[BreakGlassGrant]:
        """Record the end of every override that expired by itself (once each)."""
        now = self._clock()
        with reading(self.engine) as conn:
            ids = (
                conn.execute(
                    select(bg.c.id).where(bg.c.ended_recorded == 0, bg.c.expires_at <= now)
                )
                .scalars()
                .all()
            )
        ended = []
        for gid in ids:
            with writing(self.engine) as conn:
                grant = self._grant(conn, gid, lock=True)
                done = conn.execute(
                    update(bg)
                    .where(bg.c.id == gid, bg.c.ended_recorded == 0)
                    .values(ended_recorded=1)
                ).rowcount
                if done != 1:
                    continue
                self.recorder.add(
                    conn,
                    events.break_glass(
                        gid,
                        "ended",
                        agent=grant.agent,
                        tools=grant.tools,
                        by=None,
                        reason="expired",
                        expires_at=iso(grant.expires_at),
                        environment=grant.environment,
                        tenant=grant.tenant,
                    ),
                    notice=(
                        "break_glass.ended",
                        f"Break-glass {gid} for {grant.agent} expired",
                        {"grant_id": gid, "agent": grant.agent},
                    ),
                )
                ended.append(grant)
        if ended:
            self.recorder.committed()
        return ended
