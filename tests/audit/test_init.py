"""The public API of ``proctor.audit`` is what ``__all__`` says."""

from __future__ import annotations

import proctor.audit


def test_audit_public_names():
    assert sorted(proctor.audit.__all__) == [
        "AuditError",
        "AuditHook",
        "AuditKeyError",
        "AuditLog",
        "AuditSettings",
        "Checkpoint",
        "Event",
        "EventKind",
        "Fault",
        "Problem",
        "ReceiptCheck",
        "Record",
        "Report",
        "Signer",
        "canonical_json",
        "checkpoint_message",
        "complete_receipt",
        "describe",
        "events",
        "export_jsonl",
        "find_outcome",
        "inclusion_path",
        "leaf_hash",
        "mask_args",
        "mask_value",
        "merkle_root",
        "parse_public_key",
        "receipt_for",
        "record_hash",
        "root_from_path",
        "story",
        "tree_checkpoint_message",
        "verify",
        "verify_receipt",
    ]
    for name in proctor.audit.__all__:
        assert hasattr(proctor.audit, name)
