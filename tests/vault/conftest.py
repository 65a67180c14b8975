"""Fixtures for data access tests: a gate on the support policy (closed after), a session of
tenant acme, and an audit log on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from proctor import Gate, load_policy_text
from proctor.audit import AuditLog, AuditSettings
from proctor.store import StoreSettings

from ._policy import SUPPORT

SEED = "5e" * 32


@pytest.fixture
def make_gate() -> Iterator[Callable[..., Gate]]:
    made: list[Gate] = []

    def make(policy: str = SUPPORT, **kwargs: Any) -> Gate:
        gate = Gate(load_policy_text(policy, "support.yaml"), **kwargs)
        made.append(gate)
        return gate

    yield make
    for gate in made:
        gate.close()


@pytest.fixture
def audit_log(db_url: str) -> Iterator[AuditLog]:
    log = AuditLog.open(AuditSettings(store=StoreSettings(database_url=db_url), signing_key=SEED))
    yield log
    log.engine.dispose()
