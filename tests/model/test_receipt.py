"""A receipt's JSON: canonical out, strict in. Each refused spelling names the field."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from proctor.audit import canonical_json
from proctor.errors import ReceiptError
from proctor.model import InclusionProof, Receipt, SignedTree

RECEIPT = Receipt(
    call_id="call_1",
    tool="payments.refund",
    status="denied",
    verdict="DENY",
    rule_ids=("refund.over-1000",),
    policy="refunds-bot@0123456789ab",
    policy_sha256="ab" * 32,
    session_id="ses_1",
    agent="refunds-bot",
    tenant="acme",
    environment="production",
    principal="hmac-sha256:audit-8b81c862:" + "12" * 32,
    args_commitment="34" * 32,
    seq=8,
    record_id="rec_1",
    record_hash="cd" * 32,
    ts="2026-11-25T17:57:06.039281Z",
    key_id="8b81c862681b712b",
    signature="ef" * 64,
    proof=InclusionProof(
        SignedTree(
            8, 5, "cd" * 32, "01" * 32, "2026-11-25T17:57:07Z", "8b81c862681b712b", "23" * 64
        ),
        ("45" * 32,),
    ),
    opening="56" * 32,
)
TEXT = RECEIPT.to_json()


def test_round_trip_and_canonical():
    assert Receipt.from_json(TEXT) == RECEIPT
    assert Receipt.from_json(TEXT.encode()) == RECEIPT
    assert canonical_json(json.loads(TEXT)) == TEXT
    assert RECEIPT.message() == canonical_json(RECEIPT.statement()).encode()
    assert Receipt.from_json(json.dumps(json.loads(TEXT), indent=2)) == RECEIPT  # layout is free
    bare = RECEIPT.with_proof(None)
    assert "proof" not in json.loads(bare.to_json())
    assert Receipt.from_json(bare.to_json()) == bare
    closed = replace(RECEIPT, opening=None)
    assert "opening" not in json.loads(closed.to_json())
    assert Receipt.from_json(closed.to_json()) == closed
    assert "opening" not in RECEIPT.statement()  # beside the signed part, not in it


def test_the_commitment_opens_on_the_same_arguments_only():
    salt = bytes(range(32))
    args = {"amount": 250.0, "order_id": "O-1", "note": "é"}
    text = json.dumps(args, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert Receipt.commit(salt, args) == hashlib.sha256(salt + text.encode()).hexdigest()
    r = replace(RECEIPT, args_commitment=Receipt.commit(salt, args), opening=salt.hex())
    assert r.opens(dict(reversed(args.items())))  # key order is free
    assert not r.opens({**args, "amount": 2500.0})
    assert not r.opens({**args, "amount": 250})
    assert not replace(r, opening=None).opens(args)
    assert not replace(r, opening="00" * 32).opens(args)
    assert not replace(r, opening="zz" * 32).opens(args)  # built by hand, not decoded
    assert not replace(r, opening="00" * 8).opens(args)
    with pytest.raises(ReceiptError, match="32 bytes"):
        Receipt.commit(b"short", args)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ('"seq":8,', '"seq":8.0,', "proof.checkpoint.seq"),
        ('"seq":8,', '"seq":true,', "proof.checkpoint.seq"),
        ('"seq":8,', '"seq":-8,', "proof.checkpoint.seq"),
        ('"seq":8}', '"seq":8.0}', "receipt.record.seq"),
        ('"from":5,', '"from":"5",', "proof.checkpoint.from"),
        ('"hash":"cdcd', '"hash":"CDcd', "proof.checkpoint.hash"),
        ('"signature":"efef', '"signature":"EFef', "signature"),
        ('"v":"proctor.receipt/v2"', '"v":"proctor.receipt/v3"', "receipt.v"),
        ('"v":"proctor.receipt/v2"', '"v":"proctor.receipt/v1"', "no longer accepted"),
        ('"tenant":"acme"', '"tenant":null', "receipt.session.tenant"),
        (',"tenant":"acme"', "", "receipt.session: missing tenant"),
        ('"opening":"5656', '"opening":"56', "opening"),
        ('"opening":"5656', '"opening":"X656', "opening"),
        ('"args_commitment":"3434', '"args_commitment":"34', "receipt.args_commitment"),
        ('"tool":"payments.refund"', '"tool":"payments.refund","extra":1', "unknown extra"),
        ('"tool":"payments.refund",', "", "missing tool"),
        ('"tool":"payments.refund"', '"tool":"payments.refund","tool":"x"', "appears twice"),
        ('"rule_ids":["refund.over-1000"]', '"rule_ids":"refund.over-1000"', "receipt.rule_ids"),
        ('"rule_ids":["refund.over-1000"]', '"rule_ids":[1]', "receipt.rule_ids[0]"),
        ('"path":["4545', '"path":["45', "proof.path[0]"),
        ('"seq":8,', '"seq":NaN,', "NaN is not JSON"),
        ('{"opening"', '["opening"', "one JSON object"),
    ],
)
def test_strict_decoding_names_the_field(old, new, field):
    assert old in TEXT
    with pytest.raises(ReceiptError, match=field.replace("[", r"\[").replace("]", r"\]")):
        Receipt.from_json(TEXT.replace(old, new, 1))


def test_not_an_object_and_not_utf8():
    with pytest.raises(ReceiptError, match="receipt file: expected an object"):
        Receipt.from_json("[]")
    with pytest.raises(ReceiptError, match="one JSON object"):
        Receipt.from_json(b"\xff" + TEXT.encode()[1:])
