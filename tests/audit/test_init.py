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
        "Record",
        "Report",
        "Signer",
        "canonical_json",
        "checkpoint_message",
        "describe",
        "events",
        "export_jsonl",
        "mask_args",
        "mask_value",
        "parse_public_key",
        "record_hash",
        "story",
        "verify",
    ]
    for name in proctor.audit.__all__:
        assert hasattr(proctor.audit, name)
