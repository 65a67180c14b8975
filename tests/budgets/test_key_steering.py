"""review H2: an agent must not get a fresh `scope: key` account by rewriting the key: per-session
vault tokens of one recipient, case, spaces, zero-width and fullwidth look-alikes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proctor import Gate, OutcomeStatus, load_policy_text
from proctor.budgets import MemoryLedger
from proctor.policy._budget import BudgetAmountError, account_key, normalize_key

MAILER = """
version: 1
agent: {name: mailer, role: svc-mail, owner: ops}
environments: {production: {max_autonomy: write}}
tools:
  crm.find_customers:
    autonomy: read
    args: {query: string}
    output: {trust: trusted}
  email.send:
    autonomy: write
    args: {to: string, body: string}
data:
  resources:
    customer:
      tools: [crm.find_customers]
      records: results
      tenant_field: tenant
      fields: {name: customer, email: customer}
  access:
    fields: {customer.name: clear, customer.email: tokenized}
  detokenize:
    email.send: [customer]
budgets:
  per-recipient:
    limit: 2
    window: 1 day
    scope: key
    key: args.to
    tools: {email.send: "1"}
    on_exceed: deny
"""

CREDIT = """
version: 1
agent: {name: billing-bot, role: svc-billing, owner: finance}
environments: {production: {max_autonomy: write}}
tools:
  billing.credit:
    autonomy: write
    args: {account: string, value: number}
budgets:
  per-account:
    limit: 50
    window: 30 days
    scope: key
    tools:
      billing.credit: {amount: args.value, key: args.account}
    on_exceed: deny
"""

LOOK_ALIKES = ["C1", "c1", " C1", "C1 ", "C\u200b1", "C\uff11"]


def test_a_recipient_token_of_each_session_spends_from_one_account():
    ledger = MemoryLedger()
    gate = Gate(load_policy_text(MAILER), budgets=ledger)
    sent: list[str] = []

    @gate.tool("crm.find_customers")
    def find(query: str) -> dict[str, object]:
        row = {"id": "C-1", "tenant": "acme", "name": "Jane", "email": "jane@example.com"}
        return {"results": [row]}

    @gate.tool("email.send")
    def send(to: str, body: str) -> str:
        sent.append(to)
        return "sent"

    statuses, tokens = [], set()
    try:
        for _ in range(3):
            s = gate.open_session("mailer", principal="u:1", tenant="acme")
            token = gate.call(s, "crm.find_customers", {"query": "jane"}).result["results"][0][
                "email"
            ]
            tokens.add(token)
            for _ in range(2):
                statuses.append(gate.call(s, "email.send", {"to": token, "body": "hi"}).status)
    finally:
        gate.close()
    assert len(tokens) == 3  # a new token every session ...
    assert sent == ["jane@example.com"] * 2  # ... one recipient, one limit of 2
    assert statuses[:2] == [OutcomeStatus.EXECUTED] * 2
    assert set(statuses[2:]) == {OutcomeStatus.DENIED}
    (acct,) = ledger.accounts("mailer/per-recipient", 86400)
    assert acct.key.endswith("key:" + account_key("jane@example.com", "acme"))  # a digest only


def test_a_token_of_another_session_is_denied_not_a_new_account():
    gate = Gate(load_policy_text(MAILER), budgets=MemoryLedger())

    @gate.tool("crm.find_customers")
    def find(query: str) -> dict[str, object]:
        row = {"id": "C-1", "tenant": "acme", "name": "Jane", "email": "jane@example.com"}
        return {"results": [row]}

    @gate.tool("email.send")
    def send(to: str, body: str) -> str:
        return "sent"

    try:
        one = gate.open_session("mailer", principal="u:1", tenant="acme")
        token = gate.call(one, "crm.find_customers", {"query": "jane"}).result["results"][0][
            "email"
        ]
        two = gate.open_session("mailer", principal="u:1", tenant="acme")
        out = gate.call(two, "email.send", {"to": token, "body": "hi"})
    finally:
        gate.close()
    assert out.status is OutcomeStatus.DENIED


def test_six_look_alike_keys_are_one_account():
    gate = Gate(load_policy_text(CREDIT), budgets=MemoryLedger())
    credited: list[float] = []

    @gate.tool("billing.credit")
    def credit(account: str, value: float) -> str:
        credited.append(value)
        return "ok"

    try:
        s = gate.open_session("billing-bot", principal="t:1", tenant="acme")
        got = [gate.call(s, "billing.credit", {"account": a, "value": 40.0}) for a in LOOK_ALIKES]
    finally:
        gate.close()
    assert [o.status for o in got] == [OutcomeStatus.EXECUTED] + [OutcomeStatus.DENIED] * 5
    assert credited == [40.0]
    assert len({account_key(a, "acme") for a in LOOK_ALIKES}) == 1
    assert account_key("C1", "acme") != account_key("C1", "other")  # tenant-scoped


@pytest.mark.parametrize("key", ["", "   ", "\u200b", "\u200b \ufeff"])
def test_a_key_that_normalizes_to_nothing_is_refused(key):
    with pytest.raises(BudgetAmountError):
        normalize_key(key)


@given(st.text(min_size=1, max_size=20))
def test_normalizing_is_idempotent_and_case_blind(text):
    try:
        once = normalize_key(text)
    except BudgetAmountError:
        return
    assert normalize_key(once) == once
    assert normalize_key(text.upper()) == normalize_key(once.upper())
