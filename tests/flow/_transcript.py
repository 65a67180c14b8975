"""Transcript helpers for flow tests: ``user()``, ``tool_result()``, ``decide()`` read like a
trace. The policy is a small mail-and-money agent: tool outputs are untrusted third-party text
unless a tool declares its fields as system of record."""

from __future__ import annotations

from typing import Any

import proctor
from proctor import Gate, Outcome, Session

POLICY = """
version: 1
agent: {name: mailer, role: svc-mailer, owner: ops@example.test}
environments:
  production: {max_autonomy: execute}
flow:
  egress: {domains: [example.test], accounts: [DE89370400440532013000]}
tools:
  mail.read:
    autonomy: read
    args: {folder: string}
    output:
      trust: trusted
      confidentiality: personal
      fields: {body: untrusted, subject: untrusted}
  web.fetch:
    autonomy: read
    flags: [external]
    args: {url: string}
  mail.send:
    autonomy: write
    flags: [external]
    args:
      to: {type: array, items: string}
      subject: string
      body: string
  notes.write:
    autonomy: write
    args: {title: string, text: string}
  files.delete:
    autonomy: write
    flags: [irreversible]
    approval: {on_flags: false}
    args: {file_id: string}
  bank.pay:
    autonomy: write
    flags: [moves_money, external]
    approval: {on_flags: false}
    args:
      iban: string
      amount: number
      memo: {type: string, required: false}
"""


class Transcript:
    """``t.user("...")``, ``t.tool_result("mail.read", {...})``, ``t.call("mail.send", ...)``."""

    def __init__(self, gate: Gate, session: Session) -> None:
        self.gate = gate
        self.session = session

    def user(self, text: str) -> proctor.flow.Labeled:
        return self.gate.ingest(self.session, text, "user")

    def tool_result(self, tool: str, output: object) -> proctor.flow.Labeled:
        return self.gate.ingest(self.session, output, f"tool:{tool}")

    def untrusted(self, text: str, source: str = "web") -> proctor.flow.Labeled:
        return self.gate.ingest(self.session, text, source)

    def decide(self, tool: str, **args: object) -> proctor.Decision:
        return self.gate.decide(self.session, tool, args)

    def provenance(self, tool: str, **args: object) -> dict[str, Any]:
        d = self.decide(tool, **args)
        step = d.step(proctor.Step.FLOW)
        assert step is not None
        hit = next(h for h in step.hits if h.rule_id == "flow.provenance")
        return {k: v["provenance"] for k, v in hit.seen.items()}  # type: ignore[index]


def flow_rules(decision: proctor.Decision) -> list[str]:
    """The flow rules that decided (verdict above ALLOW)."""
    step = decision.step(proctor.Step.FLOW)
    if step is None:
        return []
    return sorted(h.rule_id for h in step.hits if h.verdict is not proctor.Verdict.ALLOW)


def ran(outcome: Outcome) -> bool:
    return outcome.status is proctor.OutcomeStatus.EXECUTED
