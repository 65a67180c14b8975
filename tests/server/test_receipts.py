"""The gateway hands the caller the audit log's signed receipt with every decide and call
answer, on SQLite and PostgreSQL; it verifies offline and completes once checkpointed."""

from __future__ import annotations

import pytest

from proctor.audit import Signer, complete_receipt, verify_receipt
from proctor.errors import ReceiptError
from proctor.model import Receipt

from ._world import SEED

KEY = Signer.from_seed(SEED).public_key


def test_decide_and_call_answers_carry_a_verifiable_receipt(world):
    sid = world.open()
    answers = [
        world.post(
            f"/v1/sessions/{sid}/decide",
            "bot",
            {"tool": "payments.refund", "args": {"order_id": "O-1", "amount": amount}},
        ).json()
        for amount in (40.0, 250.0, 5000.0)
    ]
    answers.append(
        world.post(
            f"/v1/sessions/{sid}/call", "bot", {"tool": "orders.fetch", "args": {"order_id": "O-7"}}
        ).json()
    )
    sent = [{"order_id": "O-1", "amount": a} for a in (40.0, 250.0, 5000.0)]
    sent.append({"order_id": "O-7"})
    receipts = []
    for body, args in zip(answers, sent, strict=True):
        receipt = Receipt.from_dict(body["receipt"])
        check = verify_receipt(receipt, [KEY], args=args)  # the caller holds the opening
        assert check.args_checked
        assert receipt.session_id == sid
        other = {**args, "order_id": "O-9"}
        with pytest.raises(ReceiptError, match="not the arguments the receipt commits to"):
            verify_receipt(receipt, [KEY], args=other)
        assert (receipt.call_id, receipt.status, receipt.verdict) == (
            body["call_id"],
            body["status"],
            body["verdict"],
        )
        assert list(receipt.rule_ids) == body["rule_ids"]
        assert not check.included
        receipts.append(receipt)
    assert [r.status for r in receipts] == ["allowed", "pending", "denied", "executed"]
    world.gateway.audit.checkpoint()
    for receipt in receipts:
        done = complete_receipt(world.gateway.engine, receipt)
        assert verify_receipt(done, [KEY], require_proof=True).included
