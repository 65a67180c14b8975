"""Session content as JSON, for a flow store shared through Redis.

Plain JSON, never pickle: whoever can write to Redis can change what a gateway believes about a
session's content (and should not be able to run code in it). A record that does not decode is
an error, and the flow step denies (fail closed).
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from proctor.flow import Confidentiality, Content, Label, Piece, SourceKind, Trust
from proctor.flow._values import Found


def _label(label: Label) -> list[object]:
    return [str(label.trust), int(label.confidentiality), label.tenant]


def _unlabel(raw: list[Any]) -> Label:
    trust, conf, tenant = raw
    return Label(Trust(trust), Confidentiality(int(conf)), str(tenant))


def dump_content(content: Content) -> str:
    pieces = [
        {
            "path": p.path,
            "kind": str(p.kind),
            "label": _label(p.label),
            "text": p.text,
            "compact": p.compact,
            "words": sorted(p.words),
            "numbers": sorted(str(n) for n in p.numbers),
            "values": [[f.kind, f.value] for f in p.values],
            "instructions": p.instructions,
        }
        for p in content.pieces
    ]
    body = {
        "id": content.id,
        "source": content.source,
        "label": _label(content.label),
        "at": content.at.isoformat(),
        "pieces": pieces,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True)


def load_content(text: str | bytes) -> Content:
    raw = json.loads(text)
    cid = str(raw["id"])
    pieces = tuple(
        Piece(
            cid,
            str(p["path"]),
            SourceKind(p["kind"]),
            _unlabel(p["label"]),
            str(p["text"]),
            str(p["compact"]),
            frozenset(str(w) for w in p["words"]),
            frozenset(Decimal(n) for n in p["numbers"]),
            tuple(Found(str(k), str(v)) for k, v in p["values"]),
            None if p["instructions"] is None else str(p["instructions"]),
        )
        for p in raw["pieces"]
    )
    return Content(
        cid, str(raw["source"]), _unlabel(raw["label"]), pieces, datetime.fromisoformat(raw["at"])
    )
