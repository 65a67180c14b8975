"""Approval requests. This module holds the in-memory queue the gate uses by default; the
durable queue with the two-person rule and exactly-once execution arrives with the store."""

from __future__ import annotations

from proctor.approvals._memory import InMemoryApprovals, PendingApproval

__all__ = ["InMemoryApprovals", "PendingApproval"]
