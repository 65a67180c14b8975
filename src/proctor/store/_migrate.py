"""Alembic, driven from code: no ini file, the scripts live in ``proctor/store/migrations``.

Migrations are append-only and named (``0001_audit_log``, ...): never edit one that has been
released; add the next. ``migrate(engine)`` runs at startup, under a lock, so that several
processes starting at once upgrade the schema exactly once.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from proctor.store._engine import WRITE
from proctor.store._errors import StoreError

SCRIPT_LOCATION = "proctor.store:migrations"
VERSION_TABLE = "proctor_alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    """An ini-less Alembic configuration; ``connection`` is handed to ``env.py``."""
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise StoreError("no migrations found in proctor.store.migrations")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None if it has never been migrated."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision``. Raises ``StoreError`` if the database is unreachable
    or a migration fails."""
    try:
        with engine.connect() as conn:
            conn.execution_options(**{WRITE: True})  # SQLite: BEGIN IMMEDIATE
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(
                        "SELECT pg_advisory_xact_lock(hashtext(current_schema() || "
                        "'.proctor_migrate'))"
                    )
                command.upgrade(alembic_config(conn), revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot migrate the store at {engine.url!r}: {exc}") from exc
