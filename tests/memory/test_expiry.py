"""Expiry and erasure: TTL per kind and per scope, expired items never returned and purged by
the sweeper, and erasure of everything about a subject, audited, with a report."""

from __future__ import annotations

import time

import pytest

from proctor.errors import MemoryItemError
from proctor.memory import MemoryRules, Origin, Scope
from proctor.policy import PolicySet, load_policy_text
from proctor.policy._memory_schema import MemoryPolicy

from .conftest import Clock

DAY = 86400
POLICY = """
version: 1
agent: {name: bot, role: svc, owner: team@example.com}
environments: {production: {max_autonomy: write}}
memory:
  ttl: 30d
  kinds:
    note: {ttl: 7d}
    preference: {ttl: 365d}
  scopes:
    - tenant: strict-bank
      ttl: 2d
    - workspace: trial
      kinds: {preference: 1d}
    - subject: true
      kinds: {note: 3d}
"""
A = Scope("acme", "retail", "bot")


def _policies() -> PolicySet:
    return PolicySet.of(load_policy_text(POLICY, "bot.yaml"))


@pytest.mark.parametrize(
    ("kind", "scope", "days"),
    [
        ("note", A, 7),
        ("preference", A, 365),
        ("fact", A, 30),  # not listed: the section's ttl
        ("preference", Scope("strict-bank", "retail", "bot"), 2),  # the tenant's rule
        ("preference", Scope("acme", "trial", "bot"), 1),  # the workspace's rule for the kind
        ("note", Scope("acme", "retail", "bot", "C-1"), 3),  # items about a subject
        ("note", Scope("strict-bank", "trial", "bot", "C-1"), 2),  # several: the shortest
    ],
)
def test_ttl_per_kind_and_scope_is_the_shortest_that_applies(kind, scope, days):
    rules = MemoryRules(_policies().policies[0].spec.memory)
    assert rules.ttl(kind, scope) == days * DAY


def test_expired_items_are_never_returned(sqlite_url, make_memory):
    clock = Clock()
    memory = make_memory(sqlite_url, policies=_policies(), clock=clock)
    note = memory.put(A, "short lived note", kind="note", origin=Origin.principal())
    pref = memory.put(A, "long lived note preference", kind="preference", origin=Origin.principal())
    pending = memory.put(A, "pending note", kind="email", origin=Origin.principal())
    assert note.expires_at == clock.now + 7 * DAY
    clock.advance(7 * DAY)
    assert memory.get(A, note.id) is None
    assert [i.id for i in memory.search(A, "note")] == [pref.id]
    assert [i.id for i in memory.pending("acme")] == [pending.id]
    clock.advance(23 * DAY)  # the pending item's 30 days
    assert memory.pending("acme") == []
    with pytest.raises(MemoryItemError, match=r"expired|awaits"):
        memory.review("acme", pending.id, approve=True, by="alice")


def test_the_sweeper_purges_expired_items_of_every_tenant(sqlite_url, make_memory):
    clock = Clock()
    memory = make_memory(sqlite_url, audited=True, policies=_policies(), clock=clock)
    old = [
        memory.put(Scope(t, "retail", "bot"), f"old {t}", kind="note", origin=Origin.principal())
        for t in ("acme", "globex", "initech")
    ]
    keep = memory.put(A, "kept", kind="preference", origin=Origin.principal())
    clock.advance(8 * DAY)
    assert memory.sweep(batch=2) == 3  # in batches
    assert memory.sweep() == 0
    for item in old:
        assert memory.item(item.scope.tenant, item.id) is None
    assert memory.item("acme", keep.id) is not None
    swept = [r.body for r in memory.audit.records() if r.kind == "memory.deleted"]
    assert swept == [{"why": "expired", "by": "sweeper", "count": 3}]


def test_the_sweeper_on_postgresql_sees_expired_rows_only(pg_app_url, make_memory):
    """Row-level security lets a sweeping transaction (no tenant set) see and delete rows the
    database's own clock says have expired, and nothing else."""
    past = Clock(time.time() - 40 * DAY)
    writer = make_memory(pg_app_url, policies=_policies(), clock=past)
    expired = writer.put(
        Scope("globex", "w", "bot"), "expired", kind="note", origin=Origin.principal()
    )
    live = writer.put(
        Scope("acme", "w", "bot"), "live", kind="preference", origin=Origin.principal()
    )
    sweeper = make_memory(pg_app_url, policies=_policies())
    # a sweeping transaction reads only expired rows, whatever its WHERE clause says
    from sqlalchemy import select

    from proctor.store import memory_items

    with sweeper.store.transaction(None, sweep=True) as conn:
        assert list(conn.execute(select(memory_items.c.id)).scalars()) == [expired.id]
    assert sweeper.sweep() == 1
    assert sweeper.item("globex", expired.id) is None
    assert sweeper.item("acme", live.id) is not None


def test_erasure_deletes_everything_about_a_subject_and_reports_it(memory_url, make_memory):
    memory = make_memory(memory_url, audited=True)
    c1 = [
        memory.put(
            Scope("acme", ws, agent, "C-1"),
            f"about c1 {ws} {agent}",
            kind=kind,
            origin=Origin.principal(),
        )
        for ws, agent, kind in [
            ("retail", "bot", "note"),
            ("retail", "other", "note"),
            ("loans", "bot", "address"),
        ]  # address: pending review
    ]
    c2 = memory.put(Scope("acme", "retail", "bot", "C-2"), "about c2", origin=Origin.principal())
    other = memory.put(
        Scope("globex", "retail", "bot", "C-1"), "globex's own C-1", origin=Origin.principal()
    )
    general = memory.put(Scope("acme", "retail", "bot"), "general", origin=Origin.principal())
    report = memory.erase("acme", "C-1", by="dpo@acme.example", reason="GDPR art. 17 request")
    assert set(report.items) == {i.id for i in c1}
    assert report.count == 3
    assert report.by_kind == {"note": 2, "address": 1}
    assert report.by_workspace == {"retail": 2, "loans": 1}
    for item in c1:
        assert memory.item("acme", item.id) is None
    for item in (c2, other, general):
        assert memory.item(item.scope.tenant, item.id) is not None
    record = [r for r in memory.audit.records() if r.kind == "memory.erased"]
    assert [r.id for r in record] == [report.audit_id]
    body = record[0].body
    assert body["count"] == 3
    assert body["by"] == "dpo@acme.example"
    assert "C-1" not in record[0].body_json  # the subject is a keyed digest
    again = memory.erase("acme", "C-1", by="dpo@acme.example")
    assert again.count == 0


def test_erasure_forgets_the_fingerprints_of_the_subjects_values(sqlite_url, make_memory):
    memory = make_memory(sqlite_url)
    c1 = Scope("acme", "retail", "bot", "C-1")
    memory.put(c1, "Reach C-1 at c1.person@example.com", origin=Origin.principal())
    assert memory.leaks.reasons("mail c1.person@example.com", "globex", None)
    report = memory.erase("acme", "C-1", by="dpo")
    assert report.fingerprints == 1
    assert memory.leaks.reasons("mail c1.person@example.com", "globex", None) == ()


def test_default_policy_keeps_items_ninety_days():
    assert MemoryRules().ttl("note", A) == 90 * DAY == MemoryPolicy().ttl
