"""A session is one agent run, for one principal, in one tenant and one environment."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from proctor.model._enums import Environment


def new_id(prefix: str) -> str:
    """A random, URL-safe identifier such as ``ses_3fa9c1d2e4b5a6f7``."""
    return f"{prefix}_{secrets.token_hex(8)}"


@dataclass(frozen=True, slots=True)
class Session:
    """Who acts, for whom, where. Immutable: a new run is a new session."""

    agent: str
    principal: str
    tenant: str
    environment: Environment
    id: str = field(default_factory=lambda: new_id("ses"))
    opened_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    # What the session is about, set by the host application (never by the model): for
    # dynamic data scopes such as the customer a ticket belongs to (``session.scope.customer``).
    scope: Mapping[str, str] = field(default_factory=dict, hash=False)
