"""A log signed before Merkle roots (version 1 checkpoints) is upgraded by migration
0011_receipts: its old checkpoints verify as they were signed, the next one signs the tree
since the last old one, and only records covered by a version 2 checkpoint get a proof."""

from __future__ import annotations

import pytest

from proctor.audit import (
    AuditLog,
    Event,
    EventKind,
    Signer,
    complete_receipt,
    receipt_for,
    verify,
    verify_receipt,
)
from proctor.audit._checkpoints import utc_now
from proctor.errors import ReceiptError
from proctor.model import Receipt
from proctor.store import create_store_engine, migrate

from .conftest import SEED

SIGNER = Signer.from_seed(SEED)


def outcome(n: int) -> Event:
    body = {
        "call_id": f"call_{n}",
        "tool": "payments.refund",
        "status": "denied",
        "verdict": "DENY",
        "rule_ids": ["refund.over-1000"],
        "policy": "refunds-bot@0123456789ab",
        "policy_sha256": None,
        "agent": "refunds-bot",
        "tenant": "acme",
        "environment": "production",
        "principal": "hmac-sha256:audit-x:" + "00" * 32,
        "args_commitment": Receipt.commit(SIGNER.receipt_salt(f"rec_{n}"), {"n": n}),
        "commitment_key": SIGNER.key_id,
    }
    return Event(EventKind.OUTCOME, body, "ses_1", id=f"rec_{n}")


def test_old_checkpoints_stay_verifiable_after_the_upgrade(db_url):
    engine = create_store_engine(db_url)
    migrate(engine, "0008_gateway")
    log = AuditLog(engine, SIGNER, checkpoint_every=10**6, checkpoint_seconds=10**9)
    old = [log.append(outcome(n)) for n in range(7)]
    with engine.begin() as conn:  # what the code before 0011 signed: (seq, head hash) only
        for r in (old[2], old[6]):
            conn.exec_driver_sql(
                "INSERT INTO proctor_audit_checkpoints "
                "(seq, head_hash, ts, key_id, public_key, signature) VALUES "
                f"({r.seq}, '{r.hash}', '{utc_now()}', '{SIGNER.key_id}', "
                f"'{SIGNER.public_hex}', '{SIGNER.sign(r.seq, r.hash)}')"
            )
        conn.exec_driver_sql("UPDATE proctor_audit_head SET checkpoint_seq = 7")

    migrate(engine)
    assert [(c.version, c.root, c.tree_from) for c in log.checkpoints()] == [(1, None, None)] * 2
    assert verify(engine, [SIGNER.public_key]).ok
    new = [log.append(outcome(n)) for n in range(7, 12)]
    cp = log.checkpoint()
    assert cp is not None
    assert (cp.version, cp.tree_from, cp.seq) == (2, 7, 12)
    report = verify(engine, [SIGNER.public_key])
    assert report.ok, report.problems
    assert report.checkpoints == 3

    receipt = complete_receipt(engine, receipt_for(new[1], SIGNER))
    check = verify_receipt(receipt, [SIGNER.public_key], require_proof=True, args={"n": 8})
    assert (check.checkpoint_seq, check.args_checked) == (12, True)
    signed_only = receipt_for(old[3], SIGNER)
    assert not verify_receipt(signed_only, [SIGNER.public_key]).included
    with pytest.raises(ReceiptError, match="before checkpoints carried Merkle roots"):
        complete_receipt(engine, signed_only)
    engine.dispose()
