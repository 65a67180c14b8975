"""Memory fixtures: a store on SQLite, and on PostgreSQL *as an ordinary role that owns the
tables* (a superuser would bypass row-level security, so tests that use the superuser's
connection would prove nothing about it)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from proctor.audit import AuditLog, AuditSettings
from proctor.memory import Memory
from proctor.store import StoreSettings, create_store_engine, migrate
from proctor.vault import KeyedDigest

SEED = "5e" * 32


def app_role_url(pg_url: str) -> Iterator[str]:
    """A login role without superuser or BYPASSRLS that owns ``pg_url``'s schema; its URL."""
    role = f"proctor_app_{secrets.token_hex(5)}"
    url = make_url(pg_url)
    schema = str(url.query["options"]).removeprefix("-csearch_path=")
    admin = create_engine(url.set(query={}), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS'))
        conn.execute(text(f'ALTER SCHEMA "{schema}" OWNER TO "{role}"'))
    try:
        yield url.set(username=role).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": role},
            )
            conn.execute(text(f'DROP OWNED BY "{role}" CASCADE'))
            conn.execute(text(f'DROP ROLE "{role}"'))
        admin.dispose()


@pytest.fixture
def memory_url(db_url: str) -> Iterator[str]:
    """``db_url`` (SQLite, then PostgreSQL), on PostgreSQL as an ordinary role."""
    if db_url.startswith("sqlite"):
        yield db_url
    else:
        yield from app_role_url(db_url)


@pytest.fixture
def pg_app_url(pg_url: str) -> Iterator[str]:
    yield from app_role_url(pg_url)


@pytest.fixture
def engines() -> Iterator[Callable[[str], Engine]]:
    made: list[Engine] = []

    def make(url: str) -> Engine:
        engine = create_store_engine(url)
        migrate(engine)
        made.append(engine)
        return engine

    yield make
    for e in made:
        e.dispose()


@pytest.fixture
def make_memory(engines) -> Iterator[Callable[..., Memory]]:
    """``make_memory(url, audited=False, **kwargs)``: a Memory on a migrated store."""
    logs: list[AuditLog] = []

    def make(url: str, *, audited: bool = False, **kwargs: Any) -> Memory:
        engine = engines(url)
        if audited:
            log = AuditLog.open(
                AuditSettings(store=StoreSettings(database_url=url), signing_key=SEED),
                migrate_schema=False,
            )
            logs.append(log)
            kwargs.setdefault("audit", log)
        kwargs.setdefault("digest", KeyedDigest(b"k" * 32, "test"))
        return Memory(engine, **kwargs)

    yield make
    for log in logs:
        log.engine.dispose()


class Clock:
    """A clock tests move by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
