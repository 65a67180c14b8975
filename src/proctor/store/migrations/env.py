"""Alembic environment: runs on the connection that ``proctor.store.migrate`` hands over."""

from __future__ import annotations

from alembic import context

from proctor.store._migrate import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through proctor.store.migrate(engine), not the alembic CLI")
context.configure(connection=connection, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
