"""The principal registry: who may act, proven by a key the store keeps only as a hash."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from proctor.approvals import ApprovalQueue, Role
from proctor.audit import EventKind
from proctor.errors import AccessDeniedError, AuthenticationError
from proctor.store import principals


@pytest.fixture
def queue(db_url):
    q = ApprovalQueue.open(db_url)
    yield q
    q.close()


def test_the_first_principal_must_be_an_admin_and_only_admins_add_more(queue):
    with pytest.raises(AccessDeniedError, match="first principal must have the admin role"):
        queue.access.add("alice", [Role.APPROVER], ["finance"], by=None)
    root_key = queue.access.add("root", [Role.ADMIN], by=None)
    root = queue.authenticate("root", root_key)
    with pytest.raises(AccessDeniedError, match="an admin must add principals"):
        queue.access.add("mallory", [Role.ADMIN], by=None)
    alice = queue.authenticate(
        "alice", queue.access.add("alice", ["approver"], ["finance"], by=root)
    )
    assert (alice.roles, alice.groups) == (frozenset({Role.APPROVER}), frozenset({"finance"}))
    with pytest.raises(AccessDeniedError, match="needs role admin"):
        queue.access.add("eve", [Role.ADMIN], by=alice)
    with pytest.raises(AccessDeniedError, match="already exists"):
        queue.access.add("alice", [Role.VIEWER], by=root)


def test_keys_are_random_shown_once_and_stored_only_salted_and_hashed(queue):
    k1 = queue.access.add("root", [Role.ADMIN], by=None)
    root = queue.authenticate("root", k1)
    k2 = queue.access.add("other", [Role.ADMIN], by=root)
    assert k1 != k2
    assert len(k1) >= 32
    with queue.engine.connect() as conn:
        rows = conn.execute(select(principals)).all()
    stored = " ".join(str(v) for row in rows for v in row)
    assert k1 not in stored
    assert k2 not in stored
    assert len({r.key_salt for r in rows}) == 2


@pytest.mark.parametrize(
    ("name", "key"),
    [("root", "pk_wrong"), ("nobody", None), ("root", ""), ("ROOT", None)],
    ids=["wrong-key", "unknown", "empty-key", "case"],
)
def test_authentication_fails_the_same_way_for_every_reason(queue, name, key):
    real = queue.access.add("root", [Role.ADMIN], by=None)
    with pytest.raises(AuthenticationError, match="unknown, wrong key or disabled"):
        queue.authenticate(name, real if key is None else key)


def test_a_disabled_principal_cannot_authenticate_and_failures_are_recorded(db_url):
    from proctor.audit import AuditLog, AuditSettings
    from proctor.store import StoreSettings

    log = AuditLog.open(
        AuditSettings(store=StoreSettings(database_url=db_url), signing_key="5e" * 32)
    )
    q = ApprovalQueue.open(db_url, audit=log)
    try:
        root = q.authenticate("root", q.access.add("root", [Role.ADMIN], by=None))
        key = q.access.add("alice", [Role.APPROVER], by=root)
        q.access.disable("alice", by=root)
        with pytest.raises(AuthenticationError):
            q.authenticate("alice", key)
        alerts = [r.body["alert"] for r in log.records() if r.kind == EventKind.ALERT]
        assert alerts == ["access.added", "access.added", "access.disabled", "access.refused"]
    finally:
        q.close()
        log.engine.dispose()


@pytest.mark.parametrize("bad", ["", "a b", "x" * 200, "-lead", "ali\nce", "alice\u200b"])
def test_names_are_checked(queue, bad):
    with pytest.raises(ValueError, match="name"):
        queue.access.add(bad, [Role.ADMIN], by=None)


def test_two_bootstraps_at_once_make_one_admin(db_url):
    queues = [ApprovalQueue.open(db_url) for _ in range(4)]
    barrier = threading.Barrier(len(queues))
    outcomes: list[str] = []

    def boot(i: int) -> None:
        barrier.wait()
        try:
            queues[i].access.add(f"admin{i}", [Role.ADMIN], by=None)
            outcomes.append("added")
        except Exception as exc:  # refused, or a serialization conflict: either way not added
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=boot, args=(i,)) for i in range(len(queues))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert outcomes.count("added") == 1
        assert len(queues[0].access.principals()) == 1
    finally:
        for q in queues:
            q.close()
