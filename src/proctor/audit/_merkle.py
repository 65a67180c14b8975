"""Merkle trees over record hashes, as Certificate Transparency builds them (RFC 6962 section
2.1, RFC 9162 section 2.1).

A leaf is a record's hash: its 32 raw bytes (the hex of the ``hash`` column, decoded). The leaf
hash is ``SHA-256(0x00 || leaf)`` and an inner node ``SHA-256(0x01 || left || right)``: the two
prefixes keep a leaf from ever being taken for a node (the second-preimage attack on unprefixed
trees). The tree over ``n`` leaves is RFC 6962's: the left subtree holds the largest power of
two smaller than ``n`` leaves. Built level by level, an odd node at the end of a level moves up
unhashed (never duplicated, as Bitcoin does), which gives the same tree; a test checks both
against the recursive definition.

An inclusion path lists the sibling hashes from the leaf up; ``root_from_path`` is RFC 9162's
verification algorithm (section 2.1.3.2), which also rejects a path of the wrong length for the
leaf's index and the tree's size.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_LEAF = b"\x00"
_NODE = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree (RFC 6962: the hash of the empty string)."""


def leaf_hash(record_hash: str) -> bytes:
    """The leaf hash of a record: ``SHA-256(0x00 || bytes.fromhex(record_hash))``."""
    return hashlib.sha256(_LEAF + bytes.fromhex(record_hash)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(_NODE + left + right).digest()


def _levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaves first, root last."""
    levels = [leaves]
    level = leaves
    sha = hashlib.sha256
    while len(level) > 1:
        up = [sha(_NODE + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            up.append(level[-1])  # the odd node moves up unhashed
        levels.append(up)
        level = up
    return levels


def merkle_root(record_hashes: Sequence[str]) -> str:
    """The root (hex) of the tree whose leaves are ``record_hashes`` (hex), in order."""
    if not record_hashes:
        return EMPTY_ROOT.hex()
    return _levels([leaf_hash(h) for h in record_hashes])[-1][0].hex()


def inclusion_path(record_hashes: Sequence[str], index: int) -> list[str]:
    """The audit path (hex sibling hashes, bottom up) of leaf ``index`` in the tree over
    ``record_hashes`` (RFC 6962 ``PATH(m, D[n])``)."""
    if not 0 <= index < len(record_hashes):
        raise IndexError(f"leaf {index} is not in a tree of {len(record_hashes)} leaves")
    path: list[str] = []
    for level in _levels([leaf_hash(h) for h in record_hashes])[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(level[sibling].hex())
        index //= 2
    return path


def root_from_path(record_hash: str, index: int, size: int, path: Sequence[str]) -> str | None:
    """The root that the leaf ``record_hash`` at ``index`` and its audit ``path`` imply for a
    tree of ``size`` leaves, or None when the path cannot belong to that index and size (RFC
    9162, 2.1.3.2). Compare the result with the signed root."""
    if not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    r = leaf_hash(record_hash)
    for hex_sibling in path:
        if sn == 0:
            return None
        p = bytes.fromhex(hex_sibling)
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r.hex() if sn == 0 else None
