"""Policy texts and request builders shared by the policy tests.

``HEADER`` is exactly seven lines, so a body appended with ``doc()`` starts on line 8; the loader
tests count lines from there.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

from proctor.model import Environment, StepResult
from proctor.policy import CompiledPolicy, DecisionRequest, load_policy_text

HEADER = """\
version: 1
agent:
  name: bot
  role: svc-bot
  owner: owners@example.test
environments:
  dev: {max_autonomy: write}
"""


def doc(body: str) -> str:
    """The header plus ``body`` (dedented): the body's first line is line 8 of the file."""
    return HEADER + textwrap.dedent(body)


# One policy that exercises every verdict path. Grants dev and staging, not production.
MAIN = """\
version: 1
agent: {name: bot, role: svc-bot, owner: owners@example.test}
environments:
  dev: {max_autonomy: execute}
  staging: {max_autonomy: write}
defaults:
  approval: {approvers: 1, group: leads}
tools:
  lookup:
    autonomy: read
    args:
      id: {type: string, pattern: "^C[0-9]+$"}
      limit: {type: integer, required: false, minimum: 1, maximum: 100}
      verbose: {type: boolean, required: false}
      tags: {type: array, items: string, required: false, max_items: 3}
  note.add:
    autonomy: draft
    args: {text: {type: string, max_length: 10}}
  refund:
    autonomy: write
    flags: [moves_money, irreversible]
    approval: {on_flags: false}
    args:
      amount: number
      currency: {type: string, enum: [USD, EUR]}
    constraints:
      - id: refund.over-100
        when: args.amount > 100.0
        verdict: hold
        approvers: 2
        group: finance
        reason: Refunds above 100 need finance.
      - id: refund.over-1000
        when: args.amount > 1000.0
        verdict: deny
        reason: Refunds above 1000 are never made by an agent.
  wire:
    autonomy: write
    flags: [moves_money]
    args: {amount: number}
  publish:
    autonomy: write
    flags: [external]
  email.send:
    autonomy: write
    flags: [customer_visible, external]
    approval: {approvers: 2, group: comms}
    args:
      to: {type: array, items: string}
      subject: string
    constraints:
      - id: email.internal
        when: args.to.all(r, r.endsWith("@example.test"))
        verdict: allow
        reason: Internal recipients only.
      - id: email.urgent
        when: args.subject.startsWith("URGENT")
        verdict: hold
        group: legal
        reason: Urgent mail is reviewed by legal.
      - id: email.too-many
        when: size(args.to) > 3
        verdict: deny
        reason: At most 3 recipients.
  customer.delete:
    autonomy: execute
    flags: [irreversible]
    args: {id: string}
  db.migrate:
    autonomy: write
    environments: [dev]
"""

# The refund tool of the property tests: no minimum, so every finite float is a valid amount.
REFUND = doc(
    """\
    tools:
      refund:
        autonomy: write
        args: {amount: number}
        constraints:
          - {id: refund.hold, when: args.amount > 100.0, verdict: hold}
          - {id: refund.deny, when: args.amount > 1000.0, verdict: deny}
    """
)

# Rate limits: per tool, per session, per agent, and session-wide defaults.
RATED = """\
version: 1
agent: {name: bot, role: svc-bot, owner: owners@example.test}
environments:
  dev: {max_autonomy: write}
defaults:
  approval: {approvers: 1, group: leads}
  rate_limits: {per_session: 200/hour, per_agent: 1000/day}
tools:
  refund:
    autonomy: write
    args: {amount: number}
    rate_limit: {per_session: 5/hour, per_agent: 100/day}
  search:
    autonomy: read
    rate_limit: {per_session: 10/minute, on_exceed: hold}
  ping:
    autonomy: read
"""

UNRATED = doc(
    """\
    tools:
      ping: {autonomy: read}
    """
)


def load(text: str, file: str = "policy.yaml") -> CompiledPolicy:
    return load_policy_text(text, file)


def request(
    tool: str,
    args: Mapping[str, object] | None = None,
    *,
    agent: str = "bot",
    env: Environment = Environment.DEV,
    usage: Mapping[str, int] | None = None,
    extra: Sequence[StepResult] = (),
    principal: str = "alice",
    tenant: str = "acme",
) -> DecisionRequest:
    return DecisionRequest(
        tool=tool,
        args=dict(args or {}),
        agent=agent,
        environment=env,
        principal=principal,
        tenant=tenant,
        usage=usage,
        extra_steps=tuple(extra),
    )
