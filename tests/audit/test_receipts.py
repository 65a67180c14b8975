"""Receipts: every recorded outcome comes back signed; the receipt verifies offline with the
public key alone, and with its inclusion proof once a checkpoint covers it. Then attempts to
break it: one byte changed anywhere, another key, another log, a changed or misplaced path."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proctor import Gate, Outcome
from proctor.audit import (
    AuditHook,
    AuditLog,
    Signer,
    canonical_json,
    complete_receipt,
    find_outcome,
    receipt_for,
    verify,
    verify_receipt,
)
from proctor.errors import ReceiptError
from proctor.model import InclusionProof, Receipt

from ._policy import REFUNDS, refunds_policy
from .conftest import SEED

KEY = Signer.from_seed(SEED).public_key
OTHER = Signer.from_seed("77" * 32)


def run_calls(log: AuditLog, amounts=(40.0, 250.0, 5000.0), **hook: bool) -> list[Outcome]:
    gate = Gate(refunds_policy(), hooks=[AuditHook(log, **hook)])

    @gate.tool("payments.refund")
    def refund(order_id: str, amount: float) -> str:
        return "ok"

    session = gate.open_session("refunds-bot", principal="ticket:T-9", tenant="acme")
    outs = [refund(session, order_id="O-1", amount=a) for a in amounts]
    gate.close()
    return outs


def test_every_outcome_comes_back_with_a_receipt_that_verifies_offline(db_url, make_log):
    log = make_log(db_url)
    outs = run_calls(log)
    assert [(o.status, o.decision.verdict.name) for o in outs] == [
        ("executed", "ALLOW"),
        ("pending", "HOLD"),
        ("denied", "DENY"),
    ]
    policy_sha256 = hashlib.sha256(REFUNDS.encode()).hexdigest()  # of the file's bytes
    for out in outs:
        r = out.receipt
        assert r is not None
        check = verify_receipt(Receipt.from_json(r.to_json()), [KEY])
        assert (check.included, check.checkpoint_seq) == (False, None)
        assert (r.call_id, r.tool, r.status, r.verdict) == (
            out.call_id,
            "payments.refund",
            str(out.status),
            out.decision.verdict.name,
        )
        assert r.rule_ids == out.decision.rule_ids
        assert (r.policy, r.policy_sha256) == (out.decision.policy, policy_sha256)
        assert r.key_id == Signer.from_seed(SEED).key_id
        record = log.get(r.record_id)
        assert record is not None
        assert (record.seq, record.hash, record.ts, record.kind) == (
            r.seq,
            r.record_hash,
            r.ts,
            "outcome",
        )
        # rebuilt later from the log alone: the very same bytes
        again = receipt_for(find_outcome(log.engine, out.call_id), log.signer)
        assert again.to_json() == r.to_json()
    assert verify(log.engine, [KEY]).ok


def test_a_completed_receipt_proves_inclusion(db_url, make_log):
    log = make_log(db_url)
    outs = run_calls(log, amounts=(40.0, 250.0, 5000.0, 41.0, 42.0))
    receipts = [o.receipt for o in outs if o.receipt]
    with pytest.raises(ReceiptError, match="not covered by a signed checkpoint yet"):
        complete_receipt(log.engine, receipts[0])
    cp = log.checkpoint()
    assert cp is not None
    assert cp.version == 2
    for r in receipts:
        done = complete_receipt(log.engine, r)
        assert done.proof is not None
        assert done.proof.checkpoint.seq == cp.seq
        check = verify_receipt(Receipt.from_json(done.to_json()), [KEY], require_proof=True)
        assert (check.included, check.checkpoint_seq) == (True, cp.seq)
    with pytest.raises(ReceiptError, match="no inclusion proof"):
        verify_receipt(receipts[0], [KEY], require_proof=True)


@pytest.fixture(scope="module")
def completed(tmp_path_factory) -> Receipt:
    """A completed receipt (SQLite), built once for the property tests."""
    from proctor.audit import AuditSettings
    from proctor.store import StoreSettings

    path = tmp_path_factory.mktemp("receipt") / "proctor.db"
    log = AuditLog.open(AuditSettings(StoreSettings(sqlite_path=path), signing_key=SEED))
    outs = run_calls(log, amounts=(40.0, 250.0, 5000.0, 41.0, 42.0))
    log.checkpoint()
    receipt = outs[1].receipt
    assert receipt is not None
    done = complete_receipt(log.engine, receipt)
    log.close()
    assert done.proof is not None
    assert len(done.proof.path) >= 2
    return done


ARGS = {"order_id": "O-1", "amount": 250.0}  # the completed receipt's call


def rejected(text: bytes, args: dict[str, object] | None = ARGS) -> bool:
    """Whether the receipt is refused, checked with the call's arguments (the unsigned opening
    counts only then)."""
    try:
        verify_receipt(Receipt.from_json(text), [KEY], require_proof=True, args=args)
    except ReceiptError:
        return True
    return False


def test_the_completed_receipt_verifies_and_is_canonical(completed):
    text = completed.to_json()
    assert text == canonical_json(json.loads(text))
    assert not rejected(text.encode())


def test_every_byte_counts(completed):
    """Each byte of the receipt changed (two ways): never accepted."""
    raw = completed.to_json().encode()
    for i in range(len(raw)):
        for flip in (0x01, 0x20):
            bad = bytearray(raw)
            bad[i] ^= flip
            assert rejected(bytes(bad)), (i, bytes(bad[max(0, i - 20) : i + 20]))


@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_one_byte_changed_to_anything_is_rejected(completed, data):
    raw = completed.to_json().encode()
    i = data.draw(st.integers(0, len(raw) - 1), label="position")
    b = data.draw(st.integers(0, 255).filter(lambda v: v != raw[i]), label="byte")
    assert rejected(raw[:i] + bytes([b]) + raw[i + 1 :])


FIELDS = [
    f.name for f in dataclasses.fields(Receipt) if f.name not in ("proof", "signature", "opening")
]


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(FIELDS), st.data())
def test_any_field_changed_and_re_encoded_is_rejected(completed, field, data):
    """A field given another value (of its type), then written as a well-formed receipt:
    the signature no longer covers it."""
    value = getattr(completed, field)
    if isinstance(value, int):
        new: object = data.draw(st.integers(0, 10**6).filter(lambda v: v != value))
    elif isinstance(value, tuple):
        new = tuple(
            data.draw(st.lists(st.text(max_size=8), max_size=3).filter(lambda v: tuple(v) != value))
        )
    elif field in ("record_hash", "policy_sha256", "args_commitment"):
        new = data.draw(
            st.binary(min_size=32, max_size=32).map(bytes.hex).filter(lambda v: v != value)
        )
    else:
        new = data.draw(st.text(max_size=30).filter(lambda v: v != value))
    forged = dataclasses.replace(completed, **{field: new})
    assert rejected(forged.to_json().encode(), args=None)


def test_the_fields_that_say_what_is_covered_are_signed(completed):
    """The session, its agent, tenant, environment and principal, and the arguments'
    commitment: each is in the signed statement (the property test above changes them)."""
    assert {
        "session_id",
        "agent",
        "tenant",
        "environment",
        "principal",
        "args_commitment",
    } <= set(FIELDS)
    st_ = completed.statement()
    assert st_["session"] == {
        "agent": "refunds-bot",
        "environment": "production",
        "id": completed.session_id,
        "principal": completed.principal,
        "tenant": "acme",
    }
    assert completed.session_id.startswith("ses_")
    # the principal is the log's keyed digest, never the id itself
    assert completed.principal.startswith("hmac-sha256:audit-")
    assert "T-9" not in completed.to_json()


def test_the_receipt_opens_on_its_arguments_only(completed):
    text = completed.to_json().encode()
    assert not rejected(text)
    check = verify_receipt(completed, [KEY], args=ARGS)
    assert check.args_checked
    assert not verify_receipt(completed, [KEY]).args_checked
    for other in (
        {"order_id": "O-1", "amount": 2500.0},  # a larger transfer
        {"order_id": "O-2", "amount": 250.0},
        {"order_id": "O-1", "amount": 250},  # another JSON number: other bytes
        {"order_id": "O-1", "amount": 250.0, "note": None},
        {"order_id": "O-1"},
        {},
    ):
        assert rejected(text, other), other
        with pytest.raises(ReceiptError, match="not the arguments the receipt commits to"):
            verify_receipt(completed, [KEY], args=other)
    # the opening is not signed: without args a changed opening still verifies; with them not
    changed = dataclasses.replace(completed, opening="00" * 32)
    assert not rejected(changed.to_json().encode(), args=None)
    assert rejected(changed.to_json().encode())
    bare = dataclasses.replace(completed, opening=None)
    assert not rejected(bare.to_json().encode(), args=None)
    with pytest.raises(ReceiptError, match="no opening"):
        verify_receipt(bare, [KEY], args=ARGS)


def test_the_commitment_hides_the_arguments(sqlite_url, make_log):
    """The same arguments in two calls: two unrelated commitments, and neither is the salt-free
    hash of the arguments (nothing to test guesses against). The salt is in no record."""
    log = make_log(sqlite_url)
    a, b = (o.receipt for o in run_calls(log, amounts=(40.0, 40.0)))
    assert a is not None
    assert b is not None
    assert a.opening
    assert b.opening
    assert a.args_commitment != b.args_commitment
    assert a.opening != b.opening
    args = {"order_id": "O-1", "amount": 40.0}
    assert a.opens(args)
    assert b.opens(args)
    bare = hashlib.sha256(canonical_json(args).encode()).hexdigest()
    assert bare not in (a.args_commitment, b.args_commitment)
    everything = "".join(r.body_json for r in log.records())
    assert a.opening not in everything
    assert b.opening not in everything
    assert a.args_commitment in everything  # the record holds the commitment, not the salt


def test_a_wrong_public_key_is_rejected(completed):
    with pytest.raises(ReceiptError, match="not one of the trusted keys"):
        verify_receipt(completed, [OTHER.public_key])
    with pytest.raises(ReceiptError, match="no trusted public key"):
        verify_receipt(completed, [])
    # the right key id claimed, another key's signature: the signature fails
    forged = dataclasses.replace(completed, signature=OTHER.sign_message(completed.message()))
    with pytest.raises(ReceiptError, match="signature does not verify"):
        verify_receipt(forged, [KEY])


def test_a_changed_sibling_or_a_path_for_another_index_is_rejected(completed, sqlite_url):
    proof = completed.proof
    assert proof is not None
    for i in range(len(proof.path)):
        raw = bytearray(bytes.fromhex(proof.path[i]))
        raw[-1] ^= 1
        path = (*proof.path[:i], raw.hex(), *proof.path[i + 1 :])
        bad = completed.with_proof(InclusionProof(proof.checkpoint, path))
        with pytest.raises(ReceiptError, match="does not lead to the root"):
            verify_receipt(bad, [KEY])
    # the same proof for the record before or after it (re-signed, so only the index differs)
    signer = Signer.from_seed(SEED)
    for delta in (-1, 1):
        moved = dataclasses.replace(completed, seq=completed.seq + delta)
        moved = dataclasses.replace(moved, signature=signer.sign_message(moved.message()))
        with pytest.raises(ReceiptError, match="does not lead to the root"):
            verify_receipt(moved, [KEY])
    # a checkpoint that does not cover the record
    far = dataclasses.replace(completed, seq=proof.checkpoint.seq + 1)
    far = dataclasses.replace(far, signature=signer.sign_message(far.message()))
    with pytest.raises(ReceiptError, match="covers records"):
        verify_receipt(far, [KEY])


def test_a_receipt_from_another_log(db_url, make_log, tmp_path):
    """Log B signs with another key: its receipts fail under A's key; A's receipt joined to
    B's proof fails even for a verifier who trusts both; B's log does not complete A's."""
    a = make_log(db_url)
    b = make_log(f"sqlite:///{tmp_path / 'other.db'}", signing_key="77" * 32)
    ra = run_calls(a)[1].receipt
    rb = run_calls(b)[1].receipt
    assert ra is not None
    assert rb is not None
    with pytest.raises(ReceiptError, match="not one of the trusted keys"):
        verify_receipt(rb, [KEY])
    a.checkpoint()
    b.checkpoint()
    done_a, done_b = complete_receipt(a.engine, ra), complete_receipt(b.engine, rb)
    mixed = done_a.with_proof(done_b.proof)
    with pytest.raises(ReceiptError, match="not a trusted key"):
        verify_receipt(mixed, [KEY])
    with pytest.raises(ReceiptError, match=r"does not lead to the root|covers records"):
        verify_receipt(mixed, [KEY, OTHER.public_key])
    with pytest.raises(ReceiptError, match="not a receipt of this log"):
        complete_receipt(b.engine, ra)
    assert verify_receipt(done_a, [KEY, OTHER.public_key]).included


def test_no_receipt_when_turned_off_and_none_for_other_records(sqlite_url, make_log):
    log = make_log(sqlite_url)
    (out,) = run_calls(log, amounts=(40.0,), receipts=False)
    assert out.receipt is None
    first = next(iter(log.records()))
    with pytest.raises(ReceiptError, match="not an outcome"):
        receipt_for(first, log.signer)
    with pytest.raises(ReceiptError, match="no outcome of call"):
        find_outcome(log.engine, "call_nothere")


def test_an_outcome_recorded_before_receipts_has_none(sqlite_url, make_log):
    from proctor.audit import Event, EventKind

    log = make_log(sqlite_url)
    rec = log.append(Event(EventKind.OUTCOME, {"call_id": "call_old", "tool": "t"}, "ses_1"))
    with pytest.raises(ReceiptError, match="recorded before receipts"):
        receipt_for(rec, log.signer)


def test_concurrent_calls_each_get_their_own_receipt_while_checkpoints_race(db_url, make_log):
    """8 threads call at once while checkpoints are signed every 7 records and by a thread of
    its own: every receipt names its own call and record, and completes against whichever
    checkpoint covers it."""
    log = make_log(db_url, checkpoint_every=7)
    gate = Gate(refunds_policy(), hooks=[AuditHook(log)])

    @gate.tool("payments.refund")
    def refund(order_id: str, amount: float) -> str:
        return "ok"

    outs: list[Outcome] = []
    lock = threading.Lock()
    stop = threading.Event()

    def agent(n: int) -> None:
        session = gate.open_session("refunds-bot", principal=f"ticket:T-{n}", tenant="acme")
        for i in range(6):
            out = refund(session, order_id=f"O-{n}-{i}", amount=[40.0, 250.0, 5000.0][i % 3])
            with lock:
                outs.append(out)

    def checkpointer() -> None:
        while not stop.is_set():
            log.checkpoint()

    threads = [threading.Thread(target=agent, args=(n,)) for n in range(8)]
    signer = threading.Thread(target=checkpointer)
    signer.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    signer.join()
    gate.close()
    log.checkpoint()
    assert len(outs) == 48
    seqs = set()
    for out in outs:
        r = out.receipt
        assert r is not None
        assert (r.call_id, r.status) == (out.call_id, str(out.status))
        seqs.add(r.seq)
        done = complete_receipt(log.engine, r)
        assert verify_receipt(done, [KEY], require_proof=True).included
    assert len(seqs) == 48
    assert verify(log.engine, [KEY]).ok


def test_an_outcome_recorded_before_receipts_named_the_session_has_none(sqlite_url, make_log):
    from proctor.audit import Event, EventKind

    log = make_log(sqlite_url)
    v1_body = {
        "call_id": "call_old",
        "tool": "t",
        "status": "executed",
        "verdict": "ALLOW",
        "rule_ids": [],
        "policy": "p@0",
    }
    rec = log.append(Event(EventKind.OUTCOME, v1_body, "ses_1"))
    with pytest.raises(ReceiptError, match="no agent, tenant, environment, principal, args_comm"):
        receipt_for(rec, log.signer)


def test_after_a_key_rotation_the_rebuilt_receipt_has_no_opening(sqlite_url, make_log):
    """Only the key that committed re-derives the salt: another key signs a receipt that
    verifies, without an opening (the holder's original receipt keeps its own)."""
    log = make_log(sqlite_url)
    (out,) = run_calls(log, amounts=(40.0,))
    assert out.receipt is not None
    assert out.receipt.opening is not None
    again = receipt_for(find_outcome(log.engine, out.call_id), OTHER)
    assert again.opening is None
    assert again.args_commitment == out.receipt.args_commitment
    assert verify_receipt(again, [OTHER.public_key]).receipt == again
    with pytest.raises(ReceiptError, match="no opening"):
        verify_receipt(again, [OTHER.public_key], args={"order_id": "O-1", "amount": 40.0})
