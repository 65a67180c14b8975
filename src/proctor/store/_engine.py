"""The SQLAlchemy engine: SQLite in WAL mode with explicit write transactions, or PostgreSQL.

SQLite's Python driver opens transactions lazily and only before DML, so a read-then-write
(read the chain head, append after it) would race with other writers. The engine takes over:
the driver never begins on its own, and every transaction begins with ``BEGIN`` or, on a
connection marked ``execution_options(proctor_write=True)``, ``BEGIN IMMEDIATE``, which takes
the database's write lock before the first read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

from proctor.store._settings import StoreSettings

WRITE = "proctor_write"


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def create_store_engine(settings: StoreSettings | str) -> Engine:
    """An engine for ``settings`` (or a URL). Connects lazily: nothing is opened here."""
    settings = StoreSettings(database_url=settings) if isinstance(settings, str) else settings
    url = make_url(settings.url)
    if url.get_backend_name() != "sqlite":
        args: dict[str, Any] = {}
        if url.get_backend_name() == "postgresql":
            args["connect_timeout"] = 5
        return create_engine(url, pool_pre_ping=True, connect_args=args)
    engine = create_engine(url, connect_args={"timeout": 30.0, "check_same_thread": False})
    synchronous = settings.sqlite_synchronous.upper()

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we begin transactions ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
