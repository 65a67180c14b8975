"""The tamper-evident audit log: hash-chained records, signed checkpoints, verification.

``AuditLog.open()`` connects to the store of ``AuditSettings.from_env()`` and migrates it;
``AuditHook(log)`` makes a gate record every decision and outcome; ``verify(engine, keys)``
recomputes the chain and names the first bad record.
"""

from __future__ import annotations

from proctor.audit import _events as events
from proctor.audit._canonical import canonical_json, mask_args, mask_value, record_hash
from proctor.audit._errors import AuditError, AuditKeyError
from proctor.audit._events import Event, EventKind
from proctor.audit._hook import AuditHook
from proctor.audit._keys import Signer, checkpoint_message, parse_public_key
from proctor.audit._log import AuditLog, Checkpoint, Record
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
