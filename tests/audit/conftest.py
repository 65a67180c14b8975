"""Audit fixtures: a migrated log signing with the test key (the database fixtures are in
tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from proctor.audit import AuditLog, AuditSettings, Event, EventKind
from proctor.store import StoreSettings

SEED = "5e" * 32  # the test signing key


@pytest.fixture
def make_log() -> Iterator[Callable[..., AuditLog]]:
    """``make_log(url, **settings)``: a migrated log signing with the test key; closed after."""
    made: list[AuditLog] = []

    def make(url: str, **kwargs: Any) -> AuditLog:
        kwargs.setdefault("signing_key", SEED)
        log = AuditLog.open(AuditSettings(store=StoreSettings(database_url=url), **kwargs))
        made.append(log)
        return log

    yield make
    for log in made:
        log.engine.dispose()


def events_for(n: int, session: str = "ses_test") -> list[Event]:
    return [Event(EventKind.DECISION, {"n": i, "tool": "t"}, session) for i in range(n)]
