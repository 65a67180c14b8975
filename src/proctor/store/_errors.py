"""Errors of the store. (To move into ``proctor.errors`` with the rest of the tree.)"""

from __future__ import annotations

from proctor.errors import ProctorError


class StoreError(ProctorError):
    """The store is unreachable, misconfigured, or its schema cannot be brought up to date."""
