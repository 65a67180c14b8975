"""The support policy the data access tests run under, and record builders whose values are
made at run time (nothing a scanner would flag is written out here)."""

from __future__ import annotations

SUPPORT = """
version: 1
agent:
  name: support-bot
  role: svc-support
  owner: support@example.test
environments:
  production: {max_autonomy: write}
  staging: {max_autonomy: write}
tools:
  crm.find_customers:
    autonomy: read
    args: {query: string}
    output: {trust: trusted}
  crm.get_customer:
    autonomy: read
    args: {customer_id: string}
    output: {trust: trusted}
  notes.read:
    autonomy: read
    args: {ticket: string}
  email.send:
    autonomy: write
    args: {to: string, body: string}
  sms.send:
    autonomy: write
    args: {to: string, body: string}
data:
  resources:
    customer:
      tools: [crm.find_customers]
      records: results
      tenant_field: tenant
      fields:
        name: customer
        email: customer
        phone: customer
        salary: {class: employee}
        card: financial
        iban: financial
        ssn: regulated
        api_token: secret
    ticket_customer:
      tools: [crm.get_customer]
      tenant_field: tenant
      scope: {customer_id: session.scope.customer}
      fields:
        email: customer
  access:
    classes: {customer: masked, employee: none, financial: masked, regulated: none}
    fields: {customer.email: tokenized, customer.name: clear}
  tenants:
    acme:
      classes: {financial: tokenized}
  detokenize:
    email.send: [customer]
"""


def card(last: int) -> str:
    """A Luhn-valid test card number 4000 0000 0000 00XY whose check digit is computed."""
    body = f"40000000000000{last % 10}"
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def customer(tenant: str, n: int, who: str) -> dict[str, object]:
    """One customer record of ``tenant``, its values all containing ``who``."""
    return {
        "id": f"{who}-{n}",
        "tenant": tenant,
        "name": f"{who.title()} Person{n}",
        "email": f"{who}{n}@{who}-mail.example.com",
        "phone": f"+44 20 7946 {n:04d}",
        "salary": 50_000 + n,
        "card": card(n),
        "iban": "GB82WEST12345698765432",
        "ssn": f"536-22-{1000 + n}",
        "api_token": "tok" + "en-" + who * 3,
        "notes": f"Prefers contact by email at {who}{n}.alt@{who}-mail.example.com",
    }
