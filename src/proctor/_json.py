"""The two canonical JSON encoders that what Proctor hashes, signs or digests is encoded with:
sorted keys, no whitespace, UTF-8 (no ASCII escaping). Built once and shared: ``json.dumps``
with these options builds a ``JSONEncoder`` on every call (about 1 us, as much as encoding a
short value), and one built once encodes the same bytes (it keeps no state between calls).
Here, below every package (it imports nothing of Proctor), so that the audit log, receipts
(``proctor.model``) and keyed digests (``proctor.vault``) use one definition, not copies.
"""

from __future__ import annotations

import json

CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
"""A JSON value, strictly: anything else (and NaN, infinity) raises. Records and receipts."""

VALUE = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
"""Any value, non-JSON ones by their ``str``: value digests and argument commitments."""
