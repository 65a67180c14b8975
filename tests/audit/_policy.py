"""The refunds policy the audit tests run under (kept here so that edits to examples/ do not
change what these tests check)."""

from __future__ import annotations

from proctor import CompiledPolicy, load_policy_text

REFUNDS = """
version: 1
agent:
  name: refunds-bot
  role: svc-refunds
  owner: finance-ops@example.test
environments:
  production: {max_autonomy: write}
defaults:
  approval: {approvers: 1, group: finance}
tools:
  orders.get:
    autonomy: read
    args: {order_id: string}
  payments.refund:
    autonomy: write
    flags: [moves_money]
    approval: {on_flags: false}
    args:
      order_id: string
      amount: {type: number, minimum: 0}
    constraints:
      - id: refund.over-100
        when: args.amount > 100.0
        verdict: hold
        reason: Refunds above 100 need a finance approver.
      - id: refund.over-1000
        when: args.amount > 1000.0
        verdict: deny
        reason: Refunds above 1000 are never made by an agent.
"""


def refunds_policy() -> CompiledPolicy:
    return load_policy_text(REFUNDS, "refunds.yaml")
