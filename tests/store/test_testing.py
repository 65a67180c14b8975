"""The PostgreSQL test helpers: reachability, skip-or-fail, a schema per test."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from proctor.store.testing import (
    postgres_required,
    postgres_unreachable,
    url_with_schema,
)


def test_an_unreachable_server_gives_a_reason():
    reason = postgres_unreachable("postgresql+psycopg://postgres@127.0.0.1:1/test")
    assert reason is not None
    assert reason.startswith("PostgreSQL unreachable at postgresql+psycopg://postgres@127.0.0.1:1")


@pytest.mark.parametrize(("ci", "required"), [("true", True), ("TRUE", True), ("", False)])
def test_ci_makes_postgres_required(monkeypatch, ci, required):
    monkeypatch.setenv("CI", ci)
    assert postgres_required() is required


def test_the_schema_goes_into_the_search_path():
    url = url_with_schema("postgresql+psycopg://u@h:5432/db", "proctor_t_1")
    assert url == "postgresql+psycopg://u@h:5432/db?options=-csearch_path%3Dproctor_t_1"


def test_each_test_gets_its_own_schema_and_it_is_dropped(pg_url):
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
        assert str(schema).startswith("proctor_t_")
    engine.dispose()
