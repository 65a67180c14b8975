"""Appending: contiguous sequence numbers, a hash chain, signed checkpoints every N or T."""

from __future__ import annotations

import itertools

import pytest

from proctor.audit import (
    AuditError,
    AuditLog,
    Event,
    EventKind,
    canonical_json,
    parse_public_key,
    record_hash,
    verify,
)
from proctor.audit._keys import verify_message, verify_signature
from proctor.audit._merkle import merkle_root
from proctor.store import GENESIS_HASH

from .conftest import events_for


def test_records_are_numbered_and_chained(db_url, make_log):
    log = make_log(db_url)
    first = log.append(Event(EventKind.SESSION_OPENED, {"agent": "a"}, "ses_1"))
    more = log.append_many(
        [Event(EventKind.DECISION, {"n": i}, "ses_1", (first.id,)) for i in range(3)]
    )
    records = list(log.records())
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert records[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(records):
        assert after.prev_hash == before.hash
    for r in records:
        assert r.hash == record_hash(
            r.seq,
            r.id,
            r.ts,
            r.kind,
            r.session_id,
            canonical_json(list(r.links)),
            canonical_json(r.body),
            r.prev_hash,
        )
    assert [r.hash for r in records[1:]] == [m.hash for m in more]
    assert records[1].links == (first.id,)
    assert log.head() == (4, records[-1].hash)
    assert verify(log.engine, [parse_public_key(log.signer.public_hex)]).ok


def test_a_checkpoint_is_signed_every_n_records(db_url, make_log):
    log = make_log(db_url, checkpoint_every=5)
    for e in events_for(12):
        log.append(e)
    cps = log.checkpoints()
    assert [c.seq for c in cps] == [5, 10]
    public = parse_public_key(cps[0].public_key)
    by_seq = {r.seq: r.hash for r in log.records()}
    for before, cp in zip([0, 5], cps, strict=True):
        assert cp.head_hash == by_seq[cp.seq]
        assert (cp.version, cp.tree_from) == (2, before)
        assert cp.root == merkle_root([by_seq[s] for s in range(before + 1, cp.seq + 1)])
        assert verify_message(public, cp.message(), cp.signature)
        # a version 2 signature is not a version 1 signature of the same head
        assert not verify_signature(public, cp.seq, cp.head_hash, cp.signature)


def test_a_checkpoint_is_signed_after_t_seconds(sqlite_url, make_log):
    log = make_log(sqlite_url, checkpoint_every=1000, checkpoint_seconds=30)
    now = [1000.0]
    log._clock = lambda: now[0]
    log.append(events_for(1)[0])  # starts the clock
    now[0] += 29
    log.append(events_for(1)[0])
    now[0] += 2
    log.append(events_for(1)[0])
    now[0] += 29
    log.append(events_for(1)[0])
    assert [c.seq for c in log.checkpoints()] == [3]


def test_closing_signs_the_head(sqlite_url, make_log):
    log = make_log(sqlite_url)
    log.append_many(events_for(7))
    assert log.checkpoint() is None or log.checkpoints()[-1].seq == 7
    log.append_many(events_for(2))
    log.close()
    assert log.checkpoints()[-1].seq == 9
    assert log.checkpoint() is None  # nothing new to sign


def test_a_batch_is_all_or_nothing(sqlite_url, make_log):
    log = make_log(sqlite_url)
    log.append_many(events_for(2))
    bad = [*events_for(2), Event(EventKind.ALERT, {"x": float("nan")})]
    with pytest.raises(ValueError, match="Out of range float"):
        log.append_many(bad)
    duplicate = events_for(1)[0]
    log.append(duplicate)
    with pytest.raises(AuditError, match="cannot append"):
        log.append_many([*events_for(2), duplicate])  # id already used
    assert log.count() == 3
    assert [r.seq for r in log.records()] == [1, 2, 3]


def test_a_read_only_log_refuses_to_append(sqlite_url, make_log):
    writer = make_log(sqlite_url, checkpoint_every=2)
    reader = AuditLog(writer.engine, None, checkpoint_every=2)
    with pytest.raises(AuditError, match="read-only"):
        reader.append(events_for(1)[0])
    assert writer.count() == 0
    writer.append(events_for(1)[0])
    assert [r.seq for r in reader.records()] == [1]


def test_records_of_one_session_and_after_a_seq(sqlite_url, make_log):
    log = make_log(sqlite_url)
    log.append_many(events_for(3, "ses_a") + events_for(2, "ses_b"))
    assert [r.seq for r in log.records(session_id="ses_b")] == [4, 5]
    assert [r.seq for r in log.records(after_seq=3)] == [4, 5]
    last = next(log.records(after_seq=4))
    got = log.get(last.id)
    assert got == last
    assert log.get("rec_missing") is None


def test_a_record_as_json_is_the_canonical_json_of_its_fields(sqlite_url, make_log):
    log = make_log(sqlite_url)
    first = log.append(events_for(1)[0])
    log.append(Event(EventKind.ALERT, {"z": 1, "a": ["é", 2.5]}, "ses_1", (first.id,)))
    record = list(log.records())[-1]
    assert record.as_json() == canonical_json(record.as_dict())
    assert record.body == {"z": 1, "a": ["é", 2.5]}


def test_links_must_name_earlier_records(sqlite_url, make_log):
    log = make_log(sqlite_url)
    with pytest.raises(AuditError, match="links to rec_nowhere, not a record in the audit log"):
        log.append(Event(EventKind.DECISION, {}, "s", ("rec_nowhere",)))
    a, b = events_for(2)
    with pytest.raises(AuditError, match=f"links to {b.id}, which follows it"):
        log.append_many([Event(a.kind, a.body, a.session_id, (b.id,), a.id), b])
    first = log.append(a)
    other = AuditLog(log.engine, log.signer)  # another process: knows the id from the database
    other.append(Event(EventKind.OUTCOME, {}, "s", (first.id,)))
    assert log.count() == 2


def test_a_checkpoint_signed_elsewhere_while_the_root_is_computed(db_url, make_log, monkeypatch):
    """The root is computed outside the head's lock: if another process signs meanwhile, this
    one does not sign an overlapping tree; it starts again from the new checkpoint."""
    from proctor.audit import _checkpoints

    log = make_log(db_url, checkpoint_every=10**6)
    other = make_log(db_url, checkpoint_every=10**6)
    for e in events_for(5):
        log.append(e)
    real = _checkpoints.merkle_root
    raced: list[int] = []

    def racing(hashes: list[str]) -> str:
        if not raced:
            raced.append(len(hashes))
            other.append(events_for(1)[0])
            signed = other.checkpoint()
            assert signed is not None
            assert (signed.tree_from, signed.seq) == (0, 6)
        return real(hashes)

    monkeypatch.setattr(_checkpoints, "merkle_root", racing)
    assert log.checkpoint() is None  # the head, 6, is signed already
    assert raced == [5]
    for e in events_for(2):
        log.append(e)
    cp = log.checkpoint()
    assert cp is not None
    assert [(c.tree_from, c.seq) for c in log.checkpoints()] == [(0, 6), (6, 8)]
    assert verify(log.engine, [parse_public_key(log.signer.public_hex)]).ok


def test_a_due_that_arrives_after_its_checkpoint_was_signed_signs_nothing(db_url, make_log):
    """Appends that found a checkpoint due while it was being signed (here, or in another
    process) find it signed: no second checkpoint over the few records appended meanwhile.
    Asked for explicitly, the head is signed as before."""
    log = make_log(db_url, checkpoint_every=10, checkpoint_seconds=3600)
    other = make_log(db_url, checkpoint_every=10, checkpoint_seconds=3600)
    for e in events_for(10):
        log.append(e)  # the tenth makes it due: signed at once
    for e in events_for(3):
        log.append(e)
    log._checkpoint_after_append()  # a due that queued while it was being signed
    other._checkpoint_after_append()  # another process's, for the same records
    assert [(c.tree_from, c.seq) for c in log.checkpoints()] == [(0, 10)]
    for e in events_for(7):
        log.append(e)  # 20: due again, and signed
    assert [(c.tree_from, c.seq) for c in log.checkpoints()] == [(0, 10), (10, 20)]
    assert log.checkpoint() is None  # the head is signed
    log.append(events_for(1)[0])
    assert log.checkpoint() is not None  # asked for: signed however few records
    assert [(c.tree_from, c.seq) for c in log.checkpoints()][-1] == (20, 21)
    assert verify(log.engine, [parse_public_key(log.signer.public_hex)]).ok
