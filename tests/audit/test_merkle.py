"""Merkle trees against a straightforward reference (RFC 6962, section 2.1, as written there):
roots and paths for every tree size, and verification that refuses a changed path."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from proctor.audit import inclusion_path, leaf_hash, merkle_root, root_from_path
from proctor.audit._merkle import EMPTY_ROOT


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ref_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962, recursively, on the raw leaf inputs."""
    n = len(leaves)
    if n == 0:
        return _h(b"")
    if n == 1:
        return _h(b"\x00" + leaves[0])
    k = 1
    while k * 2 < n:
        k *= 2
    return _h(b"\x01" + ref_root(leaves[:k]) + ref_root(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_root(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_root(leaves[:k])]


def hashes(n: int, salt: int = 0) -> list[str]:
    return [hashlib.sha256(f"{salt}:{i}".encode()).hexdigest() for i in range(n)]


SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 100]  # odd, even, powers of two, one leaf


@pytest.mark.parametrize("n", SIZES)
def test_root_and_every_path_match_the_reference(n):
    leaves = hashes(n)
    raw = [bytes.fromhex(h) for h in leaves]
    root = merkle_root(leaves)
    assert root == ref_root(raw).hex()
    for m in range(n):
        path = inclusion_path(leaves, m)
        assert path == [p.hex() for p in ref_path(m, raw)]
        assert root_from_path(leaves[m], m, n, path) == root


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70), st.data())
def test_any_tree_matches_the_reference(raw, data):
    leaves = [b.hex() for b in raw]
    m = data.draw(st.integers(0, len(leaves) - 1))
    assert merkle_root(leaves) == ref_root(raw).hex()
    path = inclusion_path(leaves, m)
    assert path == [p.hex() for p in ref_path(m, raw)]
    assert root_from_path(leaves[m], m, len(leaves), path) == merkle_root(leaves)


def test_the_empty_tree_and_the_prefixes():
    assert merkle_root([]) == EMPTY_ROOT.hex() == hashlib.sha256(b"").hexdigest()
    one = hashes(1)[0]
    assert leaf_hash(one) == _h(b"\x00" + bytes.fromhex(one))
    assert merkle_root([one]) == leaf_hash(one).hex()  # not the record hash itself


def test_an_inner_node_is_never_taken_for_a_leaf():
    """The second-preimage attack: offer an inner node of a 4-leaf tree as a "record" of a
    2-leaf tree, with the other inner node as its path. Without the 0x00/0x01 prefixes this
    reproduces the root; with them it does not."""
    leaves = hashes(4)
    root = merkle_root(leaves)
    levels = [leaf_hash(h) for h in leaves]
    n0 = _h(b"\x01" + levels[0] + levels[1])
    n1 = _h(b"\x01" + levels[2] + levels[3])
    assert root == _h(b"\x01" + n0 + n1).hex()
    assert root_from_path(n0.hex(), 0, 2, [n1.hex()]) != root
    assert root_from_path(n1.hex(), 1, 2, [n0.hex()]) != root


@given(st.integers(1, 40), st.data())
def test_a_changed_sibling_or_another_index_fails(n, data):
    leaves = hashes(n, salt=n)
    m = data.draw(st.integers(0, n - 1))
    root = merkle_root(leaves)
    path = inclusion_path(leaves, m)
    if path:
        i = data.draw(st.integers(0, len(path) - 1))
        bit = data.draw(st.integers(0, 255))
        raw = bytearray(bytes.fromhex(path[i]))
        raw[bit // 8] ^= 1 << (bit % 8)
        bad = [*path[:i], raw.hex(), *path[i + 1 :]]
        assert root_from_path(leaves[m], m, n, bad) != root
        assert root_from_path(leaves[m], m, n, path[:-1]) != root  # one sibling short
    other = data.draw(st.integers(0, n - 1).filter(lambda j: j != m)) if n > 1 else None
    if other is not None:
        # the path of leaf m offered for another index, and another leaf's path for leaf m
        assert root_from_path(leaves[m], other, n, path) != root
        assert root_from_path(leaves[m], m, n, inclusion_path(leaves, other)) != root
    assert root_from_path(leaves[m], m, n, [*path, "00" * 32]) != root  # one sibling too many
    assert root_from_path(leaves[m], m, n + 1, path) != merkle_root([*leaves, hashes(1)[0]])
    assert root_from_path(leaves[m], n, n, path) is None  # index outside the tree


def test_inclusion_path_refuses_an_index_outside_the_tree():
    with pytest.raises(IndexError):
        inclusion_path(hashes(3), 3)
