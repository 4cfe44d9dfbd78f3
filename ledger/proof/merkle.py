"""A Merkle tree over a chain's event hashes, in the RFC 9162 (RFC 6962) layout.

Why a tree as well as the hash chain: the chain proves a whole prefix at once,
but proving that *one* event belongs to the log means handing over every event
before it. The tree gives a logarithmic proof for one event (an audit path) and
for "the log only grew" between two signed sizes (a consistency proof), without
disclosing any other event.

Layout (RFC 9162 §2.1.1, identical to RFC 6962 §2.1)::

    leaf i (0-based)     = the 32-byte stored ``hash`` of the event at position i + 1
    MTH({})              = SHA-256()                              (empty tree)
    MTH({d0})            = SHA-256(0x00 ‖ d0)                     (leaf hash)
    MTH(D[n]), n > 1     = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))
                           k = the largest power of two smaller than n

Roots are computed level by level, not recursively: pairing adjacent nodes and
carrying an unpaired last node up unchanged builds exactly the tree of the
split rule, and keeps one level in memory (a million leaves root in about a
second and a half of SHA-256 on one core). The proofs are the RFC's ``PATH``
(§2.1.3.1) and ``PROOF`` (§2.1.4.1); the verifiers follow §2.1.3.2 and §2.1.4.2
step by step so they can be compared with the text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 ‖ leaf): the hash of one leaf (an event's stored hash)."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right): the hash of an inner node."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def leaf_hashes(leaves: Iterable[bytes]) -> list[bytes]:
    """The leaf hashes of raw leaves, in order."""
    sha256 = hashlib.sha256
    return [sha256(LEAF_PREFIX + leaf).digest() for leaf in leaves]


def _next_level(level: Sequence[bytes]) -> list[bytes]:
    sha256 = hashlib.sha256
    upper = [sha256(NODE_PREFIX + level[i] + level[i + 1]).digest()
             for i in range(0, len(level) - 1, 2)]
    if len(level) % 2:
        upper.append(level[-1])  # an unpaired last node moves up unchanged
    return upper


def root_of_hashes(hashes: Sequence[bytes]) -> bytes:
    """The tree head over nodes that are already leaf hashes (or subtree roots)."""
    if not hashes:
        return EMPTY_ROOT
    level = list(hashes)
    while len(level) > 1:
        level = _next_level(level)
    return level[0]


def _size(leaves: Sequence[bytes], size: int | None) -> int:
    n = len(leaves) if size is None else size
    if not 0 <= n <= len(leaves):
        msg = f"tree size {n} is outside 0..{len(leaves)}"
        raise ValueError(msg)
    return n


def merkle_root(leaves: Sequence[bytes], size: int | None = None) -> bytes:
    """MTH of the first ``size`` leaves (all of them by default)."""
    n = _size(leaves, size)
    return root_of_hashes(leaf_hashes(leaves[:n]))


def inclusion_proofs(
    leaves: Sequence[bytes], indices: Iterable[int], size: int | None = None
) -> dict[int, list[bytes]]:
    """Audit paths (RFC 9162 ``PATH``) of several leaves of one tree, in one pass.

    Each path lists sibling hashes from the leaf's level up to the root's
    children; a level where the node has no sibling (it is carried up) adds
    nothing, which is what the split rule gives.
    """
    n = _size(leaves, size)
    wanted = sorted(set(indices))
    for index in wanted:
        if not 0 <= index < n:
            msg = f"leaf index {index} is outside a tree of {n} leaves"
            raise ValueError(msg)
    paths: dict[int, list[bytes]] = {index: [] for index in wanted}
    cursor = {index: index for index in wanted}
    level = leaf_hashes(leaves[:n])
    while len(level) > 1:
        for index, at in cursor.items():
            sibling = at ^ 1
            if sibling < len(level):
                paths[index].append(level[sibling])
            cursor[index] = at >> 1
        level = _next_level(level)
    return paths


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """The audit path of leaf ``index`` (0-based) in the tree of the first ``size`` leaves."""
    return inclusion_proofs(leaves, [index], size)[index]


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The subtrees (leaf ranges) whose roots form RFC 9162 ``PROOF(m, D[n])``."""
    if not 0 < old_size <= new_size:
        msg = f"a consistency proof needs 0 < old size <= new size (got {old_size}, {new_size})"
        raise ValueError(msg)
    ranges: list[tuple[int, int]] = []  # appended top-down; the proof lists them bottom-up
    start, m, n, whole = 0, old_size, new_size, True
    while m != n:
        k = _largest_power_of_two_below(n)
        if m <= k:
            ranges.append((start + k, start + n))  # MTH(D[k:n]) follows the subproof
            n = k
        else:
            ranges.append((start, start + k))  # MTH(D[0:k]) follows the subproof
            start, m, n, whole = start + k, m - k, n - k, False
    if not whole:
        ranges.append((start, start + m))  # SUBPROOF(m, D[m], false) = {MTH(D[m])}
    ranges.reverse()
    return ranges


def consistency_proof(
    leaves: Sequence[bytes], old_size: int, new_size: int | None = None
) -> list[bytes]:
    """RFC 9162 ``PROOF(old_size, D[new_size])`` over the given leaves."""
    n = _size(leaves, new_size)
    hashes = leaf_hashes(leaves[:n])
    return [root_of_hashes(hashes[a:b]) for a, b in consistency_ranges(old_size, n)]


def root_from_inclusion_proof(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes | None:
    """RFC 9162 §2.1.3.2 steps 1-4: the root an audit path leads to (None if malformed)."""
    if not 0 <= index < size:
        return None
    fn, sn = index, size - 1
    r = leaf_hash(leaf)
    for p in proof:
        if len(p) != HASH_SIZE or sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows ``leaf`` at ``index`` in the tree of ``size`` with ``root``."""
    return root_from_inclusion_proof(index, size, leaf, proof) == root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: whether the tree of ``new_root`` extends the one of ``old_root``.

    Equal sizes need an empty proof and equal roots (``SUBPROOF(m, D[m], true)``
    is empty); the RFC's algorithm itself covers 0 < old size < new size.
    """
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    path = list(proof)
    if not path or any(len(c) != HASH_SIZE for c in path):
        return False
    if old_size & (old_size - 1) == 0:  # an exact power of two
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0
