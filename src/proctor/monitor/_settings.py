"""Monitor settings from the environment: the alert webhook."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from proctor.approvals import WebhookNotifier
from proctor.errors import MonitorError


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    """``webhook_url`` and ``webhook_secret``: where alerts are POSTed, signed with HMAC-SHA256
    (both or neither; the same format as approval notifications: ``X-Proctor-Signature``)."""

    webhook_url: str | None = None
    webhook_secret: str | None = None

    def __post_init__(self) -> None:
        if bool(self.webhook_url) != bool(self.webhook_secret):
            raise MonitorError(
                "PROCTOR_MONITOR_WEBHOOK_URL and PROCTOR_MONITOR_WEBHOOK_SECRET go together: "
                "set both or neither"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MonitorSettings:
        env = os.environ if environ is None else environ
        return cls(
            webhook_url=env.get("PROCTOR_MONITOR_WEBHOOK_URL") or None,
            webhook_secret=env.get("PROCTOR_MONITOR_WEBHOOK_SECRET") or None,
        )

    def notifier(self) -> WebhookNotifier | None:
        if not self.webhook_url or not self.webhook_secret:
            return None
        return WebhookNotifier(self.webhook_url, self.webhook_secret)
