"""Receipts as values: what the audit log signs for one outcome, and the JSON it travels as.

A receipt states, for one ``outcome`` record of the audit log, what was decided (verdict, rule
ids, policy and its SHA-256), about which call (call id, tool, and a commitment to its
arguments), in which session (id, agent, tenant, environment, and the principal's keyed digest),
what came of it (status), and where the record sits (seq, id, hash, time), under the key
``key_id``. ``signature`` is Ed25519 over ``message()``: the canonical JSON (sorted keys, no
whitespace, UTF-8) of ``statement()``. Once the next checkpoint is signed, ``proof`` carries that
checkpoint and the record's Merkle inclusion path. Signing and verifying live in
``proctor.audit``; this module only encodes.

The argument commitment is ``Receipt.commit(salt, args)``: SHA-256 of a 32-byte salt followed by
the canonical JSON of the arguments. ``opening`` (the salt, hex) travels beside the signed part,
unsigned: whoever holds it and the arguments can show that the receipt covers exactly those
arguments (``opens``); without it, the commitment reveals nothing about them, not even whether
two calls had the same arguments (each call has its own salt).

Decoding is strict, so that every byte of a receipt counts: unknown or missing keys, a wrong
type (``1.0`` for ``1``, ``true`` for ``1``), upper-case hex or a key given twice are refused
with a ``ReceiptError`` naming the field.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from proctor._json import CANONICAL as _CANONICAL
from proctor._json import VALUE as _VALUE
from proctor.errors import ReceiptError

RECEIPT_VERSION = "proctor.receipt/v2"
_V1 = "proctor.receipt/v1"
_HEX = {32: re.compile(r"[0-9a-f]{64}"), 64: re.compile(r"[0-9a-f]{128}")}


def _canonical(value: object) -> str:
    """Canonical JSON, as ``proctor.audit.canonical_json`` writes it (a test checks)."""
    return _CANONICAL.encode(value)


def args_commitment(salt: bytes, args: Mapping[str, object]) -> str:
    """SHA-256 (hex) of ``salt`` (32 bytes) followed by the canonical JSON of ``args`` (the
    encoding of the audit log's value digests: non-JSON values by their ``str``)."""
    if len(salt) != 32:
        raise ReceiptError(f"an opening is 32 bytes, got {len(salt)}")
    text = _VALUE.encode(dict(args))
    return hashlib.sha256(salt + text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class SignedTree:
    """A version 2 checkpoint as a proof carries it: the records ``tree_from + 1 .. seq`` have
    the Merkle ``root``, and the chain's head at ``seq`` is ``head_hash``; signed at ``ts`` by
    ``key_id``."""

    seq: int
    tree_from: int
    head_hash: str
    root: str
    ts: str
    key_id: str
    signature: str

    @property
    def size(self) -> int:
        return self.seq - self.tree_from

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.tree_from,
            "hash": self.head_hash,
            "key_id": self.key_id,
            "root": self.root,
            "seq": self.seq,
            "signature": self.signature,
            "ts": self.ts,
        }


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """The record is leaf ``seq - checkpoint.tree_from - 1`` of the checkpoint's tree; ``path``
    lists its sibling hashes from the leaf up (RFC 6962/9162)."""

    checkpoint: SignedTree
    path: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"checkpoint": self.checkpoint.to_dict(), "path": list(self.path)}


@dataclass(frozen=True, slots=True)
class Receipt:
    """A signed statement about one recorded outcome; see the module docstring."""

    call_id: str
    tool: str
    status: str
    verdict: str
    rule_ids: tuple[str, ...]
    policy: str
    policy_sha256: str | None
    session_id: str
    agent: str
    tenant: str
    environment: str
    principal: str
    args_commitment: str
    seq: int
    record_id: str
    record_hash: str
    ts: str
    key_id: str
    signature: str = ""
    proof: InclusionProof | None = None
    opening: str | None = None

    def statement(self) -> dict[str, Any]:
        """What the signature covers."""
        return {
            "args_commitment": self.args_commitment,
            "call_id": self.call_id,
            "key_id": self.key_id,
            "policy": self.policy,
            "policy_sha256": self.policy_sha256,
            "record": {"hash": self.record_hash, "id": self.record_id, "seq": self.seq},
            "rule_ids": list(self.rule_ids),
            "session": {
                "agent": self.agent,
                "environment": self.environment,
                "id": self.session_id,
                "principal": self.principal,
                "tenant": self.tenant,
            },
            "status": self.status,
            "tool": self.tool,
            "ts": self.ts,
            "v": RECEIPT_VERSION,
            "verdict": self.verdict,
        }

    def message(self) -> bytes:
        """The bytes the signature is over: the canonical JSON of ``statement()``."""
        return _canonical(self.statement()).encode("utf-8")

    def with_proof(self, proof: InclusionProof | None) -> Receipt:
        return replace(self, proof=proof)

    @staticmethod
    def commit(salt: bytes, args: Mapping[str, object]) -> str:
        """The argument commitment: SHA-256 (hex) of ``salt`` then the canonical JSON of
        ``args`` (see ``args_commitment``)."""
        return args_commitment(salt, args)

    def opens(self, args: Mapping[str, object]) -> bool:
        """Whether ``opening`` opens the signed commitment on ``args``: the receipt covers a
        call with exactly these arguments. False without an opening."""
        if self.opening is None:
            return False
        try:
            expected = args_commitment(bytes.fromhex(self.opening), args)
        except (ValueError, ReceiptError):  # not 32 bytes of hex: opens nothing
            return False
        return hmac.compare_digest(expected, self.args_commitment)

    def to_dict(self) -> dict[str, Any]:
        """``receipt`` (signed), ``signature``, and when present ``proof`` and ``opening``."""
        out: dict[str, Any] = {"receipt": self.statement(), "signature": self.signature}
        if self.proof is not None:
            out["proof"] = self.proof.to_dict()
        if self.opening is not None:
            out["opening"] = self.opening
        return out

    def to_json(self) -> str:
        """The receipt as canonical JSON (one line): what to hand a third party."""
        return _canonical(self.to_dict())

    @staticmethod
    def from_json(text: str | bytes) -> Receipt:
        """Decode a receipt, strictly. Raises ``ReceiptError`` naming the bad field."""
        try:
            value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ReceiptError(f"a receipt is one JSON object: {exc}") from None
        return Receipt.from_dict(value)

    @staticmethod
    def from_dict(value: object) -> Receipt:
        """Decode a receipt from its JSON object (``to_dict()``), strictly."""
        top = _object(value, "receipt file", {"receipt", "signature"}, {"proof", "opening"})
        if isinstance(top["receipt"], dict) and top["receipt"].get("v") == _V1:
            raise ReceiptError(
                f"receipt.v: {_V1!r} receipts do not say which arguments, session or principal "
                f"they cover and are no longer accepted; get a {RECEIPT_VERSION!r} receipt "
                "(proctor receipt get)"
            )
        st = _object(
            top["receipt"],
            "receipt",
            {"args_commitment", "call_id", "key_id", "policy", "policy_sha256", "record"}
            | {"rule_ids", "session", "status", "tool", "ts", "v", "verdict"},
        )
        if st["v"] != RECEIPT_VERSION:
            raise ReceiptError(f"receipt.v: expected {RECEIPT_VERSION!r}, got {st['v']!r}")
        record = _object(st["record"], "receipt.record", {"hash", "id", "seq"})
        ses = _object(
            st["session"],
            "receipt.session",
            {"agent", "environment", "id", "principal", "tenant"},
        )
        opening = top.get("opening")
        rule_ids = st["rule_ids"]
        if not isinstance(rule_ids, list):
            raise ReceiptError("receipt.rule_ids: expected a list of strings")
        sha = st["policy_sha256"]
        proof = top.get("proof")
        return Receipt(
            call_id=_str(st["call_id"], "receipt.call_id"),
            tool=_str(st["tool"], "receipt.tool"),
            status=_str(st["status"], "receipt.status"),
            verdict=_str(st["verdict"], "receipt.verdict"),
            rule_ids=tuple(_str(r, f"receipt.rule_ids[{i}]") for i, r in enumerate(rule_ids)),
            policy=_str(st["policy"], "receipt.policy"),
            policy_sha256=None if sha is None else _hex(sha, 32, "receipt.policy_sha256"),
            session_id=_str(ses["id"], "receipt.session.id"),
            agent=_str(ses["agent"], "receipt.session.agent"),
            tenant=_str(ses["tenant"], "receipt.session.tenant"),
            environment=_str(ses["environment"], "receipt.session.environment"),
            principal=_str(ses["principal"], "receipt.session.principal"),
            args_commitment=_hex(st["args_commitment"], 32, "receipt.args_commitment"),
            seq=_int(record["seq"], "receipt.record.seq"),
            record_id=_str(record["id"], "receipt.record.id"),
            record_hash=_hex(record["hash"], 32, "receipt.record.hash"),
            ts=_str(st["ts"], "receipt.ts"),
            key_id=_str(st["key_id"], "receipt.key_id"),
            signature=_hex(top["signature"], 64, "signature"),
            proof=None if proof is None else _proof(proof),
            opening=None if opening is None else _hex(opening, 32, "opening"),
        )


def _proof(value: object) -> InclusionProof:
    top = _object(value, "proof", {"checkpoint", "path"})
    cp = _object(
        top["checkpoint"],
        "proof.checkpoint",
        {"from", "hash", "key_id", "root", "seq", "signature", "ts"},
    )
    path = top["path"]
    if not isinstance(path, list):
        raise ReceiptError("proof.path: expected a list of hex hashes")
    return InclusionProof(
        SignedTree(
            seq=_int(cp["seq"], "proof.checkpoint.seq"),
            tree_from=_int(cp["from"], "proof.checkpoint.from"),
            head_hash=_hex(cp["hash"], 32, "proof.checkpoint.hash"),
            root=_hex(cp["root"], 32, "proof.checkpoint.root"),
            ts=_str(cp["ts"], "proof.checkpoint.ts"),
            key_id=_str(cp["key_id"], "proof.checkpoint.key_id"),
            signature=_hex(cp["signature"], 64, "proof.checkpoint.signature"),
        ),
        tuple(_hex(h, 32, f"proof.path[{i}]") for i, h in enumerate(path)),
    )


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ReceiptError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _constant(name: str) -> object:
    raise ReceiptError(f"{name} is not JSON")


def _object(
    value: object, where: str, required: set[str], optional: set[str] | None = None
) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ReceiptError(f"{where}: expected an object, got {type(value).__name__}")
    missing = sorted(required - value.keys())
    extra = sorted(value.keys() - required - (optional or set()))
    if missing or extra:
        raise ReceiptError(
            f"{where}: "
            + "; ".join(
                ([f"missing {', '.join(missing)}"] if missing else [])
                + ([f"unknown {', '.join(extra)}"] if extra else [])
            )
        )
    return value


def _str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ReceiptError(f"{where}: expected a string, got {type(value).__name__}")
    return value


def _int(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ReceiptError(f"{where}: expected a non-negative integer, got {value!r}")
    return value


def _hex(value: object, size: int, where: str) -> str:
    if not isinstance(value, str) or not _HEX[size].fullmatch(value):
        raise ReceiptError(f"{where}: expected {size} bytes as {2 * size} lower-case hex digits")
    return value
