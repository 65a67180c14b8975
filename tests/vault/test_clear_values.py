"""Clear values stay inside the gate. A tool that may see a token's value gets it at execution
time; after that, the value never reaches the model, the audit log or an approval (whatever
the tool echoes becomes the token again), and the call is judged on the values the tool will
really receive: argument constraints and schemas see the clear value, not its token."""

from __future__ import annotations

import json
import logging
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from proctor import Gate, GateHooks, OutcomeStatus, RuleHit, ToolCall, Verdict, load_policy_text
from proctor.audit import AuditHook, AuditLog

POLICY = """
version: 1
agent: {name: support-bot, role: svc-support, owner: support@example.test}
environments: {production: {max_autonomy: write}}
tools:
  crm.find_customers:
    autonomy: read
    args: {query: string}
    output: {trust: trusted}
  email.send:
    autonomy: write
    args: {to: {type: string, max_length: 60}, body: string}
    constraints:
      - id: email.no-ann-mail
        when: args.to.endsWith("@ann-mail.example.com")
        verdict: deny
        reason: Never mail the ann-mail domain.
      - id: email.beth-needs-approval
        when: args.to.startsWith("beth")
        verdict: hold
        reason: Mail to Beth needs a person.
  email.compose:
    autonomy: write
    args: {mail: object}
  crm.close_account:
    autonomy: write
    flags: [irreversible]
    args: {customer_id: string}
data:
  resources:
    customer:
      tools: [crm.find_customers]
      records: results
      tenant_field: tenant
      fields: {id: customer, email: customer}
  access:
    classes: {customer: tokenized}
  detokenize:
    email.send: [customer]
    email.compose: [customer]
    crm.close_account: [customer]
  scan_text: SCAN
"""

RECORDS = [
    {"tenant": "acme", "id": "C-4711", "email": "ann1@ann-mail.example.com"},
    {"tenant": "acme", "id": "C-4712", "email": "bob2@bob-mail.example.com"},
    {"tenant": "acme", "id": "C-4713", "email": "beth3@beth-mail.example.com"},
    {"tenant": "acme", "id": "C-4714", "email": "lou" * 18 + "@lou-mail.example.com"},  # 75
]


class World:
    """A gate on POLICY whose tools record what they received."""

    def __init__(self, gate: Gate, behaviour: dict) -> None:
        self.gate = gate
        self.received: list[tuple[str, str]] = []
        self.session = gate.open_session("support-bot", principal="ticket:T-1", tenant="acme")

        @gate.tool("crm.find_customers")
        def find(query: str) -> dict:
            return {"results": RECORDS}

        @gate.tool("email.send")
        def send(to: str, body: str) -> str:
            self.received.append(("email.send", to))
            return behaviour.get("email.send", lambda v: "sent")(to)

        @gate.tool("crm.close_account")
        def close(customer_id: str) -> str:
            self.received.append(("crm.close_account", customer_id))
            return behaviour.get("crm.close_account", lambda v: "closed")(customer_id)

    def tokens(self) -> dict[str, str]:
        """Each record's id and email, clear value -> the token the model got."""
        out = self.gate.call(self.session, "crm.find_customers", {"query": "all"})
        assert out.status is OutcomeStatus.EXECUTED, out.error
        pairs: dict[str, str] = {}
        for clear, shown in zip(RECORDS, out.result["results"], strict=True):
            pairs[str(clear["id"])] = shown["id"]
            pairs[str(clear["email"])] = shown["email"]
        assert not set(pairs) & set(pairs.values())
        return pairs


@pytest.fixture
def world(make_gate):
    def build(scan: bool = True, hooks=(), **behaviour) -> World:
        policy = POLICY.replace("SCAN", "true" if scan else "false")
        return World(make_gate(policy, hooks=list(hooks)), behaviour)

    return build


def _raise(message: str):
    def fail(value: str) -> str:
        raise ValueError(message.format(value))

    return fail


def _said(out, log: AuditLog | None = None) -> str:
    parts = [repr(out), json.dumps(out.result, default=str), str(out.error)]
    if log is not None:
        parts += [r.as_json() for r in log.records()]
    return "\n".join(parts)


# -- review finding 2: what a tool echoes of a clear value -----------------------------------


@pytest.mark.parametrize("scan", [True, False])
def test_a_tool_error_never_echoes_a_clear_value(world, scan, audit_log: AuditLog):
    w = world(scan, hooks=[AuditHook(audit_log)], **{"email.send": _raise("mailbox {} gone")})
    tokens = w.tokens()
    address = "bob2@bob-mail.example.com"
    out = w.gate.call(w.session, "email.send", {"to": tokens[address], "body": "hi"})
    assert w.received == [("email.send", address)]  # the tool did get the clear value
    assert out.status is OutcomeStatus.FAILED
    assert f"mailbox {tokens[address]} gone" in out.error
    assert address not in _said(out, audit_log)  # outcome, audit outcome record, data.access
    assert "bob2@" not in _said(out, audit_log)


@pytest.mark.parametrize("scan", [True, False])
def test_a_tool_output_never_echoes_a_clear_value(world, scan):
    w = world(scan, **{"email.send": lambda to: f"queued message for {to}"})
    tokens = w.tokens()
    address = "bob2@bob-mail.example.com"
    out = w.gate.call(w.session, "email.send", {"to": tokens[address], "body": "hi"})
    assert out.status is OutcomeStatus.EXECUTED, out.error
    assert out.result == f"queued message for {tokens[address]}"


def test_a_value_no_detector_knows_is_never_echoed(world, audit_log: AuditLog):
    """A customer id has no pattern: only the gate knows it was a token's value."""
    w = world(
        True,
        hooks=[AuditHook(audit_log)],
        **{"crm.close_account": _raise("account {} is locked")},
    )
    tokens = w.tokens()
    call = ToolCall("crm.close_account", {"customer_id": tokens["C-4711"]}, w.session.id)
    approval = RuleHit("approval.ann", Verdict.ALLOW, "approved by a person")
    held = w.gate.call(w.session, call.tool, call.args)
    assert held.status is OutcomeStatus.PENDING  # irreversible: a person approves it
    out = w.gate.execute_approved(w.session, call, approval, held.decision.rule_ids)
    assert w.received == [("crm.close_account", "C-4711")]
    assert out.status is OutcomeStatus.FAILED
    assert out.error.endswith(f"account {tokens['C-4711']} is locked")
    assert "C-4711" not in _said(out, audit_log)


def test_an_error_that_cannot_be_masked_is_withheld(world, caplog):
    class Unrecordable(GateHooks):
        async def on_data(self, session, report):
            if report.source.startswith("error:"):
                raise RuntimeError("audit store down")

    w = world(
        hooks=[Unrecordable()], **{"email.send": _raise("mailbox {} gone, ask jo@example.com")}
    )
    tokens = w.tokens()
    with caplog.at_level(logging.DEBUG):
        out = w.gate.call(
            w.session, "email.send", {"to": tokens["bob2@bob-mail.example.com"], "body": "x"}
        )
    assert out.status is OutcomeStatus.FAILED
    assert "[message withheld: it could not be masked]" in out.error
    assert "bob2@" not in _said(out)
    assert "bob2@" not in caplog.text  # not in a logged traceback either


_ALNUM = string.ascii_uppercase + string.digits


@settings(max_examples=40, deadline=None)
@given(
    ident=st.text(alphabet=_ALNUM, min_size=4, max_size=16),
    before=st.text(alphabet=string.ascii_letters + " :;,-", max_size=20),
    after=st.text(alphabet=string.ascii_letters + " :;,-", max_size=20),
    raises=st.booleans(),
    scan=st.booleans(),
)
def test_no_echo_of_a_clear_value_ever_reaches_the_model(ident, before, after, raises, scan):
    policy = POLICY.replace("SCAN", "true" if scan else "false")
    gate = Gate(load_policy_text(policy))
    try:

        @gate.tool("crm.find_customers")
        def find(query: str) -> dict:
            return {"results": [{"tenant": "acme", "id": f"X-{ident}", "email": "a@b.example"}]}

        @gate.tool("crm.close_account")
        def close(customer_id: str) -> dict:
            echo = f"{before}{customer_id}{after}"
            if raises:
                raise RuntimeError(echo)
            return {"note": echo, "ids": [customer_id], echo: customer_id}

        session = gate.open_session("support-bot", principal="u:1", tenant="acme")
        token = gate.call(session, "crm.find_customers", {"query": "x"}).result["results"][0]["id"]
        call = ToolCall("crm.close_account", {"customer_id": token}, session.id)
        held = gate.call(session, call.tool, call.args)
        approval = RuleHit("approval.p", Verdict.ALLOW, "approved")
        out = gate.execute_approved(session, call, approval, held.decision.rule_ids)
        assert out.status is (OutcomeStatus.FAILED if raises else OutcomeStatus.EXECUTED)
        assert f"X-{ident}" not in _said(out)
        assert token in _said(out)
    finally:
        gate.close()


# -- review finding 3: the call is judged on the clear values --------------------------------


def test_a_constraint_denies_the_clear_value_behind_a_token(world, audit_log: AuditLog):
    w = world(hooks=[AuditHook(audit_log)])
    tokens = w.tokens()
    address = "ann1@ann-mail.example.com"
    direct = w.gate.call(w.session, "email.send", {"to": address, "body": "hi"})
    assert direct.status is OutcomeStatus.DENIED  # the rule works on the clear value
    out = w.gate.call(w.session, "email.send", {"to": tokens[address], "body": "hi"})
    assert out.status is OutcomeStatus.DENIED
    assert w.received == []  # the tool never ran
    assert "email.no-ann-mail" in out.decision.rule_ids
    assert "Never mail the ann-mail domain." in out.error
    assert "ann1@" not in _said(out)  # not in the decision's reasons or what it saw
    records = list(audit_log.records(session_id=w.session.id))
    assert [r.body["status"] for r in records if r.kind == "outcome"][-1] == "denied"
    assert "ann1@" not in "\n".join(r.as_json() for r in records)


def test_an_allowed_clear_value_behind_a_token_executes(world):
    w = world()
    tokens = w.tokens()
    out = w.gate.call(
        w.session, "email.send", {"to": tokens["bob2@bob-mail.example.com"], "body": "x"}
    )
    assert out.status is OutcomeStatus.EXECUTED, out.error
    assert w.received == [("email.send", "bob2@bob-mail.example.com")]


def test_the_policy_schema_is_checked_on_the_clear_value(world):
    w = world()
    tokens = w.tokens()
    long = str(RECORDS[3]["email"])
    assert len(tokens[long]) <= 60 < len(long)  # the token fits the schema, the address not
    out = w.gate.call(w.session, "email.send", {"to": tokens[long], "body": "x"})
    assert out.status is OutcomeStatus.DENIED
    assert w.received == []
    assert "at most 60 characters" in out.error
    assert "lou" not in _said(out)


class Mail(BaseModel):
    to: str = Field(max_length=60)
    body: str


def test_the_tools_own_signature_is_checked_on_the_clear_value(make_gate):
    gate = make_gate(POLICY.replace("SCAN", "true"))
    received: list[Mail] = []

    @gate.tool("crm.find_customers")
    def find(query: str) -> dict:
        return {"results": RECORDS}

    @gate.tool("email.compose")
    def compose(mail: Mail) -> str:
        received.append(mail)
        return "drafted"

    session = gate.open_session("support-bot", principal="u:1", tenant="acme")
    shown = gate.call(session, "crm.find_customers", {"query": "x"}).result["results"]
    short, long = shown[1]["email"], shown[3]["email"]
    out = gate.call(session, "email.compose", {"mail": {"to": long, "body": "x"}})
    assert out.status is OutcomeStatus.DENIED  # the token fits Mail; the address does not
    assert received == []
    assert "mail.to: String should have at most 60 characters" in out.error
    assert "lou" not in _said(out)  # pydantic quotes the input: not here
    ok = gate.call(session, "email.compose", {"mail": {"to": short, "body": "x"}})
    assert ok.status is OutcomeStatus.EXECUTED, ok.error
    assert received == [Mail(to="bob2@bob-mail.example.com", body="x")]  # inside the model too


def test_a_hold_the_token_did_not_raise_refuses_the_call(world):
    w = world()
    tokens = w.tokens()
    out = w.gate.call(
        w.session, "email.send", {"to": tokens["beth3@beth-mail.example.com"], "body": "x"}
    )
    assert out.status is OutcomeStatus.DENIED  # nobody approved mail to Beth
    assert w.received == []
    assert "email.beth-needs-approval" in out.decision.rule_ids
    assert "beth3" not in _said(out)


def test_an_approved_hold_still_executes_with_the_clear_value(world):
    w = world()
    tokens = w.tokens()
    call = ToolCall("crm.close_account", {"customer_id": tokens["C-4712"]}, w.session.id)
    held = w.gate.call(w.session, call.tool, call.args)
    assert held.status is OutcomeStatus.PENDING
    approval = RuleHit("approval.p", Verdict.ALLOW, "approved by a person")
    out = w.gate.execute_approved(w.session, call, approval, held.decision.rule_ids)
    assert out.status is OutcomeStatus.EXECUTED, out.error
    assert w.received == [("crm.close_account", "C-4712")]


_LOCAL = st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=10)


@settings(max_examples=30, deadline=None)
@given(local=_LOCAL, domain=st.sampled_from(["ann-mail", "bob-mail", "cat-mail"]))
def test_a_denied_address_never_reaches_the_tool_through_a_token(local, domain):
    address = f"x{local}@{domain}.example.com"  # never starts with "beth"
    gate = Gate(load_policy_text(POLICY.replace("SCAN", "false")))
    received: list[str] = []
    try:

        @gate.tool("crm.find_customers")
        def find(query: str) -> dict:
            return {"results": [{"tenant": "acme", "id": "C-1", "email": address}]}

        @gate.tool("email.send")
        def send(to: str, body: str) -> str:
            received.append(to)
            return "sent"

        session = gate.open_session("support-bot", principal="u:1", tenant="acme")
        found = gate.call(session, "crm.find_customers", {"query": "x"})
        token = found.result["results"][0]["email"]
        out = gate.call(session, "email.send", {"to": token, "body": "x"})
        denied = domain == "ann-mail"
        assert out.status is (OutcomeStatus.DENIED if denied else OutcomeStatus.EXECUTED)
        assert received == ([] if denied else [address])
        assert address not in _said(out)
    finally:
        gate.close()
