"""The audit tables refuse UPDATE and DELETE in the database itself (triggers)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DatabaseError

from proctor.store import create_store_engine, migrate

ROW = (
    "INSERT INTO proctor_audit_records (seq, id, ts, kind, session_id, links, body, prev_hash,"
    " hash) VALUES (1, 'rec_1', 't', 'k', NULL, '[]', '{}', 'p', 'h')"
)
CHECKPOINT = (
    "INSERT INTO proctor_audit_checkpoints (seq, head_hash, ts, key_id, public_key, signature)"
    " VALUES (1, 'h', 't', 'k', 'p', 's')"
)
REFUSED = [
    "UPDATE proctor_audit_records SET body = '{\"x\":1}'",
    "DELETE FROM proctor_audit_records",
    "UPDATE proctor_audit_checkpoints SET signature = 'forged'",
    "DELETE FROM proctor_audit_checkpoints",
]


@pytest.fixture
def engine(db_url):
    engine = create_store_engine(db_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(ROW)
        conn.exec_driver_sql(CHECKPOINT)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("statement", REFUSED)
def test_update_and_delete_are_refused(engine, statement):
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql(statement)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT body FROM proctor_audit_records").scalar() == "{}"


def test_truncate_is_refused_on_postgres(pg_url):
    engine = create_store_engine(pg_url)
    migrate(engine)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql("TRUNCATE proctor_audit_records")
    engine.dispose()


def test_inserting_is_allowed(engine):
    with engine.begin() as conn:
        conn.exec_driver_sql(ROW.replace("(1, 'rec_1'", "(2, 'rec_2'"))
        assert conn.exec_driver_sql("SELECT count(*) FROM proctor_audit_records").scalar() == 2
