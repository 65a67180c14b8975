"""``SessionMemory``: a session's recent actions carry the time of each, to the second."""

from __future__ import annotations

from proctor.approvals._context import SessionMemory
from proctor.model import (
    Decision,
    Environment,
    Outcome,
    OutcomeStatus,
    Session,
    ToolCall,
    Verdict,
)


def _outcome(call: ToolCall) -> Outcome:
    return Outcome(OutcomeStatus.ALLOWED, Decision(call.tool, Verdict.ALLOW, ()), call.id)


def test_each_action_is_stamped_with_its_second_in_utc():
    now = [1_795_000_000.2]
    memory = SessionMemory(clock=lambda: now[0])
    session = Session(agent="bot", principal="p", tenant="acme", environment=Environment.DEV)
    for t in (1_795_000_000.2, 1_795_000_000.9, 1_795_000_001.0, 1_795_003_600.5):
        now[0] = t
        call = ToolCall("orders.get", {}, session.id)
        memory.did(session, call, _outcome(call))
    assert [a["at"] for a in memory.recent(session)] == [
        "2026-11-18T11:06:40Z",
        "2026-11-18T11:06:40Z",
        "2026-11-18T11:06:41Z",
        "2026-11-18T12:06:40Z",
    ]
