"""Helpers for tests that need a real PostgreSQL: reachability, and a fresh schema per test.

No test framework is imported here; ``tests/*/conftest.py`` turn an unreachable server into a
skip (or, with ``CI=true``, a failure).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """The server tests use: ``PROCTOR_TEST_POSTGRES_URL``, or the development default."""
    return os.environ.get("PROCTOR_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def postgres_unreachable(url: str | None = None) -> str | None:
    """None if PostgreSQL answers at ``url``; otherwise why not, for a skip message."""
    url = url or postgres_url()
    engine = create_engine(url, connect_args={"connect_timeout": 3}, poolclass=None)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL unreachable at {make_url(url).render_as_string()}: {first}"
    finally:
        engine.dispose()
    return None


def url_with_schema(url: str, schema: str) -> str:
    """``url`` with every connection's ``search_path`` set to ``schema``."""
    u = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return u.render_as_string(hide_password=False)


@contextmanager
def fresh_schema(url: str | None = None, prefix: str = "proctor_t") -> Iterator[str]:
    """Create an empty schema, yield a URL whose connections use it, drop it afterwards."""
    url = url or postgres_url()
    schema = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield url_with_schema(url, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def postgres_required() -> bool:
    """True under CI (``CI=true``): there an unreachable PostgreSQL is a failure, not a skip."""
    return os.environ.get("CI", "").lower() == "true"
