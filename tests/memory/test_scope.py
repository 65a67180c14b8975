"""There is no memory call without a scope: each operation refuses a missing or partial one."""

from __future__ import annotations

import pytest

from proctor.errors import MemoryItemError, MemoryScopeError
from proctor.memory import Origin, Scope

GOOD = Scope("acme", "retail", "support-bot", "C-1")


@pytest.mark.parametrize(
    ("tenant", "workspace", "agent", "subject"),
    [
        ("", "w", "a", None),
        ("t", "", "a", None),
        ("t", "w", "", None),
        (None, "w", "a", None),
        ("t", "w", "a", ""),
        ("t/../u", "w", "a", None),
        ("t", "w w", "a", None),
        ("t", "w", "a", "x" * 129),
        ("-t", "w", "a", None),
    ],
    ids=[
        "no-tenant",
        "no-workspace",
        "no-agent",
        "none-tenant",
        "empty-subject",
        "slash",
        "space",
        "long-subject",
        "leading-dash",
    ],
)
def test_an_incomplete_or_malformed_scope_is_refused(tenant, workspace, agent, subject):
    with pytest.raises(MemoryScopeError):
        Scope(tenant, workspace, agent, subject)


OPERATIONS = {
    "put": lambda m, s: m.put(s, "text", origin=Origin.principal()),
    "get": lambda m, s: m.get(s, "mem_x"),
    "search": lambda m, s: m.search(s, "text"),
    "delete": lambda m, s: m.delete(s, "mem_x"),
}


@pytest.mark.parametrize("op", sorted(OPERATIONS))
@pytest.mark.parametrize(
    "scope",
    [None, "acme", ("acme", "retail", "support-bot"), {"tenant": "acme"}],
    ids=["none", "str", "tuple", "dict"],
)
def test_every_operation_requires_a_scope(sqlite_url, make_memory, op, scope):
    memory = make_memory(sqlite_url)
    with pytest.raises(MemoryScopeError, match="needs a Scope"):
        OPERATIONS[op](memory, scope)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.pending(""),
        lambda m: m.item("", "mem_x"),
        lambda m: m.review("", "mem_x", approve=True, by="rev"),
        lambda m: m.erase("", "C-1", by="dpo"),
        lambda m: m.erase("acme", "", by="dpo"),
    ],
    ids=["pending", "item", "review", "erase-tenant", "erase-subject"],
)
def test_reviewer_and_erasure_calls_require_a_tenant(sqlite_url, make_memory, call):
    with pytest.raises(MemoryScopeError):
        call(make_memory(sqlite_url))


@pytest.mark.parametrize(
    ("kind", "text"),
    [("Note", "x"), ("", "x"), ("note", ""), ("note", "   "), ("note", "x" * 16_001), ("a-b", "x")],
)
def test_malformed_items_are_refused(sqlite_url, make_memory, kind, text):
    with pytest.raises(MemoryItemError):
        make_memory(sqlite_url).put(GOOD, text, kind=kind, origin=Origin.principal())
