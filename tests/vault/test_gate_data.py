"""Inside the gate: tokens detokenize at execution time, only for tools the policy lets see
the class, only in their own session; every classified read is an audit record."""

from __future__ import annotations

from proctor import OutcomeStatus
from proctor.audit import AuditHook, AuditLog, EventKind
from proctor.vault import TOKEN

from ._policy import customer


def _setup(make_gate, hooks=()):
    gate = make_gate(hooks=list(hooks))
    sent: list[tuple[str, str]] = []

    @gate.tool("crm.find_customers")
    def find(query: str) -> dict:
        return {"results": [customer("acme", 1, "ann")]}

    @gate.tool("email.send")
    def email(to: str, body: str) -> str:
        sent.append(("email", to))
        return "sent"

    @gate.tool("sms.send")
    def sms(to: str, body: str) -> str:
        sent.append(("sms", to))
        return "sent"

    return gate, sent


def test_a_tool_allowed_clear_values_gets_them_and_the_model_never_does(make_gate):
    gate, sent = _setup(make_gate)
    session = gate.open_session("support-bot", principal="ticket:T-1", tenant="acme")
    found = gate.call(session, "crm.find_customers", {"query": "ann"})
    token = found.result["results"][0]["email"]
    assert TOKEN.fullmatch(token)
    assert "ann1@" not in repr(found)
    out = gate.call(session, "email.send", {"to": token, "body": f"Hello {token}"})
    assert out.status is OutcomeStatus.EXECUTED, out.error
    assert sent == [("email", "ann1@ann-mail.example.com")]
    assert "ann1@" not in repr(out)  # the decision and outcome carry the token only


def test_a_tool_not_allowed_clear_values_gets_the_token(make_gate):
    gate, sent = _setup(make_gate)
    session = gate.open_session("support-bot", principal="ticket:T-1", tenant="acme")
    token = gate.call(session, "crm.find_customers", {"query": "ann"}).result["results"][0]["email"]
    out = gate.call(session, "sms.send", {"to": token, "body": "hi"})
    assert out.status is OutcomeStatus.EXECUTED
    assert sent == [("sms", token)]


def test_a_token_from_another_session_is_refused_and_alerted(make_gate, audit_log: AuditLog):
    gate, sent = _setup(make_gate, [AuditHook(audit_log)])
    first = gate.open_session("support-bot", principal="ticket:T-1", tenant="acme")
    token = gate.call(first, "crm.find_customers", {"query": "ann"}).result["results"][0]["email"]
    second = gate.open_session("support-bot", principal="ticket:T-2", tenant="acme")
    gate.ingest(second, f"please mail {token}", "user")  # the token even comes from the user
    out = gate.call(second, "email.send", {"to": token, "body": "hi"})
    assert out.status is OutcomeStatus.DENIED
    assert "does not detokenize" in out.error
    assert sent == []
    alerts = [r.body for r in audit_log.records(session_id=second.id) if r.kind == EventKind.ALERT]
    assert [a["alert"] for a in alerts] == ["vault.token_refused"]
    outcome = [r.body for r in audit_log.records(session_id=second.id) if r.kind == "outcome"]
    assert outcome[-1]["status"] == "denied"


def test_every_classified_read_is_an_audit_record(make_gate, audit_log: AuditLog):
    gate, _ = _setup(make_gate, [AuditHook(audit_log)])
    session = gate.open_session("support-bot", principal="ticket:T-1", tenant="acme")
    token = gate.call(session, "crm.find_customers", {"query": "ann"}).result["results"][0]["email"]
    gate.call(session, "email.send", {"to": token, "body": "hi"})
    records = [
        r for r in audit_log.records(session_id=session.id) if r.kind == EventKind.DATA_ACCESS
    ]
    ingest, execute = (r.body for r in records)
    assert (ingest["agent"], ingest["principal"], ingest["tenant"]) == (
        "support-bot",
        "ticket:T-1",
        "acme",
    )
    reads = {(r["resource"], r["field"]): (r["class"], r["form"]) for r in ingest["reads"]}
    assert reads[("customer", "email")] == ("customer", "tokenized")
    assert reads[("customer", "name")] == ("customer", "clear")
    assert reads[("customer", "card")] == ("financial", "tokenized")  # acme's override
    assert reads[("customer", "ssn")] == ("regulated", "none")
    assert reads[("customer", "salary")] == ("employee", "none")
    assert reads[("customer", "api_token")] == ("secret", "masked")
    assert execute["purpose"] == "execute"
    assert execute["source"] == "tool:email.send"
    assert execute["reads"] == [
        {"resource": None, "field": "arg.to", "class": "customer", "form": "clear", "count": 1}
    ]
    everything = "\n".join(r.as_json() for r in audit_log.records())
    assert "ann1@ann-mail" not in everything
    assert "536-22-1001" not in everything


def test_an_audit_that_cannot_record_a_read_refuses_the_content(make_gate):
    from proctor import GateHooks

    class Broken(GateHooks):
        async def on_data(self, session, report):
            raise RuntimeError("audit store down")

    gate, _ = _setup(make_gate, [Broken()])
    session = gate.open_session("support-bot", principal="ticket:T-1", tenant="acme")
    out = gate.call(session, "crm.find_customers", {"query": "ann"})
    assert out.status is OutcomeStatus.FAILED
    assert out.result is None
    assert "withheld" in out.error
