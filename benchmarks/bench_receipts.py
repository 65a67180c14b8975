"""Receipts: what they cost. Signing one receipt and verifying it (with and without its
inclusion proof), a checkpoint with its Merkle root over 1,000 records against signing the head
alone, completing a receipt, a gated call with receipts on and off, and verification of a chain
with Merkle roots.

Run with ``python benchmarks/bench_receipts.py``. Prints figures (median of several runs);
asserts nothing (timings depend on the machine). SQLite with ``synchronous=NORMAL`` so that
the disk does not hide what is measured.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from proctor import Gate
from proctor.audit import (
    AuditHook,
    AuditLog,
    AuditSettings,
    Event,
    EventKind,
    Signer,
    complete_receipt,
    merkle_root,
    receipt_for,
    verify,
    verify_receipt,
)
from proctor.model import Receipt, new_id
from proctor.policy import load_policy
from proctor.store import StoreSettings

SEED = "be" * 32
SIGNER = Signer.from_seed(SEED)
ROOT = Path(__file__).resolve().parents[1]


def per_op(fn: Callable[[], object], n: int, runs: int = 5) -> float:
    """Median seconds per call of ``fn`` over ``runs`` runs of ``n`` calls."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t) / n)
    return statistics.median(times)


def show(label: str, value: float, unit: str) -> None:
    print(f"{label:<54}{value:9.2f} {unit}")


def open_log(tmp: Path, name: str, **kw: object) -> AuditLog:
    store = StoreSettings(sqlite_path=tmp / name, sqlite_synchronous="NORMAL")
    return AuditLog.open(AuditSettings(store, signing_key=SEED, **kw))  # type: ignore[arg-type]


def outcome(n: int) -> Event:
    rid = new_id("rec")
    body = {
        "call_id": f"call_{n:016x}",
        "tool": "payments.refund",
        "status": "denied",
        "verdict": "DENY",
        "rule_ids": ["refund.over-1000"],
        "policy": "refunds-bot@0123456789ab",
        "policy_sha256": "ab" * 32,
        "approval_id": None,
        "error": "Refunds above 1000 are never made by an agent.",
        "duration_ms": None,
        "agent": "refunds-bot",
        "tenant": "acme",
        "environment": "production",
        "principal": "hmac-sha256:audit-bench:" + "00" * 32,
        "args_commitment": Receipt.commit(SIGNER.receipt_salt(rid), {"order_id": f"O-{n}"}),
        "commitment_key": SIGNER.key_id,
    }
    return Event(EventKind.OUTCOME, body, "ses_bench", id=rid)


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    signer = Signer.from_seed(SEED)
    key = signer.public_key

    log = open_log(tmp, "sign.db", checkpoint_every=10**9, checkpoint_seconds=10**9)
    records = log.append_many([outcome(i) for i in range(1000)])
    rec = records[500]
    message = rec.body_json.encode()
    raw = per_op(lambda: signer.sign_message(message), 2000)
    show("Ed25519 signature alone (the machine's baseline)", raw * 1e6, "us")
    sign = per_op(lambda: receipt_for(rec, signer), 2000)
    show("sign one receipt (build from the record + Ed25519)", sign * 1e6, "us")
    args = {"order_id": "O-1", "amount": 5000.0}
    commit = per_op(lambda: Receipt.commit(signer.receipt_salt(rec.id), args), 2000)
    show("commit to a call's arguments (derive the salt + SHA-256)", commit * 1e6, "us")
    receipt = receipt_for(rec, signer)
    check = per_op(lambda: verify_receipt(receipt, [key]), 2000)
    show("verify a receipt (signature only)", check * 1e6, "us")
    opened = per_op(lambda: verify_receipt(receipt, [key], args={"order_id": "O-500"}), 2000)
    show("verify a receipt and its arguments", opened * 1e6, "us")

    hashes = [r.hash for r in records]
    root = per_op(lambda: merkle_root(hashes), 50)
    show("Merkle root over 1,000 record hashes", root * 1e3, "ms")
    cp_time = per_op(lambda: (log.append(outcome(0)), log.checkpoint()), 20, runs=3)
    show("append 1 + checkpoint (root over 1 record)", cp_time * 1e3, "ms")
    log.append_many([outcome(i) for i in range(999)])
    t = time.perf_counter()
    log.checkpoint()
    show(
        "checkpoint over 1,000 records (query + root + sign)", (time.perf_counter() - t) * 1e3, "ms"
    )
    done = complete_receipt(log.engine, receipt_for(log.get(records[-1].id) or rec, signer))
    complete = per_op(lambda: complete_receipt(log.engine, receipt), 20, runs=3)
    show("complete a receipt (tree of 1,000 records)", complete * 1e3, "ms")
    proof = per_op(lambda: verify_receipt(done, [key], require_proof=True), 2000)
    show("verify a completed receipt (2 signatures + path)", proof * 1e6, "us")
    log.close()

    policy = load_policy(ROOT / "examples" / "refunds.yaml")
    for receipts in (False, True, False, True):
        log = open_log(tmp, f"gate-{receipts}-{time.monotonic_ns()}.db")
        gate = Gate(policy, hooks=[AuditHook(log, receipts=receipts)])
        session = gate.open_session("refunds-bot", principal="ticket:T-1", tenant="acme")
        args = {"order_id": "O-1", "amount": 5000.0}
        for _ in range(50):
            gate.decide(session, "payments.refund", args)
        call = per_op(lambda: gate.call(session, "payments.refund", args), 300, runs=3)  # noqa: B023
        show(
            f"gated call (denied, recorded), receipts {'on' if receipts else 'off'}",
            call * 1e6,
            "us",
        )
        gate.close()
        log.close()

    log = open_log(tmp, "verify.db")
    for _ in range(50):
        log.append_many([outcome(i) for i in range(1000)])
    log.close()
    log = open_log(tmp, "verify.db")
    t = time.perf_counter()
    report = verify(log.engine, [key])
    took = time.perf_counter() - t
    assert report.ok
    chained = [r.hash for r in log.records()]
    t = time.perf_counter()
    for i in range(0, len(chained), 1000):
        merkle_root(chained[i : i + 1000])
    roots = time.perf_counter() - t
    print(
        f"verify 50,000 records, {report.roots} Merkle roots: {report.records / took:,.0f} "
        f"records/s ({took:.2f} s, of which about {roots:.2f} s recomputing the roots)"
    )
    log.close()


if __name__ == "__main__":
    main()
