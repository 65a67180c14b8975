"""A severe alert contains the agent at once, in every gate and process sharing the store,
until a person resumes it; every step is audited and shown by `proctor agent status`."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from proctor import OutcomeStatus, Verdict
from proctor.approvals import CONTAINED, KILL_SWITCH
from proctor.audit import EventKind
from proctor.cli import app
from proctor.errors import AccessDeniedError

from ._world import burst


def records(world, kind):
    world.queue.recorder.relay()
    return [r.body for r in world.log.records() if r.kind == kind]


def test_a_critical_alert_caps_the_agent_in_every_gate_sharing_the_store(make):
    a = make()
    b = make(people=False, clock=a.clock)  # another gate and queue on the same database
    assert all(o.status is OutcomeStatus.EXECUTED for o in burst(a))
    a.clock.advance(120)
    (alert,) = a.monitor.tick()
    assert (alert.rule, alert.tool, alert.value) == ("email.burst", "email.send", 6.0)

    for w in (a, b):
        s = w.session()
        out = w.gate.call(s, "email.send", {"to": "x@partner.example", "body": "hi"})
        assert out.status is OutcomeStatus.DENIED
        assert out.decision.rule_ids == (CONTAINED,)
        assert "contained to draft" in out.decision.reasons[0]
        # reads (below draft) go on
        assert w.gate.call(s, "orders.get", {"order_id": "O-1"}).status is OutcomeStatus.EXECUTED
    assert len(a.sent) == 6

    state = a.queue.controls.status("support-bot")
    assert state is not None
    assert (state.paused, str(state.max_autonomy), state.by) == (False, "draft", "monitor")
    assert alert.id in state.reason
    controls = records(a, EventKind.AGENT_CONTROL)
    assert [(c["action"], c["by"]) for c in controls] == [("contained", "monitor")]
    alerts = [r for r in records(a, EventKind.ALERT) if r["alert"] == "monitor"]
    assert [r["detail"]["rule"] for r in alerts] == ["email.burst"]
    assert alerts[0]["detail"]["severity"] == "critical"

    a.queue.controls.resume("support-bot", by=a.people["otto"], reason="checked: newsletter")
    out = b.gate.call(b.session(), "email.send", {"to": "x@partner.example", "body": "hi"})
    assert out.status is OutcomeStatus.EXECUTED
    assert [c["action"] for c in records(a, EventKind.AGENT_CONTROL)] == ["contained", "resumed"]


def test_containment_only_tightens(world):
    world.queue.controls.contain("support-bot", "read", by="monitor", reason="earlier alert")
    assert world.queue.controls.contain("support-bot", "draft", by="monitor", reason="x") is None
    assert str(world.queue.controls.status("support-bot").max_autonomy) == "read"
    out = world.gate.call(world.session(), "orders.get", {"order_id": "O-1"})
    assert out.status is OutcomeStatus.EXECUTED  # read is not above read


def test_the_policy_can_pause_the_agent(make):
    world = make(action="pause")
    burst(world)
    world.clock.advance(120)
    world.monitor.tick()
    out = world.gate.call(world.session(), "orders.get", {"order_id": "O-1"})
    assert out.decision.verdict is Verdict.HOLD  # controls.on_pause: hold (the default)
    assert out.decision.rule_ids == (KILL_SWITCH,)
    assert "by monitor" in out.decision.reasons[0]
    with pytest.raises(AccessDeniedError):
        world.queue.controls.resume(
            "support-bot", by=world.people["root"].__class__("mallory", frozenset(), frozenset())
        )
    world.queue.controls.resume("support-bot", by=world.people["root"])
    assert world.queue.controls.status("support-bot").running


def test_containment_reaches_another_process_on_its_next_call(world):
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, "tests")
        from monitor._world import make_world, Clock
        w = make_world({world.url!r}, people=False, clock=Clock({world.clock.now!r}))
        s = w.session()
        args = {{"to": "y@partner.example", "body": "hi"}}
        print(w.gate.call(s, "email.send", args).status, flush=True)
        sys.stdin.readline()  # the parent's monitor contains the agent now
        out = w.gate.call(s, "email.send", args)
        print(out.status, ",".join(out.decision.rule_ids), flush=True)
        w.close()
        """
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdin is not None
    assert child.stdout.readline().strip() == "executed"
    burst(world)
    world.clock.advance(120)
    assert [a.rule for a in world.monitor.tick()] == ["email.burst"]
    child.stdin.write("\n")
    child.stdin.flush()
    assert child.stdout.readline().strip() == f"denied {CONTAINED}"
    assert child.wait(timeout=60) == 0


def test_agent_status_shows_the_containment(world, monkeypatch):
    burst(world)
    world.clock.advance(120)
    world.monitor.tick()
    monkeypatch.setenv("PROCTOR_KEY", world.people_keys["otto"])
    monkeypatch.setenv("PROCTOR_AUDIT_SIGNING_KEY", "6a" * 32)
    res = CliRunner().invoke(
        app,
        ["agent", "status", "--as", "otto", "--database-url", world.url],
        env={"COLUMNS": "200"},
    )
    assert res.exit_code == 0, res.output
    line = next(ln for ln in res.output.splitlines() if "support-bot" in ln)
    assert "contained: draft" in line
    assert "monitor" in line
