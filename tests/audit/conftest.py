"""Database fixtures (the same as tests/store/conftest.py): a SQLite file per test, and a
fresh PostgreSQL schema per test.

PostgreSQL tests run for real. When the server is unreachable they are skipped, with the reason,
except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from proctor.audit import AuditLog, AuditSettings, Event, EventKind
from proctor.store import StoreSettings
from proctor.store.testing import (
    fresh_schema,
    postgres_required,
    postgres_unreachable,
    postgres_url,
)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    reason = postgres_unreachable()
    if reason is not None:
        if postgres_required():
            pytest.fail(f"{reason}; CI=true requires PostgreSQL", pytrace=False)
        pytest.skip(reason)
    return postgres_url()


@pytest.fixture
def pg_url(postgres_server: str) -> Iterator[str]:
    with fresh_schema(postgres_server) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'proctor.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """Each test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'proctor.db'}"
    return str(request.getfixturevalue("pg_url"))


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
