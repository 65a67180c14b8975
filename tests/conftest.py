"""Database fixtures for every test: a SQLite file per test, and a fresh PostgreSQL schema per
test.

PostgreSQL tests run for real. When the server is unreachable they are skipped, with the reason,
except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
