"""The Merkle tree against hand-computed trees, the RFC's recursive definitions and its size."""

from __future__ import annotations

import hashlib
import math
import time

import pytest

from ledger.proof import merkle

H = lambda data: hashlib.sha256(data).digest()  # noqa: E731


def leaves_of(n: int) -> list[bytes]:
    return [H(b"event %d" % i) for i in range(n)]


def ref_mth(d: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, literally (recursive)."""
    n = len(d)
    if n == 0:
        return H(b"")
    if n == 1:
        return H(b"\x00" + d[0])
    k = 1 << ((n - 1).bit_length() - 1)
    return H(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    n = len(d)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b)."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def test_hand_computed_trees() -> None:
    a, b, c = b"a" * 32, b"b" * 32, b"c" * 32
    la, lb, lc = (H(b"\x00" + x) for x in (a, b, c))
    assert merkle.merkle_root([]) == H(b"")
    assert merkle.merkle_root([a]) == la
    assert merkle.merkle_root([a, b]) == H(b"\x01" + la + lb)
    # three leaves: k = 2, so the root is (a b) c, not a (b c)
    assert merkle.merkle_root([a, b, c]) == H(b"\x01" + H(b"\x01" + la + lb) + lc)
    assert merkle.merkle_root([a, b, c], 2) == H(b"\x01" + la + lb)
    assert merkle.inclusion_proof([a, b, c], 2) == [H(b"\x01" + la + lb)]
    assert merkle.inclusion_proof([a, b, c], 0) == [lb, lc]
    assert merkle.consistency_proof([a, b, c], 2) == [lc]
    assert merkle.consistency_proof([a, b, c], 1) == [lb, lc]


@pytest.mark.parametrize("n", range(1, 40))
def test_matches_the_rfc_definitions(n: int) -> None:
    d = leaves_of(n)
    root = merkle.merkle_root(d)
    assert root == ref_mth(d)
    paths = merkle.inclusion_proofs(d, range(n))
    for m in range(n):
        assert paths[m] == ref_path(m, d)
        assert merkle.verify_inclusion(d[m], m, n, paths[m], root)
    for m in range(1, n + 1):
        proof = merkle.consistency_proof(d, m)
        assert proof == ref_subproof(m, d, True)
        assert merkle.verify_consistency(m, n, ref_mth(d[:m]), root, proof)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 21])
def test_every_alteration_fails(n: int) -> None:
    d = leaves_of(n)
    root = merkle.merkle_root(d)
    for m in range(n):
        path = merkle.inclusion_proof(d, m)
        assert not merkle.verify_inclusion(H(d[m]), m, n, path, root)
        assert not merkle.verify_inclusion(d[m], m, n, path, H(root))
        # (the size is bound by the signed root, not by the path: leaf 0 of 21 and of 22 agree)
        assert not merkle.verify_inclusion(d[m], n, n, path, root)
        assert not merkle.verify_inclusion(d[m], m, n, [*path, root], root)
        if n > 1:
            assert not merkle.verify_inclusion(d[m], m ^ 1 if m ^ 1 < n else m - 1, n, path, root)
        for i in range(len(path)):
            bad = list(path)
            bad[i] = H(bad[i])
            assert not merkle.verify_inclusion(d[m], m, n, bad, root)
            assert not merkle.verify_inclusion(d[m], m, n, path[:i], root)
    for m in range(1, n):
        old = merkle.merkle_root(d, m)
        proof = merkle.consistency_proof(d, m)
        assert merkle.verify_consistency(m, n, old, root, proof)
        assert not merkle.verify_consistency(m, n, H(old), root, proof)
        assert not merkle.verify_consistency(m, n, old, H(root), proof)
        assert not merkle.verify_consistency(m, n, old, root, [])
        for i in range(len(proof)):
            bad = list(proof)
            bad[i] = H(bad[i])
            assert not merkle.verify_consistency(m, n, old, root, bad)
        # a different history of the same size is not consistent
        other = [*d[: m - 1], H(b"forged"), *d[m:]]
        assert not merkle.verify_consistency(
            m, n, merkle.merkle_root(other, m), root, merkle.consistency_proof(other, m))


def test_equal_sizes_need_an_empty_proof_and_equal_roots() -> None:
    d = leaves_of(7)
    root = merkle.merkle_root(d)
    assert merkle.consistency_proof(d, 7) == []
    assert merkle.verify_consistency(7, 7, root, root, [])
    assert not merkle.verify_consistency(7, 7, root, H(root), [])
    assert not merkle.verify_consistency(7, 7, root, root, [root])
    assert not merkle.verify_consistency(0, 7, root, root, [])
    with pytest.raises(ValueError):
        merkle.consistency_proof(d, 0)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(d, 7)


def test_proof_size_grows_as_log2_n() -> None:
    n = 1 << 16
    d = leaves_of(n)
    started = time.perf_counter()
    root = merkle.merkle_root(d)
    assert time.perf_counter() - started < 5
    indices = [0, 1, 12345, n // 2, n - 1]
    for index, path in merkle.inclusion_proofs(d, indices).items():
        assert len(path) == 16
        assert merkle.verify_inclusion(d[index], index, n, path, root)
    # one more leaf: the last leaf's path is just the left subtree's root
    d.append(H(b"one more"))
    paths = merkle.inclusion_proofs(d, [0, n])
    assert len(paths[0]) == 17 and len(paths[n]) == 1
    for m in (1, 3, 1000, n - 1, n):
        proof = merkle.consistency_proof(d, m)
        assert len(proof) <= 2 * math.ceil(math.log2(n + 1)) + 1
        assert merkle.verify_consistency(m, n + 1, merkle.merkle_root(d, m), merkle.merkle_root(d),
                                         proof)
