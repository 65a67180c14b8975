"""The policy's data and credentials sections: what loads, and file:line errors for what
does not."""

from __future__ import annotations

import pytest

from proctor import PolicyError, load_policy_text

HEAD = """\
version: 1
agent: {name: bot, role: svc, owner: team@example.test}
environments: {production: {max_autonomy: write}}
tools:
  crm.find: {autonomy: read, args: {q: string}}
  mail.send: {autonomy: write, args: {to: string}}
"""


def _load(tail: str):
    return load_policy_text(HEAD + tail, "p.yaml")


def test_a_full_data_section_loads():
    pol = _load(
        """\
data:
  resources:
    customer:
      tools: [crm.find]
      records: results
      tenant_field: tenant
      scope: {customer_id: session.scope.customer}
      fields: {email: customer, card: {class: financial, kind: card}}
  access:
    classes: {customer: tokenized, secret: none}
    fields: {customer.card: masked}
  tenants:
    acme: {classes: {customer: clear}}
  detokenize: {mail.send: [customer]}
credentials:
  ttl_minutes: 10
  tools:
    mail.send: {secrets: {smtp_password: "secret://smtp"}}
"""
    )
    data = pol.spec.data
    assert data is not None
    assert data.resources["customer"].fields["card"].kind == "card"
    assert pol.spec.credentials is not None
    assert pol.spec.credentials.ttl_minutes == 10


@pytest.mark.parametrize(
    ("tail", "where", "message"),
    [
        (
            "data:\n  resources:\n    c:\n      tools: [crm.nope]\n",
            "p.yaml:10: data.resources.c.tools.0",
            "unknown tool 'crm.nope'",
        ),
        (
            "data:\n  access:\n    classes: {secret: clear}\n",
            "p.yaml:9: data.access.classes.secret",
            "secrets may be read only masked or not at all",
        ),
        (
            "data:\n  access:\n    classes: {customer: visible}\n",
            "p.yaml:9: data.access.classes.customer",
            "'clear', 'masked', 'tokenized' or 'none'",
        ),
        (
            "data:\n  resources:\n    c:\n      tools: [crm.find]\n      fields: {k: secret}\n"
            "  access:\n    fields: {c.k: tokenized}\n",
            "p.yaml:13: data.access.fields.c.k",
            "c.k is a secret",
        ),
        (
            "data:\n  access:\n    fields: {c.k: clear}\n",
            "p.yaml:9: data.access.fields.c.k",
            "unknown resource 'c'",
        ),
        (
            "data:\n  resources:\n    c:\n      tools: [crm.find]\n"
            "      scope: {id: ticket.customer}\n",
            "p.yaml:11: data.resources.c.scope",
            "is not a session value",
        ),
        (
            "data:\n  resources:\n    c:\n      tools: [crm.find]\n      fields: {k: personal}\n",
            "p.yaml:11: data.resources.c.fields.k.class",
            "'customer', 'employee', 'financial', 'regulated' or 'secret'",
        ),
        (
            "data:\n  detokenize: {mail.send: [secret]}\n",
            "p.yaml:8: data.detokenize.mail.send",
            "secrets are never tokenized",
        ),
        (
            "credentials:\n  tools:\n    mail.send: {secrets: {pw: 'vault:smtp'}}\n",
            "p.yaml:9: credentials.tools.mail.send.secrets.pw",
            "not a secret reference",
        ),
        (
            "credentials:\n  ttl_minutes: 600\n",
            "p.yaml:8: credentials.ttl_minutes",
            "less than or equal to 60",
        ),
        (
            "credentials:\n  tools:\n    nope: {}\n",
            "p.yaml:9: credentials.tools.nope",
            "unknown tool 'nope'",
        ),
    ],
)
def test_errors_name_the_file_line_and_field(tail, where, message):
    with pytest.raises(PolicyError) as exc:
        _load(tail)
    text = str(exc.value)
    assert where in text, text
    assert message in text, text


def test_two_resources_cannot_claim_one_tool():
    with pytest.raises(PolicyError, match="already returns resource 'a'"):
        _load("data:\n  resources:\n    a: {tools: [crm.find]}\n    b: {tools: [crm.find]}\n")
