"""The tamper-evident audit log: hash-chained records, signed checkpoints, verification.

``AuditLog.open()`` connects to the store of ``AuditSettings.from_env()`` and migrates it;
``AuditHook(log)`` makes a gate record every decision and outcome; ``verify(engine, keys)``
recomputes the chain and names the first bad record. Every recorded outcome gets a signed
``Receipt`` (``receipt_for``); ``complete_receipt`` adds the Merkle inclusion proof of its
record once a checkpoint covers it, and ``verify_receipt`` checks both offline.
"""

from __future__ import annotations

from proctor.audit import _events as events
from proctor.audit._canonical import canonical_json, mask_args, mask_value, record_hash
from proctor.audit._checkpoints import Checkpoint
from proctor.audit._errors import AuditError, AuditKeyError
from proctor.audit._events import Event, EventKind
from proctor.audit._hook import AuditHook
from proctor.audit._keys import (
    Signer,
    checkpoint_message,
    parse_public_key,
    tree_checkpoint_message,
)
from proctor.audit._log import AuditLog, Record
from proctor.audit._merkle import inclusion_path, leaf_hash, merkle_root, root_from_path
from proctor.audit._receipts import (
    ReceiptCheck,
    complete_receipt,
    find_outcome,
    receipt_for,
    verify_receipt,
)
from proctor.audit._settings import AuditSettings
from proctor.audit._story import describe, export_jsonl, story
from proctor.audit._verify import Fault, Problem, Report, verify

__all__ = [
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
