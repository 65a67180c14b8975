"""Tampering, done directly in the database as an attacker with write access would (dropping the
append-only triggers first): verification catches each case and names the first bad record."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Engine

from proctor.audit import (
    AuditLog,
    Event,
    Fault,
    Signer,
    _verify,
    canonical_json,
    record_hash,
    verify,
)

from .conftest import SEED, events_for

N = 30  # records; a checkpoint is signed every 10


def drop_triggers(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in ("proctor_audit_records", "proctor_audit_checkpoints"):
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql(f"DROP TRIGGER {table}_append_only ON {table}")
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_truncate ON {table}")
            else:
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_delete")


def sql(engine: Engine, *statements: str, **params: object) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement, params or None)


def row(engine: Engine, seq: int) -> dict[str, object]:
    with engine.connect() as conn:
        r = conn.exec_driver_sql(
            f"SELECT * FROM proctor_audit_records WHERE seq = {seq}"
        ).mappings()
        return dict(r.one())


WORKERS = [1]


@pytest.fixture(params=[1, 2], ids=["1-worker", "2-workers"])
def workers(request, monkeypatch) -> int:
    """Every case runs with one verifying process and with two (split at seq 15)."""
    monkeypatch.setattr(_verify, "_PARALLEL_MIN", 0)
    WORKERS[0] = request.param
    return int(request.param)


def check(log: AuditLog, seq: int, fault: Fault) -> str:
    report = verify(log.engine, [Signer.from_seed(SEED).public_key], workers=WORKERS[0])
    assert not report.ok
    first = report.first
    assert first is not None
    assert (first.seq, first.fault) == (seq, fault), report.problems
    return str(first)


@pytest.fixture
def log(db_url, make_log, workers) -> AuditLog:
    """30 records, each linking to the first; checkpoints at 10, 20, 30."""
    log = make_log(db_url, checkpoint_every=10)
    origin = log.append(events_for(1, "ses_0")[0])
    for i in range(1, N):
        e = events_for(1, f"ses_{i // 3}")[0]
        log.append(Event(e.kind, e.body, e.session_id, (origin.id,)))
    report = verify(log.engine, [Signer.from_seed(SEED).public_key], workers=workers)
    assert report.ok, report.problems
    assert (report.records, report.checkpoints, report.last_checkpoint) == (N, 3, N)
    drop_triggers(log.engine)
    return log


def test_an_edited_record(log):
    sql(log.engine, "UPDATE proctor_audit_records SET body = '{\"n\":99}' WHERE seq = 14")
    assert "its content does not match its stored hash" in check(log, 14, Fault.EDITED)


def test_an_edited_column_outside_the_body(log):
    sql(log.engine, "UPDATE proctor_audit_records SET session_id = 'ses_other' WHERE seq = 7")
    check(log, 7, Fault.EDITED)


def test_an_edited_record_with_its_hash_recomputed(log):
    r = row(log.engine, 14)
    body = canonical_json({"n": 99, "tool": "t"})
    digest = record_hash(
        14, r["id"], r["ts"], r["kind"], r["session_id"], r["links"], body, r["prev_hash"]
    )
    sql(
        log.engine,
        "UPDATE proctor_audit_records SET body = %(b)s, hash = %(h)s WHERE seq = 14"
        if log.engine.dialect.name == "postgresql"
        else "UPDATE proctor_audit_records SET body = :b, hash = :h WHERE seq = 14",
        b=body,
        h=digest,
    )
    assert "rewritten and its hash recomputed" in check(log, 14, Fault.EDITED)


def test_a_deleted_record(log):
    sql(log.engine, "DELETE FROM proctor_audit_records WHERE seq = 17")
    assert "record 17 is missing" in check(log, 17, Fault.MISSING)


def test_a_deleted_record_with_later_ones_renumbered(log):
    sql(
        log.engine,
        "DELETE FROM proctor_audit_records WHERE seq = 17",
        "UPDATE proctor_audit_records SET seq = -(seq - 1) WHERE seq > 17",
        "UPDATE proctor_audit_records SET seq = -seq WHERE seq < 0",
    )
    assert "was written as seq 18" in check(log, 17, Fault.MOVED)


def test_an_inserted_record(log):
    before = row(log.engine, 11)
    sql(
        log.engine,
        "UPDATE proctor_audit_records SET seq = -(seq + 1) WHERE seq >= 12",
        "UPDATE proctor_audit_records SET seq = -seq WHERE seq < 0",
    )
    body, links = canonical_json({"n": 0, "tool": "refund", "forged": True}), "[]"
    digest = record_hash(
        12, "rec_forged", before["ts"], "decision", "ses_9", links, body, before["hash"]
    )
    values = f"(12, 'rec_forged', '{before['ts']}', 'decision', 'ses_9', '{links}', '{body}', "
    values += f"'{before['hash']}', '{digest}')"
    sql(log.engine, f"INSERT INTO proctor_audit_records VALUES {values}")
    assert "record 12 was inserted" in check(log, 12, Fault.INSERTED)


def test_an_appended_record_with_a_bad_hash(log):
    last = row(log.engine, N)
    sql(
        log.engine,
        f"INSERT INTO proctor_audit_records VALUES ({N + 1}, 'rec_x', 't', 'decision', NULL,"
        f" '[]', '{{}}', '{last['hash']}', '{'0' * 64}')",
    )
    check(log, N + 1, Fault.EDITED)


def test_two_records_swapped(log):
    sql(
        log.engine,
        "UPDATE proctor_audit_records SET seq = -1 WHERE seq = 5",
        "UPDATE proctor_audit_records SET seq = 5 WHERE seq = 6",
        "UPDATE proctor_audit_records SET seq = 6 WHERE seq = -1",
    )
    assert "was written as seq 6, now sits at 5" in check(log, 5, Fault.MOVED)


def test_the_tail_truncated_after_a_checkpoint(log):
    sql(log.engine, "DELETE FROM proctor_audit_records WHERE seq > 25")
    message = check(log, 26, Fault.TRUNCATED)
    assert "records stop at seq 25" in message
    assert "covers seq 30" in message


def test_the_tail_truncated_with_checkpoints_and_head_reset(log):
    """Deleting the records and the checkpoints after them, and resetting the head: the last
    surviving checkpoint still verifies, so only what was signed is protected. Export the
    checkpoints elsewhere to close this gap (docs/audit.md)."""
    sql(
        log.engine,
        "DELETE FROM proctor_audit_records WHERE seq > 25",
        "DELETE FROM proctor_audit_checkpoints WHERE seq > 25",
    )
    check(log, 26, Fault.TRUNCATED)  # the head table still says 30
    sql(
        log.engine,
        "UPDATE proctor_audit_head SET seq = 25, hash = (SELECT hash FROM proctor_audit_records"
        " WHERE seq = 25), checkpoint_seq = 20",
    )
    report = verify(log.engine, [Signer.from_seed(SEED).public_key], workers=WORKERS[0])
    assert report.ok
    assert report.last_checkpoint == 20


def test_a_rewritten_and_rechained_tail_breaks_the_checkpoint(log):
    """An attacker who recomputes every hash after an edit still cannot re-sign."""
    with log.engine.connect() as conn:
        rows = [
            dict(r)
            for r in conn.exec_driver_sql(
                "SELECT * FROM proctor_audit_records WHERE seq >= 13 ORDER BY seq"
            ).mappings()
        ]
    prev = row(log.engine, 12)["hash"]
    sql(log.engine, "DELETE FROM proctor_audit_records WHERE seq >= 13")
    for r in rows:
        body = canonical_json({"n": -1, "tool": "t"}) if r["seq"] == 13 else r["body"]
        digest = record_hash(
            r["seq"], r["id"], r["ts"], r["kind"], r["session_id"], r["links"], body, prev
        )
        sql(
            log.engine,
            f"INSERT INTO proctor_audit_records VALUES ({r['seq']}, '{r['id']}', '{r['ts']}', "
            f"'{r['kind']}', '{r['session_id']}', '{r['links']}', '{body}', '{prev}', '{digest}')",
        )
        prev = digest
    message = check(log, 11, Fault.CHECKPOINT_MISMATCH)
    assert "records 11..20 were rewritten" in message


def test_a_forged_checkpoint_signature(log):
    sql(
        log.engine, f"UPDATE proctor_audit_checkpoints SET signature = '{'ab' * 64}' WHERE seq = 20"
    )
    check(log, 20, Fault.BAD_SIGNATURE)


def test_a_checkpoint_signed_by_another_key(log):
    other = Signer.from_seed("77" * 32)
    cp = next(c for c in log.checkpoints() if c.seq == 20)
    signature = other.sign_message(cp.message())
    sql(
        log.engine,
        f"UPDATE proctor_audit_checkpoints SET key_id = '{other.key_id}', public_key = "
        f"'{other.public_hex}', signature = '{signature}' WHERE seq = 20",
    )
    check(log, 20, Fault.UNTRUSTED_KEY)
    # without trusted keys the stored key is used: integrity, not authenticity
    assert verify(log.engine).ok


def test_a_link_to_a_later_record(log):
    r = row(log.engine, 3)
    links = canonical_json([row(log.engine, 9)["id"]])
    digest = record_hash(
        3, r["id"], r["ts"], r["kind"], r["session_id"], links, r["body"], r["prev_hash"]
    )
    sql(
        log.engine,
        f"UPDATE proctor_audit_records SET links = '{links}', hash = '{digest}' WHERE seq = 3",
    )
    check(log, 3, Fault.EDITED)  # rewritten: record 4 still chains to its old hash
    report = verify(log.engine, [Signer.from_seed(SEED).public_key], workers=WORKERS[0])
    assert (3, Fault.BAD_LINK) in [(p.seq, p.fault) for p in report.problems]


def test_a_record_deleted_at_the_seam_between_workers(log):
    sql(log.engine, "DELETE FROM proctor_audit_records WHERE seq = 15")
    assert "record 15 is missing" in check(log, 15, Fault.MISSING)


def test_the_first_record_after_the_seam_deleted(log):
    sql(log.engine, "DELETE FROM proctor_audit_records WHERE seq = 16")
    check(log, 16, Fault.MISSING)


def test_a_record_rewritten_at_the_seam_with_its_hash_recomputed(log):
    r = row(log.engine, 15)
    body = canonical_json({"n": 99, "tool": "t"})
    digest = record_hash(
        15, r["id"], r["ts"], r["kind"], r["session_id"], r["links"], body, r["prev_hash"]
    )
    sql(
        log.engine,
        f"UPDATE proctor_audit_records SET body = '{body}', hash = '{digest}' WHERE seq = 15",
    )
    assert "rewritten and its hash recomputed" in check(log, 15, Fault.EDITED)


def test_a_link_across_the_seam_to_a_later_record(log):
    r = row(log.engine, 30)
    links = canonical_json([row(log.engine, 1)["id"], "rec_nowhere"])
    digest = record_hash(
        30, r["id"], r["ts"], r["kind"], r["session_id"], links, r["body"], r["prev_hash"]
    )
    sql(
        log.engine,
        f"UPDATE proctor_audit_records SET links = '{links}', hash = '{digest}' WHERE seq = 30",
    )
    assert "links to rec_nowhere" in check(log, 30, Fault.BAD_LINK)


def test_many_problems_are_listed_up_to_a_limit(log):
    sql(log.engine, "UPDATE proctor_audit_records SET body = '{}'")
    report = verify(log.engine, [Signer.from_seed(SEED).public_key], max_problems=5)
    assert [p.seq for p in report.problems] == [1, 2, 3, 4, 5]
    assert {p.fault for p in report.problems} == {Fault.EDITED}


def test_a_checkpoint_root_tampered_in_the_database(log):
    """The signed root changed: its signature fails, and the root no longer matches."""
    sql(log.engine, f"UPDATE proctor_audit_checkpoints SET root = '{'ab' * 32}' WHERE seq = 20")
    check(log, 20, Fault.BAD_SIGNATURE)
    report = verify(log.engine, [Signer.from_seed(SEED).public_key], workers=WORKERS[0])
    assert (20, Fault.ROOT_MISMATCH) in [(p.seq, p.fault) for p in report.problems]


def test_a_wrong_root_signed_with_the_right_key_is_found(log):
    """Verification recomputes every root: a checkpoint signed over a root its records do not
    have (a signer bug, or a stolen key) fails on its own, the signature being valid."""
    cp = next(c for c in log.checkpoints() if c.seq == 20)
    forged = dataclasses.replace(cp, root="cd" * 32)
    signature = Signer.from_seed(SEED).sign_message(forged.message())
    sql(
        log.engine,
        f"UPDATE proctor_audit_checkpoints SET root = '{forged.root}', "
        f"signature = '{signature}' WHERE seq = 20",
    )
    message = check(log, 11, Fault.ROOT_MISMATCH)
    assert "covers records 11..20 with Merkle root cdcdcdcd" in message


def test_a_checkpoint_deleted_between_two_others(log):
    sql(log.engine, "DELETE FROM proctor_audit_checkpoints WHERE seq = 10")
    message = check(log, 20, Fault.CHECKPOINT_GAP)
    assert "the checkpoint before it is at seq 0" in message


def test_a_checkpoint_downgraded_to_version_1(log):
    """Dropping the root and the version does not turn a version 2 signature into a valid
    version 1 one."""
    sql(
        log.engine,
        "UPDATE proctor_audit_checkpoints SET version = 1, root = NULL, tree_from = NULL "
        "WHERE seq = 20",
    )
    check(log, 20, Fault.BAD_SIGNATURE)
