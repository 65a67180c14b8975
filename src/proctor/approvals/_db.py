"""Transactions and JSON for the approval tables.

Every change is one write transaction: ``BEGIN IMMEDIATE`` on SQLite (the database's write lock
is taken before the first read), and ``SELECT ... FOR UPDATE`` on the rows it changes on
PostgreSQL. Database errors leave as ``StoreError``; a uniqueness conflict (a race the locks
should have prevented) as ``ApprovalStateError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from proctor.errors import ApprovalStateError
from proctor.store import StoreError
from proctor.store._engine import WRITE


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed when the block ends, rolled back if it raises."""
    try:
        with engine.connect() as conn:
            conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn
    except IntegrityError as exc:
        raise ApprovalStateError(f"changed concurrently, nothing was written: {exc.orig}") from exc
    except SQLAlchemyError as exc:
        raise StoreError(f"approval store at {engine.url!r}: {exc}") from exc


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    try:
        with engine.connect() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise StoreError(f"approval store at {engine.url!r}: {exc}") from exc


def dumps(value: object) -> str:
    """Canonical JSON: sorted keys, no NaN (a value JSON cannot carry is an error, not a
    silent change)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def iso(ts: float | None) -> str | None:
    """A UTC timestamp as ISO 8601, to the second."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
