"""A receipt's JSON: canonical out, strict in. Each refused spelling names the field."""

from __future__ import annotations

import json

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
        ('"v":"proctor.receipt/v1"', '"v":"proctor.receipt/v2"', "receipt.v"),
        ('"tool":"payments.refund"', '"tool":"payments.refund","extra":1', "unknown extra"),
        ('"tool":"payments.refund",', "", "missing tool"),
        ('"tool":"payments.refund"', '"tool":"payments.refund","tool":"x"', "appears twice"),
        ('"rule_ids":["refund.over-1000"]', '"rule_ids":"refund.over-1000"', "receipt.rule_ids"),
        ('"rule_ids":["refund.over-1000"]', '"rule_ids":[1]', "receipt.rule_ids[0]"),
        ('"path":["4545', '"path":["45', "proof.path[0]"),
        ('"seq":8,', '"seq":NaN,', "NaN is not JSON"),
        ('{"proof"', '["proof"', "one JSON object"),
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
