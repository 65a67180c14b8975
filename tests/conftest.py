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


REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The local Redis (``PROCTOR_TEST_REDIS_URL``): skipped when unreachable, except under
    ``CI=true``, where that is a failure."""
    import os

    url = os.environ.get("PROCTOR_TEST_REDIS_URL") or REDIS_URL
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except Exception as exc:
        reason = f"Redis unreachable at {url}: {exc}"
        if postgres_required():
            pytest.fail(f"{reason}; CI=true requires Redis", pytrace=False)
        pytest.skip(reason)
    return url


@pytest.fixture
def redis_prefix(redis_server: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    import secrets

    import redis

    prefix = f"proctor-test-{secrets.token_hex(6)}:"
    yield prefix
    client = redis.Redis.from_url(redis_server)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()
