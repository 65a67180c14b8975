"""An approved call whose tool was given the clear value of a token and echoed it in its error:
the request's stored error, its audit records and the webhook's text carry the token, never
the value (review finding 2, end to end through the durable queue)."""

from __future__ import annotations

import json

from proctor import Gate, OutcomeStatus, load_policy_text
from proctor.approvals import ApprovalQueue, ApprovalState, Role, WebhookNotifier
from proctor.audit import AuditHook, AuditLog, AuditSettings
from proctor.store import StoreSettings

from ._world import SEED
from .test_notify import SECRET, Receiver, Sleeps

POLICY = """
version: 1
agent: {name: support-bot, role: svc-support, owner: support-owner}
environments: {production: {max_autonomy: write}}
defaults:
  approval: {approvers: 1, group: support, expires_after: 1 hour}
tools:
  crm.find_customers:
    autonomy: read
    args: {query: string}
    output: {trust: trusted}
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
      fields: {id: customer}
  access:
    classes: {customer: tokenized}
  detokenize:
    crm.close_account: [customer]
"""

CLEAR = "C-4711"


def test_an_approved_calls_error_names_the_token_in_the_queue_audit_and_webhook(db_url):
    receiver = Receiver()
    log = AuditLog.open(AuditSettings(store=StoreSettings(database_url=db_url), signing_key=SEED))
    notifier = WebhookNotifier(receiver.url, SECRET, sleep=Sleeps())
    queue = ApprovalQueue.open(db_url, audit=log, notifier=notifier)
    gate = Gate(load_policy_text(POLICY), approvals=queue, hooks=[AuditHook(log)])
    received: list[str] = []
    try:

        @gate.tool("crm.find_customers")
        def find(query: str) -> dict:
            return {"results": [{"tenant": "acme", "id": CLEAR}]}

        @gate.tool("crm.close_account")
        def close(customer_id: str) -> str:
            received.append(customer_id)
            raise RuntimeError(f"account {customer_id} is locked by legal hold")

        root_key = queue.access.add("root", [Role.ADMIN], by=None)
        root = queue.access.authenticate("root", root_key)
        alice = queue.access.authenticate(
            "alice", queue.access.add("alice", [Role.APPROVER], ["support"], by=root)
        )
        session = gate.open_session("support-bot", principal="ticket:T-1", tenant="acme")
        token = gate.call(session, "crm.find_customers", {"query": "x"}).result["results"][0]["id"]
        held = gate.call(session, "crm.close_account", {"customer_id": token})
        assert held.status is OutcomeStatus.PENDING
        queue.approve(held.approval_id, by=alice)
        queue.ticket(held, session).outcome(timeout=30)
        assert received == [CLEAR]  # the tool got the clear value

        req = queue.get(held.approval_id)
        assert req.state is ApprovalState.FAILED
        assert f"account {token} is locked" in (req.error or "")
        assert notifier.flush(30)
        texts = [json.loads(body)["text"] for _, body in receiver.posts]
        # the failure is posted; the webhook names arguments by name (the token is one)
        assert any("account <customer_id> is locked" in t for t in texts)
        said = [repr(req), *texts, *(r.as_json() for r in log.records())]
        assert not [s for s in said if CLEAR in s]
    finally:
        gate.close()
        queue.close()
        log.engine.dispose()
        receiver.close()
