"""Canonical JSON, record hashes and argument masking: the encoding every hash is taken over.

Canonical JSON here is ``json.dumps`` with sorted keys, no whitespace, UTF-8 (no ASCII
escaping) and no NaN or infinity. A record's hash is the SHA-256 of the canonical JSON of
``{"body", "id", "kind", "links", "prev", "seq", "session", "ts"}``, where ``prev`` is the hash
of the record before it. ``record_hash`` writes that encoding directly from the stored columns
(``body`` and ``links`` are stored canonical), so that verification needs no JSON parsing; a
test checks that it equals ``canonical_json`` of the dict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from hashlib import sha256 as _sha256
from json.encoder import encode_basestring as _q

from proctor._json import CANONICAL as _CANONICAL
from proctor._json import VALUE as _VALUE


def canonical_json(value: object) -> str:
    """The canonical encoding of a JSON value. Raises ``TypeError``/``ValueError`` otherwise."""
    return _CANONICAL.encode(value)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def record_hash(
    seq: int,
    record_id: str,
    ts: str,
    kind: str,
    session_id: str | None,
    links_json: str,
    body_json: str,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the canonical JSON of one record's content and its predecessor's hash."""
    session = "null" if session_id is None else _q(session_id)
    text = (
        f'{{"body":{body_json},"id":{_q(record_id)},"kind":{_q(kind)},"links":{links_json},'
        f'"prev":{_q(prev_hash)},"seq":{seq},"session":{session},"ts":{_q(ts)}}}'
    )
    return _sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def record_text_parts(
    record_id: str, ts: str, kind: str, session_id: str | None, links_json: str, body_json: str
) -> tuple[str, str]:
    """The text ``record_hash`` hashes, split around the two values only the writer holding the
    chain head knows: ``before + prev_hash + '","seq":' + str(seq) + after``. PostgreSQL's
    append function joins them, so both sides hash the same bytes (a test checks)."""
    session = "null" if session_id is None else _q(session_id)
    before = (
        f'{{"body":{body_json},"id":{_q(record_id)},"kind":{_q(kind)},"links":{links_json},"prev":"'
    )
    return before, f',"session":{session},"ts":{_q(ts)}}}'


_JSON_TYPES: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
    list: "array",
    tuple: "array",
    dict: "object",
}


def json_type(value: object) -> str:
    """The JSON type name of ``value`` (``string``, ``integer``, ...) or its Python type name."""
    for cls, name in _JSON_TYPES.items():
        if type(value) is cls:
            return name
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def value_digest(value: object) -> str:
    """SHA-256 (hex) of the canonical JSON of ``value``; non-JSON values by their ``str``."""
    return sha256_hex(_VALUE.encode(value))


Digest = Callable[[object], str]
"""A keyed digest of a value's canonical JSON (``proctor.vault.KeyedDigest``)."""


def mask_value(value: object, digest: Digest | None = None) -> dict[str, str]:
    """What the audit log keeps of a value: its type and a digest, never the value itself.
    With ``digest`` (the log's keyed digest) the digest is an HMAC that a reader without the
    key cannot reverse by trying candidates; without it, a bare SHA-256 (guessable for small
    values such as amounts: only for logs that have no key)."""
    if digest is None:
        return {"type": json_type(value), "sha256": value_digest(value)}
    return {"type": json_type(value), "hmac": digest(value)}


def mask_args(
    args: Mapping[str, object], digest: Digest | None = None
) -> dict[str, dict[str, str]]:
    """Argument names with masked values."""
    return {str(name): mask_value(value, digest) for name, value in args.items()}
