"""``ToolPins``: the pinned and the last listed definition of each tool, per server, in the
store; approval and revocation by a named operator; every transition in the audit log.

A proxy calls ``record`` with what a server lists now: a tool seen for the first time is
``new`` (its findings stored with it), a definition that differs from the one last seen is
recorded and audited (``changed`` if it differs from the pin), a tool missing from the listing
is ``removed`` (its pin kept: if it comes back identical, it is pinned again). Only an operator
(role operator or admin) approves or revokes; approving pins the definition last seen, after
scanning it again. Every write is one transaction with its audit event (the approvals outbox),
rows locked (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two proxies or
two operators at once record each transition once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection, Row

from proctor.approvals import AccessRegistry, Principal, Role
from proctor.approvals._db import dumps, loads, reading, writing
from proctor.approvals._outbox import Recorder
from proctor.audit import Event, EventKind
from proctor.errors import ApprovalStateError, ToolPinError
from proctor.model import Finding
from proctor.pins._definition import (
    REVIEWED_MIN,
    canonical,
    changed_fields,
    diff,
    fingerprint,
)
from proctor.pins._pin import ToolPin, pin_of, short
from proctor.pins._scan import scan_definition
from proctor.store import mcp_tool_pins as t

TOFU = "tofu"  # approved_by of a tool pinned on first use (mcp-proxy --pins tofu)
_MAX_DIFF = 4000
_MAX_FINDINGS = 10
_HEX = frozenset("0123456789abcdef")


def reviewed(server: str, tool: str, given: str) -> str:
    """The hex digits of the fingerprint an operator says they reviewed (``sha256:`` optional,
    any case): at least ``REVIEWED_MIN`` of them (64 bits), at most the 64 of a SHA-256. A shorter
    prefix could be matched by a server that brute-forces one."""
    want = given.strip().removeprefix("sha256:").lower()
    if not want or not set(want) <= _HEX or len(want) > 64:
        raise ToolPinError(
            f"fingerprint {given!r} for {server}/{tool} is not a SHA-256 fingerprint (hex "
            "digits, optionally after sha256:); nothing was approved"
        )
    if len(want) < REVIEWED_MIN:
        raise ToolPinError(
            f"fingerprint {given!r} for {server}/{tool} has {len(want)} hex digit(s): give at "
            f"least {REVIEWED_MIN} (or all 64), as proctor mcp tools diff shows it; nothing was "
            "approved"
        )
    return want


def _findings(found: Iterable[Finding]) -> list[dict[str, Any]]:
    return [f.to_dict() for f in found]


def _event(action: str, server: str, tool: str, **body: Any) -> Event:
    text = body.get("diff")
    if isinstance(text, str) and len(text) > _MAX_DIFF:
        body["diff"] = text[:_MAX_DIFF] + f"\n... [{len(text) - _MAX_DIFF} more characters]"
    if isinstance(body.get("findings"), list):
        body["findings"] = body["findings"][:_MAX_FINDINGS]
    return Event(EventKind.TOOL_PIN, {"action": action, "server": server, "tool": tool, **body})


class ToolPins:
    """Tool pins in the store, beside the principals who approve them."""

    def __init__(
        self,
        engine: Engine,
        recorder: Recorder,
        access: AccessRegistry,
        *,
        scan: Callable[[Mapping[str, Any]], list[Finding]] = scan_definition,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self.access = access
        self._scan = scan
        self._clock = clock

    # -- reading ------------------------------------------------------------------------------

    def get(self, server: str, tool: str) -> ToolPin | None:
        with reading(self.engine) as conn:
            row = conn.execute(select(t).where(t.c.server == server, t.c.tool == tool)).first()
        return None if row is None else pin_of(row)

    def list(self, server: str | None = None) -> list[ToolPin]:
        query = select(t).order_by(t.c.server, t.c.tool)
        if server is not None:
            query = query.where(t.c.server == server)
        with reading(self.engine) as conn:
            return [pin_of(r) for r in conn.execute(query)]

    def pinned(self, server: str) -> dict[str, str]:
        """Tool name -> pinned fingerprint, for the approved tools of ``server``."""
        query = select(t.c.tool, t.c.pinned_fingerprint).where(
            t.c.server == server, t.c.pinned_fingerprint.is_not(None)
        )
        with reading(self.engine) as conn:
            return {r.tool: r.pinned_fingerprint for r in conn.execute(query)}

    # -- what a server lists ------------------------------------------------------------------

    def record(
        self, server: str, listed: Mapping[str, Mapping[str, Any]], *, tofu: bool = False
    ) -> dict[str, str]:
        """Record what ``server`` lists now (tool name -> definition); return the pinned
        fingerprints of its tools afterwards. Writes (and audits) only what changed.
        ``tofu``: a tool seen for the first time, without findings, is pinned as it is."""
        defs = {name: dict(d) for name, d in listed.items()}
        fps = {name: fingerprint(d) for name, d in defs.items()}
        retries = 2
        while True:
            try:
                with reading(self.engine) as conn:
                    rows = {r.tool: r for r in conn.execute(select(t).where(t.c.server == server))}
                if not self._stale(rows, fps):
                    return {
                        n: r.pinned_fingerprint for n, r in rows.items() if r.pinned_fingerprint
                    }
                return self._write(server, defs, fps, tofu)
            except ApprovalStateError:  # two proxies inserted the same new tool: read again
                if retries == 0:
                    raise
                retries -= 1

    @staticmethod
    def _stale(rows: Mapping[str, Row[Any]], fps: Mapping[str, str]) -> bool:
        if set(fps) - set(rows):
            return True
        for name, row in rows.items():
            if name in fps and (row.seen_fingerprint != fps[name] or not row.present):
                return True
            if name not in fps and row.present:
                return True
        return False

    def _write(
        self,
        server: str,
        defs: Mapping[str, dict[str, Any]],
        fps: Mapping[str, str],
        tofu: bool,
    ) -> dict[str, str]:
        now = self._clock()
        with writing(self.engine) as conn:
            query = select(t).where(t.c.server == server).with_for_update()
            rows = {r.tool: r for r in conn.execute(query)}
            for name in sorted(defs):
                row = rows.get(name)
                if row is None:
                    self._new(conn, server, name, defs[name], fps[name], now, tofu)
                elif row.seen_fingerprint != fps[name]:
                    self._changed(conn, row, defs[name], fps[name], now)
                elif not row.present:
                    conn.execute(_where(update(t), server, name).values(present=1))
                    self.recorder.add(
                        conn,
                        _event(
                            "returned",
                            server,
                            name,
                            fingerprint=fps[name],
                            matches_pin=row.pinned_fingerprint == fps[name],
                        ),
                    )
            for name, row in rows.items():
                if name not in defs and row.present:
                    conn.execute(_where(update(t), server, name).values(present=0))
                    self.recorder.add(
                        conn, _event("removed", server, name, pinned=row.pinned_fingerprint)
                    )
            result = select(t.c.tool, t.c.pinned_fingerprint).where(t.c.server == server)
            pins = {r.tool: r.pinned_fingerprint for r in conn.execute(result)}
        self.recorder.committed()
        return {n: fp for n, fp in pins.items() if fp}

    def _new(
        self,
        conn: Connection,
        server: str,
        name: str,
        defn: dict[str, Any],
        fp: str,
        now: float,
        tofu: bool,
    ) -> None:
        found = _findings(self._scan(defn))
        auto = tofu and not found
        text = canonical(defn)
        conn.execute(
            insert(t).values(
                server=server,
                tool=name,
                pinned_fingerprint=fp if auto else None,
                pinned_definition=text if auto else None,
                approved_by=TOFU if auto else None,
                approved_at=now if auto else None,
                accepted_findings=dumps([]) if auto else None,
                seen_fingerprint=fp,
                seen_definition=text,
                seen_findings=dumps(found),
                first_seen_at=now,
                changed_at=now,
                present=1,
            )
        )
        self.recorder.add(conn, _event("new", server, name, fingerprint=fp, findings=found))
        if auto:
            self.recorder.add(conn, _event("approved", server, name, fingerprint=fp, by=TOFU))

    def _changed(
        self, conn: Connection, row: Row[Any], defn: dict[str, Any], fp: str, now: float
    ) -> None:
        found = _findings(self._scan(defn))
        conn.execute(
            _where(update(t), row.server, row.tool).values(
                seen_fingerprint=fp,
                seen_definition=canonical(defn),
                seen_findings=dumps(found),
                changed_at=now,
                present=1,
            )
        )
        base = loads(row.pinned_definition) or loads(row.seen_definition)
        self.recorder.add(
            conn,
            _event(
                "changed",
                row.server,
                row.tool,
                pinned=row.pinned_fingerprint,
                was=row.seen_fingerprint,
                fingerprint=fp,
                matches_pin=row.pinned_fingerprint == fp,
                fields=changed_fields(base, defn),
                diff=diff(base, defn, label=f"{row.server}/{row.tool}"),
                findings=found,
            ),
        )

    # -- operators ----------------------------------------------------------------------------

    def approve(
        self,
        server: str,
        tool: str,
        *,
        by: Principal,
        fingerprint: str,
        accept_findings: bool = False,
    ) -> ToolPin:
        """Pin the definition of ``tool`` last seen on ``server``, if it is the one the operator
        reviewed. Needs role operator or admin. ``fingerprint``: the fingerprint of the reviewed
        definition (``proctor mcp tools diff``), in full or a prefix of at least 16 hex digits;
        if the tool changed since, nothing is pinned. The definition is scanned again;
        findings need ``accept_findings``. Already pinned as it is: nothing changes, nothing
        is recorded."""
        want = reviewed(server, tool, fingerprint)
        with writing(self.engine) as conn:
            who = self.access.current(conn, by)
            who.require(Role.OPERATOR, Role.ADMIN, action="approve tools")
            row = _locked(conn, server, tool)
            seen = row.seen_fingerprint
            if not seen.startswith(want):
                raise ToolPinError(
                    f"{server}/{tool} is now {short(seen)}, not {fingerprint!r}: it changed "
                    "since it was reviewed (proctor mcp tools diff); nothing was approved"
                )
            if row.pinned_fingerprint == seen:
                return pin_of(row)
            defn = loads(row.seen_definition)
            found = _findings(self._scan(defn))
            if found and not accept_findings:
                listed = "; ".join(f"{f['where']}: {f['detector']} {f['rule']}" for f in found[:5])
                raise ToolPinError(
                    f"{server}/{tool} has {len(found)} detector finding(s) ({listed}): review "
                    "them (proctor mcp tools diff) and approve with --accept-findings if the "
                    "definition is what you expect; nothing was approved"
                )
            now = self._clock()
            conn.execute(
                _where(update(t), server, tool).values(
                    pinned_fingerprint=seen,
                    pinned_definition=row.seen_definition,
                    approved_by=who.name,
                    approved_at=now,
                    accepted_findings=dumps(found),
                    seen_findings=dumps(found),
                )
            )
            self.recorder.add(
                conn,
                _event(
                    "approved",
                    server,
                    tool,
                    fingerprint=seen,
                    previous=row.pinned_fingerprint,
                    by=who.name,
                    accepted_findings=len(found),
                    findings=found,
                    diff=diff(loads(row.pinned_definition), defn, label=f"{server}/{tool}")
                    if row.pinned_definition
                    else None,
                ),
            )
            updated = _locked(conn, server, tool)
        self.recorder.committed()
        return pin_of(updated)

    def revoke(self, server: str, tool: str, *, by: Principal, reason: str) -> ToolPin:
        """Drop the pin of ``tool``: it is ``new`` again and blocked until approved. Needs
        role operator or admin and a reason (audited)."""
        if len(reason.strip()) < 3:
            raise ToolPinError("a revocation needs a reason (at least 3 characters)")
        with writing(self.engine) as conn:
            who = self.access.current(conn, by)
            who.require(Role.OPERATOR, Role.ADMIN, action="revoke tools")
            row = _locked(conn, server, tool)
            if row.pinned_fingerprint is not None:
                conn.execute(
                    _where(update(t), server, tool).values(
                        pinned_fingerprint=None,
                        pinned_definition=None,
                        approved_by=None,
                        approved_at=None,
                        accepted_findings=None,
                    )
                )
                self.recorder.add(
                    conn,
                    _event(
                        "revoked",
                        server,
                        tool,
                        fingerprint=row.pinned_fingerprint,
                        by=who.name,
                        reason=reason.strip()[:500],
                    ),
                )
            updated = _locked(conn, server, tool)
        self.recorder.committed()
        return pin_of(updated)


def _where(stmt: Any, server: str, tool: str) -> Any:
    return stmt.where(t.c.server == server, t.c.tool == tool)


def _locked(conn: Connection, server: str, tool: str) -> Row[Any]:
    row = conn.execute(
        select(t).where(t.c.server == server, t.c.tool == tool).with_for_update()
    ).first()
    if row is None:
        raise ToolPinError(
            f"no tool {tool!r} was listed by server {server!r} (a proxy records the tools "
            "when it starts and at each tools/list; see proctor mcp tools)"
        )
    return row
