"""Store settings: PROCTOR_DATABASE_URL, else one SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from proctor.store import StoreError, StoreSettings, create_store_engine


def test_unset_url_means_the_default_sqlite_file():
    s = StoreSettings.from_env({})
    assert s.database_url is None
    assert s.url == "sqlite:///proctor.db"
    assert s.sqlite_synchronous == "FULL"


def test_url_and_sqlite_options_from_the_environment():
    env = {
        "PROCTOR_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "PROCTOR_SQLITE_PATH": "/var/lib/proctor/p.db",
        "PROCTOR_SQLITE_SYNCHRONOUS": "normal",
    }
    s = StoreSettings.from_env(env)
    assert s.url == "postgresql+psycopg://u@h/db"
    assert s.sqlite_path == Path("/var/lib/proctor/p.db")


def test_sqlite_path_is_used_when_no_url():
    s = StoreSettings.from_env({"PROCTOR_SQLITE_PATH": "/tmp/x.db"})
    assert s.url == "sqlite:////tmp/x.db"


def test_bad_synchronous_names_the_choices():
    with pytest.raises(StoreError, match=r"one of OFF, NORMAL, FULL, EXTRA, got 'SOMETIMES'"):
        StoreSettings(sqlite_synchronous="SOMETIMES")


def test_sqlite_engine_is_wal_with_the_configured_synchronous(tmp_path):
    engine = create_store_engine(
        StoreSettings(sqlite_path=tmp_path / "p.db", sqlite_synchronous="NORMAL")
    )
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    engine.dispose()
