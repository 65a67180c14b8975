"""Approval settings from the environment: the webhook and the break-glass cap."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from proctor.approvals._notify import WebhookNotifier
from proctor.errors import ApprovalConfigError


@dataclass(frozen=True, slots=True)
class ApprovalSettings:
    """``webhook_url`` and ``webhook_secret``: where notifications go and the HMAC key that
    signs them (both or neither). ``max_break_glass_minutes``: the longest override an admin
    may issue (each policy may allow less)."""

    webhook_url: str | None = None
    webhook_secret: str | None = None
    max_break_glass_minutes: int = 240

    def __post_init__(self) -> None:
        if bool(self.webhook_url) != bool(self.webhook_secret):
            raise ApprovalConfigError(
                "PROCTOR_WEBHOOK_URL and PROCTOR_WEBHOOK_SECRET go together: set both or neither"
            )
        if not 1 <= self.max_break_glass_minutes <= 1440:
            raise ApprovalConfigError(
                f"max_break_glass_minutes must be 1 to 1440, got {self.max_break_glass_minutes}"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApprovalSettings:
        """``PROCTOR_WEBHOOK_URL``, ``PROCTOR_WEBHOOK_SECRET``,
        ``PROCTOR_BREAK_GLASS_MAX_MINUTES`` (``os.environ`` by default)."""
        env = os.environ if environ is None else environ
        raw = env.get("PROCTOR_BREAK_GLASS_MAX_MINUTES") or "240"
        try:
            cap = int(raw)
        except ValueError:
            raise ApprovalConfigError(
                f"PROCTOR_BREAK_GLASS_MAX_MINUTES must be a whole number, got {raw!r}"
            ) from None
        return cls(
            webhook_url=env.get("PROCTOR_WEBHOOK_URL") or None,
            webhook_secret=env.get("PROCTOR_WEBHOOK_SECRET") or None,
            max_break_glass_minutes=cap,
        )

    def notifier(self) -> WebhookNotifier | None:
        if not self.webhook_url or not self.webhook_secret:
            return None
        return WebhookNotifier(self.webhook_url, self.webhook_secret)
