"""Errors of the audit log. (To move into ``proctor.errors`` with the rest of the tree.)"""

from __future__ import annotations

from proctor.errors import ProctorError


class AuditError(ProctorError):
    """The audit log cannot be written or read."""


class AuditKeyError(AuditError):
    """A signing or public key is missing, unreadable, or not an Ed25519 key."""
