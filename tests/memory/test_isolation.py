"""Isolation, enforced twice: the tenant in every query, and row-level security on PostgreSQL.

The property test interleaves random writes, reads, searches (keyword, vector and hybrid) and
deletes of many tenants and checks every answer against a model of who wrote what. It runs on
SQLite and on PostgreSQL, where the store connects as an ordinary role that owns the tables (a
superuser would bypass row-level security)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from proctor.memory import HashingEmbedder, MemoryStore, Origin, Scope
from proctor.memory import _store as store_module

TENANTS = [f"t{i}" for i in range(6)]
WORDS = ["alpha", "beta", "gamma"]

scopes = st.builds(
    Scope,
    st.sampled_from(TENANTS),
    st.sampled_from(["w0", "w1"]),
    st.sampled_from(["a0", "a1"]),
    st.sampled_from([None, "s0", "s1"]),
)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("put"), scopes, st.sampled_from(WORDS)),
        st.tuples(st.just("get"), scopes, st.integers(0, 10_000)),
        st.tuples(st.just("search"), scopes, st.sampled_from([*WORDS, ""])),
        st.tuples(st.just("vector"), scopes, st.sampled_from(WORDS)),
        st.tuples(st.just("hybrid"), scopes, st.sampled_from(WORDS)),
        st.tuples(st.just("delete"), scopes, st.integers(0, 10_000)),
    ),
    min_size=1,
    max_size=30,
)
_serial = itertools.count()


@pytest.fixture
def memory(memory_url, make_memory):
    return make_memory(memory_url, embedder=HashingEmbedder())


@pytest.fixture
def written() -> dict[str, tuple[Scope, str]]:
    return {}


def visible(item_scope: Scope, to: Scope) -> bool:
    """The model: who may see an item written in ``item_scope``."""
    return (
        item_scope.tenant == to.tenant
        and item_scope.workspace == to.workspace
        and item_scope.agent == to.agent
        and item_scope.subject in (None, to.subject)
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(program=ops)
def test_no_answer_ever_belongs_to_another_scope(memory, written, program):
    # the store and the model live across examples: later examples meet earlier items
    for op, scope, arg in program:
        if op == "put":
            word = str(arg)
            item = memory.put(scope, f"{word} note {next(_serial)}", origin=Origin.principal())
            written[item.id] = (scope, word)
        elif op == "get":
            ids = sorted(written)
            if not ids:
                continue
            item_id = ids[int(arg) % len(ids)]
            got = memory.get(scope, item_id)
            owner, _ = written[item_id]
            if visible(owner, scope):
                assert got is not None
                assert got.scope == owner
            else:
                assert got is None, f"{scope} read {item_id} of {owner}"
        elif op == "search":
            found = memory.search(scope, str(arg), limit=200)
            for item in found:
                owner, word = written[item.id]
                assert item.scope == owner
                assert visible(owner, scope), f"{scope} found {item.id} of {owner}"
                assert not arg or word == arg
            expected = {
                i for i, (o, w) in written.items() if visible(o, scope) and (not arg or w == arg)
            }
            assert {i.id for i in found} == expected  # and nothing visible is missed
        elif op in ("vector", "hybrid"):
            # nearest first, every visible item is a candidate: the answer is exactly the
            # scope's items (at most 200 here), whatever their similarity
            found = memory.search(scope, str(arg), limit=200, mode=op)
            for item in found:
                owner, _ = written[item.id]
                assert item.scope == owner
                assert visible(owner, scope), f"{op} in {scope} found {item.id} of {owner}"
            assert {i.id for i in found} == {
                i for i, (o, _) in written.items() if visible(o, scope)
            }
            if found:  # an item holding the query's word ranks first when there is one
                holds = {i for i, (o, w) in written.items() if visible(o, scope) and w == arg}
                assert not holds or found[0].id in holds
        else:
            ids = sorted(written)
            if not ids:
                continue
            item_id = ids[int(arg) % len(ids)]
            owner, _ = written[item_id]
            deleted = memory.delete(scope, item_id)
            assert deleted == visible(owner, scope)
            if deleted:
                del written[item_id]


# -- the two layers, each alone ------------------------------------------------------------


def _two_tenants(memory):
    a = Scope("acme", "w", "bot")
    b = Scope("globex", "w", "bot")
    for scope in (a, b):
        for n in range(3):
            memory.put(scope, f"shared word {scope.tenant} {n}", origin=Origin.principal())
    return a, b


def test_a_query_that_forgets_its_tenant_is_caught_by_row_level_security(
    pg_app_url, make_memory, monkeypatch
):
    memory = make_memory(pg_app_url, embedder=HashingEmbedder())
    a, _ = _two_tenants(memory)
    # a bug in the query layer: the scope clause no longer names the tenant
    monkeypatch.setattr(
        store_module, "scope_clause", lambda scope: store_module.T.workspace == scope.workspace
    )
    found = memory.search(a, "shared", limit=50)
    assert len(found) == 3
    assert {i.scope.tenant for i in found} == {"acme"}
    for mode in ("vector", "hybrid"):  # the vector query is scoped by the same clause
        near = memory.search(a, "shared word", limit=50, mode=mode)
        assert [i.scope.tenant for i in near] == ["acme"] * 3


def test_without_row_level_security_the_same_bug_would_leak(sqlite_url, make_memory, monkeypatch):
    """The control for the test above: SQLite has only the query layer, so the same bug shows
    the other tenant's rows. (This is why the PostgreSQL result means something.)"""
    memory = make_memory(sqlite_url, embedder=HashingEmbedder())
    a, _ = _two_tenants(memory)
    monkeypatch.setattr(
        store_module, "scope_clause", lambda scope: store_module.T.workspace == scope.workspace
    )
    assert {i.scope.tenant for i in memory.search(a, "shared", limit=50)} == {"acme", "globex"}
    near = memory.search(a, "shared", limit=50, mode="vector")
    assert {i.scope.tenant for i in near} == {"acme", "globex"}


def test_a_transaction_without_the_tenant_setting_sees_nothing(pg_app_url, make_memory):
    memory = make_memory(pg_app_url)
    _two_tenants(memory)
    engine = create_engine(pg_app_url)
    try:
        with engine.connect() as conn:
            owner, forced = conn.execute(
                text(
                    "SELECT t.tableowner, c.relforcerowsecurity FROM pg_tables t JOIN pg_class c "
                    "ON c.relname = t.tablename AND c.relnamespace = "
                    "(SELECT oid FROM pg_namespace WHERE nspname = t.schemaname) "
                    "WHERE t.tablename = 'proctor_memory_items' AND t.schemaname = "
                    "current_schema()"
                )
            ).one()
            assert owner == conn.execute(text("SELECT current_user")).scalar_one()
            assert forced  # the owner is subject to the policy too
            count = "SELECT count(*) FROM proctor_memory_items"
            assert conn.execute(text(count)).scalar_one() == 0
            conn.commit()
            conn.execute(text("SELECT set_config('proctor.tenant', 'acme', true)"))
            tenants = conn.execute(text("SELECT DISTINCT tenant FROM proctor_memory_items"))
            assert list(tenants.scalars()) == ["acme"]
            conn.commit()
            # the setting lasted one transaction only
            assert conn.execute(text(count)).scalar_one() == 0
    finally:
        engine.dispose()


def test_a_row_of_another_tenant_cannot_be_written(pg_app_url, make_memory):
    memory = make_memory(pg_app_url)
    a, _ = _two_tenants(memory)
    row = memory.search(a, "shared", limit=1)[0]
    store = memory.store
    with pytest.raises(Exception, match="row-level security"), store.transaction("acme") as conn:
        conn.execute(
            text("UPDATE proctor_memory_items SET tenant = 'globex' WHERE id = :id"),
            {"id": row.id},
        )
    insert = text(
        "INSERT INTO proctor_memory_items (id, tenant, workspace, agent, kind, text, "
        "search_text, status, trust, confidentiality, source, provenance, created_at, "
        "expires_at) VALUES ('mem_x', 'globex', 'w', 'bot', 'note', 'x', 'x', "
        "'active', 'trusted', 'internal', 'operator', '{}', 0, 1e12)"
    )
    engine = create_engine(pg_app_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT set_config('proctor.tenant', 'acme', true)"))
            with pytest.raises(DBAPIError, match="row-level security"):
                conn.execute(insert)
    finally:
        engine.dispose()


def test_the_store_tells_whether_row_level_security_applies(pg_url, pg_app_url, engines):
    assert MemoryStore(engines(pg_app_url)).rls_enforced() is True
    assert MemoryStore(create_engine(pg_url)).rls_enforced() is False  # the superuser


def test_sqlite_has_no_row_level_security(sqlite_url, engines):
    assert MemoryStore(engines(sqlite_url)).rls_enforced() is None
