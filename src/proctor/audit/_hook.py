"""``AuditHook``: the gate's audit point. Every decision and every outcome becomes a record.

A session's ``session.opened`` record is written with its first decision (or by
``open_session``), once per process. The decision links to it; the outcome links to the
decision. ``on_decision`` raising makes the gate refuse the call (fail closed): an action that
could not be recorded never runs. A call whose outcome is known when it is decided (nothing to
run or queue) has both records written in one append (``on_settled``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

from proctor.audit import _events as events
from proctor.audit._log import AuditLog, Record
from proctor.audit._receipts import receipt_for
from proctor.flow import Labeled
from proctor.hooks import GateHooks
from proctor.model import Decision, Outcome, Receipt, Session, ToolCall
from proctor.vault import DataReport

if TYPE_CHECKING:
    from proctor.gate import Gate

log = logging.getLogger("proctor.audit")


class AuditHook(GateHooks):
    """Records what the gate decides and what comes of it in ``log``. With ``receipts`` (the
    default), each recorded outcome comes back with its signed receipt (``Outcome.receipt``:
    one Ed25519 signature per call, after the commit; see docs/audit.md, Receipts)."""

    def __init__(
        self, log: AuditLog, *, max_sessions: int = 100_000, receipts: bool = True
    ) -> None:
        self.log = log
        self.receipts = receipts
        self._policies: dict[str, str] = {}  # policy name -> SHA-256 of its file
        self._gate: Gate | None = None
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, str] = OrderedDict()  # session id -> record id
        self._decisions: dict[str, str] = {}  # call id -> decision record id
        self._contents: OrderedDict[str, str] = OrderedDict()  # content id -> record id
        self._max_sessions = max_sessions

    def _known(self, session: Session) -> str | None:
        with self._lock:
            rid = self._sessions.get(session.id)
            if rid is not None:
                self._sessions.move_to_end(session.id)
            return rid

    def _remember(self, session: Session, record_id: str) -> None:
        with self._lock:
            self._sessions[session.id] = record_id
            while len(self._sessions) > self._max_sessions:
                self._sessions.popitem(last=False)

    def record_session(self, session: Session) -> str:
        """Record that ``session`` opened (once); return the record's id."""
        rid = self._known(session)
        if rid is None:
            rid = self.log.append(events.session_opened(session)).id
            self._remember(session, rid)
        return rid

    async def open_session(self, session: Session) -> str:
        return await asyncio.to_thread(self.record_session, session)

    def _ingests_of(self, decision: Decision) -> list[str]:
        """The ingest records the decision's arguments came from (each once, in order)."""
        with self._lock:
            seen = [
                rid
                for p in events.provenance(decision).values()
                for cid in p["content"]
                if (rid := self._contents.get(cid)) is not None
            ]
        return list(dict.fromkeys(seen))

    def _record_decision(self, session: Session, call: ToolCall, decision: Decision) -> Record:
        # the decision links to the session and to the ingests its arguments came from
        seen = self._ingests_of(decision)
        return self._append_in_session(
            session,
            lambda sid: events.decision(session, call, decision, [sid, *seen], self.log.digest),
        )

    def _opening(self, session: Session) -> tuple[str, list[events.Event]]:
        """The id of the session's record, and the events to append first: its
        ``session.opened`` if this process has not recorded it yet (``_remember`` it once
        they are appended), else none."""
        sid = self._known(session)
        if sid is not None:
            return sid, []
        opened = events.session_opened(session)
        return opened.id, [opened]

    def _append_in_session(self, session: Session, build: Callable[[str], events.Event]) -> Record:
        """Append ``build(session_record_id)``, opening the session's record first if needed."""
        sid, first = self._opening(session)
        rec = self.log.append_many([*first, build(sid)])[-1]
        if first:
            self._remember(session, sid)
        return rec

    def _record_ingest(self, session: Session, content: Labeled) -> Record:
        rec = self._append_in_session(
            session, lambda sid: events.content_ingested(session, content, [sid], self.log.digest)
        )
        with self._lock:
            self._contents[content.id] = rec.id
            while len(self._contents) > self._max_sessions:
                self._contents.popitem(last=False)
        return rec

    async def on_ingest(self, session: Session, content: Labeled) -> None:
        await asyncio.to_thread(self._record_ingest, session, content)

    def _record_data(self, session: Session, report: DataReport) -> None:
        sid = self.record_session(session)
        access = events.data_access(session, report, [sid])
        self.log.append_many([access, *events.data_alerts(session, report, [access.id])])

    async def on_data(self, session: Session, report: DataReport) -> None:
        """Classified reads, dropped records and refused tokens: one ``data.access`` record,
        and an ``alert`` record per drop or refusal, in one transaction."""
        await asyncio.to_thread(self._record_data, session, report)

    async def on_decision(self, session: Session, call: ToolCall, decision: Decision) -> None:
        sid = self._known(session)
        if sid is None:  # the session's first record: in a worker thread, as every rare path
            rec = await asyncio.to_thread(self._record_decision, session, call, decision)
        else:  # the hot path: no worker thread where the log has a writer of its own
            links = [sid, *self._ingests_of(decision)]
            event = events.decision(session, call, decision, links, self.log.digest)
            rec = (await self.log.aappend_many([event]))[0]
        with self._lock:
            self._decisions[call.id] = rec.id

    def attach(self, gate: Gate) -> None:
        self._gate = gate

    def _policy_sha256(self, name: str) -> str | None:
        """The SHA-256 of the policy file whose version decided (``agent@digest12``)."""
        digest = self._policies.get(name)
        if digest is None and self._gate is not None:
            digest = next((p.digest for p in self._gate.policies.policies if p.name == name), None)
            if digest is not None:
                self._policies[name] = digest
        return digest

    def _outcome_event(
        self, session: Session, call: ToolCall, outcome: Outcome, link: str | None
    ) -> events.Event:
        return events.outcome(
            session,
            call,
            outcome,
            [link] if link else [],
            self.log.digest,
            self._policy_sha256(outcome.decision.policy),
            self.log.signer,
        )

    def _receipt(self, record: Record, event: events.Event, call: ToolCall) -> Receipt | None:
        if not self.receipts or self.log.signer is None:
            return None
        try:  # from the event just written: its body, without decoding the stored JSON
            return receipt_for(record, self.log.signer, event.body)
        except Exception:  # the outcome is recorded; only its receipt is missing
            log.exception("cannot sign the receipt of call %s", call.id)
            return None

    async def on_outcome(
        self, session: Session, call: ToolCall, outcome: Outcome
    ) -> Receipt | None:
        """Record the outcome; return its signed receipt (None with ``receipts`` off). No
        worker thread where the log has a writer of its own (``aappend_many``)."""
        with self._lock:
            link = self._decisions.pop(call.id, None)
        event = self._outcome_event(session, call, outcome, link)
        record = (await self.log.aappend_many([event]))[0]
        return self._receipt(record, event, call)

    async def on_settled(
        self, session: Session, call: ToolCall, decision: Decision, outcome: Outcome
    ) -> Receipt | None:
        """A call whose outcome was known when it was decided (the gateway's ``decide``, any
        DENY): its decision and outcome records (and the session's first record, if this is
        its first) in one append, one transaction. The records are those ``on_decision`` and
        ``on_outcome`` write, in that order, the outcome linked to the decision; the receipt
        is the same. Raises if the append fails (nothing is recorded): the gate refuses."""
        sid, first = self._opening(session)
        links = [sid, *self._ingests_of(decision)]
        decided = events.decision(session, call, decision, links, self.log.digest)
        event = self._outcome_event(session, call, outcome, decided.id)
        record = (await self.log.aappend_many([*first, decided, event]))[-1]
        if first:
            self._remember(session, sid)
        return self._receipt(record, event, call)
