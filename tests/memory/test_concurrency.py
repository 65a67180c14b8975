"""Concurrency and failure, on the real databases: reviewers racing for one item, writers of
many tenants at once, and writes whose audit record or store fails."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from proctor.audit import AuditError
from proctor.errors import MemoryItemError
from proctor.memory import Origin, Scope
from proctor.store import StoreError

A = Scope("acme", "retail", "bot", "C-1")


def test_two_reviewers_racing_approve_once(memory_url, make_memory):
    memory = make_memory(memory_url, audited=True)
    for _ in range(5):  # rounds: approvals and rejections race for one item each time
        item = memory.put(A, "Lives at the old mill", kind="address", origin=Origin.principal())
        start = threading.Barrier(6)

        def review(i: int, item_id: str = item.id, start: threading.Barrier = start) -> str:
            start.wait()
            try:
                memory.review("acme", item_id, approve=i % 2 == 0, by=f"reviewer-{i}")
            except MemoryItemError:
                return "refused"
            return "approved" if i % 2 == 0 else "rejected"

        with ThreadPoolExecutor(6) as pool:
            results = list(pool.map(review, range(6)))
        assert results.count("refused") == 5, results
        left = memory.item("acme", item.id)
        assert (left is not None) == ("approved" in results)  # a rejected item is gone
    reviews = [r for r in memory.audit.records() if r.kind == "memory.reviewed"]
    assert len(reviews) == 5


def test_writers_of_many_tenants_at_once_stay_apart(memory_url, make_memory):
    memory = make_memory(memory_url)

    def write(i: int) -> tuple[Scope, str]:
        scope = Scope(f"t{i % 4}", "w", "bot", f"S-{i % 3}")
        return scope, memory.put(scope, f"item {i} word", origin=Origin.principal()).id

    with ThreadPoolExecutor(8) as pool:
        written = list(pool.map(write, range(64)))
    for scope, _ in written:
        found = {i.id for i in memory.search(scope, "word", limit=200)}
        expected = {i for s, i in written if s == scope}
        assert found == expected


def test_a_write_whose_audit_record_fails_is_not_stored(sqlite_url, make_memory, monkeypatch):
    memory = make_memory(sqlite_url, audited=True)

    def down(event):
        raise AuditError("cannot append to the audit log: disk full")

    monkeypatch.setattr(memory.audit, "append", down)
    with pytest.raises(AuditError):
        memory.put(A, "never recorded", origin=Origin.principal())
    assert memory.search(A, "recorded") == []


def test_a_store_that_is_down_refuses_with_a_store_error(make_memory, sqlite_url):
    memory = make_memory(sqlite_url)
    memory.store.engine.dispose()
    from sqlalchemy import create_engine

    memory.store.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreError, match="memory store"):
        memory.search(A, "word")
    with pytest.raises(StoreError):
        memory.put(A, "x", origin=Origin.principal())
