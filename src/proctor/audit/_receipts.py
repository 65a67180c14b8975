"""Receipts: the audit log's signed statement about one outcome, and its inclusion proof.

A receipt is built from one ``outcome`` record alone (call id, tool, status, verdict, rule ids,
policy and its SHA-256, the session's agent, tenant, environment and masked principal, and the
commitment to the call's arguments are in its body; seq, id, hash, session and time are its
place in the chain), so the receipt handed to the caller at call time and the one ``proctor
receipt get`` rebuilds later are the same bytes (Ed25519 signatures are deterministic, and the
opening is re-derived from the signing key and the record id, never stored). It is signed
with the log's signing key: a third party needs one public key for receipts and checkpoints,
and the two signed texts never coincide (a checkpoint's canonical JSON has the keys ``chain``,
``hash``, ``seq``..., a receipt's ``args_commitment``, ``call_id``, ..., ``v``).

Completing a receipt stores nothing: the checkpoint that covers its record already signs the
Merkle root over the records since the checkpoint before; the inclusion path is recomputed
from those records' hashes (one query). ``verify_receipt`` needs no database: the receipt's
signature, the checkpoint's signature, and the root recomputed from the leaf and its path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, select

from proctor.audit._checkpoints import read_checkpoints
from proctor.audit._errors import AuditError
from proctor.audit._events import EventKind
from proctor.audit._keys import Signer, key_id, tree_checkpoint_message, verify_message
from proctor.audit._log import _RECORD_COLUMNS, Record, _record
from proctor.audit._merkle import inclusion_path, merkle_root, root_from_path
from proctor.errors import ReceiptError
from proctor.model import InclusionProof, Receipt, SignedTree
from proctor.store import audit_records

_RECEIPT_FIELDS = ("call_id", "tool", "status", "verdict", "rule_ids", "policy")
_SESSION_FIELDS = ("agent", "tenant", "environment", "principal", "args_commitment")


def receipt_for(record: Record, signer: Signer, body: Mapping[str, Any] | None = None) -> Receipt:
    """The signed receipt of an ``outcome`` record, with its opening: the salt of the argument
    commitment, re-derived from ``signer`` (None if another key made the commitment: after a
    key rotation, only the old key re-derives it). ``body``: the record's body as it was
    written (the event's), which spares decoding ``record.body_json``. Raises ``ReceiptError``
    for another kind of record, or an outcome recorded before receipts existed or before they
    named the session and the arguments they cover."""
    if record.kind != EventKind.OUTCOME:
        raise ReceiptError(f"record {record.seq} is a {record.kind!r} record, not an outcome")
    if body is None:
        body = json.loads(record.body_json)
    missing = [f for f in _RECEIPT_FIELDS if f not in body]
    if missing:
        raise ReceiptError(
            f"the outcome record {record.seq} has no {', '.join(missing)}: it was recorded "
            "before receipts existed, and no receipt can be signed for it"
        )
    missing = [f for f in _SESSION_FIELDS if body.get(f) is None]
    if missing or record.session_id is None:
        raise ReceiptError(
            f"the outcome record {record.seq} has no {', '.join(missing or ['session'])}: it "
            f"was recorded before receipts named the session and the arguments they cover, "
            "and no receipt can be signed for it"
        )
    fields: dict[str, Any] = {
        "call_id": str(body["call_id"]),
        "tool": str(body["tool"]),
        "status": str(body["status"]),
        "verdict": str(body["verdict"]),
        "rule_ids": tuple(str(r) for r in body["rule_ids"]),
        "policy": str(body["policy"]),
        "policy_sha256": body.get("policy_sha256"),
        "session_id": record.session_id,
        "agent": str(body["agent"]),
        "tenant": str(body["tenant"]),
        "environment": str(body["environment"]),
        "principal": str(body["principal"]),
        "args_commitment": str(body["args_commitment"]),
        "seq": record.seq,
        "record_id": record.id,
        "record_hash": record.hash,
        "ts": record.ts,
        "key_id": signer.key_id,
    }
    # built twice from the same fields (unsigned, to get its message; then signed): cheaper
    # than ``dataclasses.replace`` of 21 fields, once per gated call
    opening = (
        signer.receipt_salt(record.id).hex()
        if body.get("commitment_key") == signer.key_id
        else None
    )
    signature = signer.sign_message(Receipt(**fields).message())
    return Receipt(**fields, signature=signature, opening=opening)


def find_outcome(engine: Engine, call_id: str, session_id: str | None = None) -> Record:
    """The last ``outcome`` record of ``call_id`` (a held call that was approved has two: the
    pending one and the final one). Without ``session_id`` every outcome record is scanned."""
    needle = json.dumps(call_id, ensure_ascii=False)[1:-1]
    query = select(*_RECORD_COLUMNS).where(
        audit_records.c.kind == str(EventKind.OUTCOME),
        audit_records.c.body.contains(f'"call_id":"{needle}"', autoescape=True),
    )
    if session_id is not None:
        query = query.where(audit_records.c.session_id == session_id)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(audit_records.c.seq.desc())).all()
    for row in rows:  # the LIKE is a filter: the body must really name this call
        record = _record(row)
        if record.body.get("call_id") == call_id:
            return record
    raise ReceiptError(f"no outcome of call {call_id} in the audit log")


def complete_receipt(engine: Engine, receipt: Receipt) -> Receipt:
    """``receipt`` with the inclusion proof of its record in the checkpoint that covers it.
    Raises ``ReceiptError`` if no checkpoint covers the record yet (sign one, or wait for the
    next), if the covering checkpoint predates Merkle roots, or if the log disagrees with the
    receipt (the record at its seq has another hash)."""
    covering = next((cp for cp in read_checkpoints(engine) if cp.seq >= receipt.seq), None)
    if covering is None:
        raise ReceiptError(
            f"record {receipt.seq} is not covered by a signed checkpoint yet: complete the "
            "receipt after the next checkpoint"
        )
    if covering.version != 2 or covering.root is None or covering.tree_from is None:
        raise ReceiptError(
            f"record {receipt.seq} is covered by the checkpoint at seq {covering.seq}, signed "
            "before checkpoints carried Merkle roots: no inclusion proof exists for it"
        )
    with engine.connect() as conn:
        hashes = list(
            conn.execute(
                select(audit_records.c.hash)
                .where(
                    audit_records.c.seq > covering.tree_from,
                    audit_records.c.seq <= covering.seq,
                )
                .order_by(audit_records.c.seq)
            ).scalars()
        )
    index = receipt.seq - covering.tree_from - 1
    if len(hashes) != covering.seq - covering.tree_from or not 0 <= index < len(hashes):
        raise AuditError(f"records {covering.tree_from + 1}..{covering.seq} are not all there")
    if hashes[index] != receipt.record_hash:
        raise ReceiptError(
            f"the record at seq {receipt.seq} has hash {hashes[index][:16]}..., the receipt "
            f"names {receipt.record_hash[:16]}...: not a receipt of this log"
        )
    if merkle_root(hashes) != covering.root:
        raise AuditError(
            f"the records {covering.tree_from + 1}..{covering.seq} do not hash to the root the "
            "checkpoint signed: run proctor audit verify"
        )
    tree = SignedTree(
        covering.seq,
        covering.tree_from,
        covering.head_hash,
        covering.root,
        covering.ts,
        covering.key_id,
        covering.signature,
    )
    return receipt.with_proof(InclusionProof(tree, tuple(inclusion_path(hashes, index))))


@dataclass(frozen=True, slots=True)
class ReceiptCheck:
    """What ``verify_receipt`` established: the receipt is signed by a trusted key, and, if
    ``included``, its record is in the tree the checkpoint at ``checkpoint_seq`` signed; if
    ``args_checked``, the arguments given are the call's."""

    receipt: Receipt
    included: bool
    checkpoint_seq: int | None
    args_checked: bool = False


def verify_receipt(
    receipt: Receipt,
    public_keys: Sequence[Ed25519PublicKey],
    *,
    require_proof: bool = False,
    args: Mapping[str, object] | None = None,
) -> ReceiptCheck:
    """Check ``receipt`` offline against the trusted ``public_keys``. Raises ``ReceiptError``
    naming what failed: an untrusted key, a bad signature, a missing (if ``require_proof``) or
    failing inclusion proof, and with ``args`` a missing opening or arguments other than the
    ones the receipt commits to. Returns what was established (``args_checked``: ``args``
    are the call's arguments)."""
    keys = {key_id(k): k for k in public_keys}
    if not keys:
        raise ReceiptError("no trusted public key given: a receipt proves nothing without one")
    key = keys.get(receipt.key_id)
    if key is None:
        raise ReceiptError(
            f"the receipt is signed by key {receipt.key_id}, not one of the trusted keys "
            f"({', '.join(sorted(keys))})"
        )
    if not verify_message(key, receipt.message(), receipt.signature):
        raise ReceiptError(
            "the receipt's signature does not verify: it was altered, or signed by another log"
        )
    if args is not None:
        if receipt.opening is None:
            raise ReceiptError(
                "the receipt carries no opening: its argument commitment cannot be checked"
            )
        if not receipt.opens(args):
            raise ReceiptError("not the arguments the receipt commits to (or a wrong opening)")
    checked = args is not None
    proof = receipt.proof
    if proof is None:
        if require_proof:
            raise ReceiptError("the receipt carries no inclusion proof (proctor receipt complete)")
        return ReceiptCheck(receipt, False, None, checked)
    cp = proof.checkpoint
    cp_key = keys.get(cp.key_id)
    if cp_key is None:
        raise ReceiptError(f"the checkpoint is signed by key {cp.key_id}, not a trusted key")
    message = tree_checkpoint_message(cp.seq, cp.head_hash, cp.root, cp.tree_from, cp.ts)
    if not verify_message(cp_key, message, cp.signature):
        raise ReceiptError(f"the signature of the checkpoint at seq {cp.seq} does not verify")
    if not cp.tree_from < receipt.seq <= cp.seq:
        raise ReceiptError(
            f"the checkpoint covers records {cp.tree_from + 1}..{cp.seq}, not record {receipt.seq}"
        )
    if cp.seq == receipt.seq and cp.head_hash != receipt.record_hash:
        raise ReceiptError(f"the checkpoint's head at seq {cp.seq} is another record")
    root = root_from_path(receipt.record_hash, receipt.seq - cp.tree_from - 1, cp.size, proof.path)
    if root != cp.root:
        raise ReceiptError(
            f"the inclusion path does not lead to the root the checkpoint at seq {cp.seq} "
            "signed: the record is not proven to be in the log"
        )
    return ReceiptCheck(receipt, True, cp.seq, checked)
