"""Inclusion bundles and consistency proofs: they verify offline, and no changed byte does."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.proof import merkle, standalone
from ledger.proof.bundle import prove_consistency, prove_inclusion
from ledger.proof.checkpoint import CheckpointError, create_checkpoint
from ledger.proof.keys import firm_key, public_key_bytes
from ledger.proof.leaves import ProofUnavailableError, read_events, read_leaves_at
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from tests.chain_helpers import append, rehash, superuser_sql

N = 21


@pytest.fixture
def key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        firm_store: FirmStore) -> Ed25519PrivateKey:
    monkeypatch.delenv("LEDGER_SIGNING_KEY_FILE", raising=False)
    created = firm_key(Settings(data_dir=tmp_path), firm_store.firm)
    assert created is not None
    return created


@pytest.fixture
def checkpoint(firm_store: FirmStore, key: Ed25519PrivateKey) -> dict[str, Any]:
    append(firm_store, N, batch=4)
    return create_checkpoint(firm_store, key)


def mutations(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every scalar of a document, each with a value differing from it in one place."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from mutations(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from mutations(v, (*path, i))
        yield path, [*value, value[-1]] if value else ["00" * 32]
    elif isinstance(value, bool | None):
        return
    elif isinstance(value, int):
        yield path, value + 1
    elif isinstance(value, str):
        i = len(value) // 2
        c = value[i]
        replacement = {"0": "1", "1": "0", "a": "b", "A": "B", "-": "_", ":": ";"}.get(c, "0")
        if c == replacement:
            replacement = "1"
        yield path, value[:i] + replacement + value[i + 1:]


def altered(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def test_inclusion_bundle_verifies(firm_store: FirmStore, checkpoint: dict[str, Any],
                                   key: Ed25519PrivateKey) -> None:
    append(firm_store, 5)  # later events do not disturb proofs against the checkpoint
    bundle = prove_inclusion(firm_store, checkpoint, [1, 2, 7, 16, N])
    assert [e["position"] for e in bundle["events"]] == [1, 2, 7, 16, N]
    result = standalone.verify_bundle(bundle, public_key_bytes(key))
    assert result.ok, result.problems
    assert result.events == [1, 2, 7, 16, N] and result.key_pinned
    assert all(len(e["audit_path"]) <= math.ceil(math.log2(N)) for e in bundle["events"])
    assert standalone.verify_bundle(bundle).ok  # the key inside the checkpoint
    assert not standalone.verify_bundle(bundle, public_key_bytes(Ed25519PrivateKey.generate())).ok


def test_bundle_discloses_only_the_chosen_events(firm_store: FirmStore,
                                                 checkpoint: dict[str, Any]) -> None:
    bundle = prove_inclusion(firm_store, checkpoint, [7])
    leaves = read_leaves_at(firm_store.location, firm_store.schema, "events", N)
    text = str(bundle)
    for position, leaf in enumerate(leaves, start=1):
        if position not in (6, 7, N):  # 6 is 7's prev_hash, N the checkpoint's head
            assert leaf.hex() not in text
    others = read_events(firm_store.location, firm_store.schema, "events",
                         [p for p in range(1, N + 1) if p != 7])
    assert [e["position"] for e in bundle["events"]] == [7]
    assert not any(e.as_bundle_fields()["payload"] in text for e in others)


def test_every_changed_field_of_a_bundle_fails(firm_store: FirmStore,
                                               checkpoint: dict[str, Any],
                                               key: Ed25519PrivateKey) -> None:
    bundle = prove_inclusion(firm_store, checkpoint, [1, 5, 6, N])
    count = 0
    for path, value in mutations(bundle):
        for pinned in (public_key_bytes(key), None):
            result = standalone.verify_bundle(altered(bundle, path, value), pinned)
            assert not result.ok, f"changing {path} went unnoticed"
        count += 1
    assert count > 60
    assert not standalone.verify_bundle({**bundle, "extra": 1}).ok
    event = bundle["events"][0]
    payload_upper = {**event, "payload": event["payload"].lower()}
    assert not standalone.verify_bundle({**bundle, "events": [payload_upper]}).ok
    upper_hash = {**event, "hash": event["hash"].upper()}
    assert not standalone.verify_bundle({**bundle, "events": [upper_hash]}).ok


def test_an_event_changed_in_the_database_cannot_be_proven(
        firm_store: FirmStore, checkpoint: dict[str, Any]) -> None:
    superuser_sql(firm_store, "UPDATE EV SET state = '{\"n\":0}' WHERE notification_id = 5")
    rehash(firm_store, 5, all_after=True)
    with pytest.raises(ProofUnavailableError):
        prove_inclusion(firm_store, checkpoint, [3])
    with pytest.raises(ProofUnavailableError):
        prove_inclusion(firm_store, checkpoint, [N + 1])


def test_consistency_proof(firm_store: FirmStore, checkpoint: dict[str, Any],
                           key: Ed25519PrivateKey) -> None:
    append(firm_store, 12, batch=5)
    newer = create_checkpoint(firm_store, key)
    proof = prove_consistency(firm_store, checkpoint, newer)
    pinned = public_key_bytes(key)
    assert standalone.verify_consistency_proof(proof, pinned).ok
    assert standalone.verify_document(proof, pinned).ok
    assert prove_consistency(firm_store, newer, checkpoint) == proof  # order does not matter
    same = prove_consistency(firm_store, newer, newer)
    assert same["consistency_path"] == [] and standalone.verify_consistency_proof(same).ok
    for path, value in mutations(proof):
        assert not standalone.verify_consistency_proof(altered(proof, path, value), pinned).ok, \
            f"changing {path} went unnoticed"


def test_consistency_with_a_rewritten_history_fails(firm_store: FirmStore,
                                                   checkpoint: dict[str, Any],
                                                   key: Ed25519PrivateKey) -> None:
    superuser_sql(firm_store, "UPDATE EV SET state = '{\"n\":0}' WHERE notification_id = 5")
    rehash(firm_store, 5, all_after=True)
    append(firm_store, 4)
    # even the firm's own key signs the rewritten chain: it is self-consistent again
    rewritten = create_checkpoint(firm_store, key)
    with pytest.raises(ProofUnavailableError):
        prove_consistency(firm_store, checkpoint, rewritten)
    leaves = read_leaves_at(firm_store.location, firm_store.schema, "events", N + 4)
    forged = {
        "format": standalone.CONSISTENCY_FORMAT, "old": checkpoint, "new": rewritten,
        "consistency_path": [h.hex() for h in merkle.consistency_proof(leaves, N)],
        "old_head_audit_path": [h.hex() for h in merkle.inclusion_proof(leaves, N - 1)],
    }
    result = standalone.verify_consistency_proof(forged, public_key_bytes(key))
    assert not result.ok and any("history changed" in p for p in result.problems)


def test_checkpoints_of_other_keys_cannot_be_joined(firm_store: FirmStore,
                                                    checkpoint: dict[str, Any]) -> None:
    other = create_checkpoint(firm_store, Ed25519PrivateKey.generate())
    with pytest.raises(CheckpointError):
        prove_consistency(firm_store, checkpoint, other)


@pytest.mark.slow
def test_proof_size_and_time_at_65536_events(firm_store: FirmStore,
                                             key: Ed25519PrivateKey) -> None:
    n = 1 << 16
    append(firm_store, n, batch=4096)
    started = time.perf_counter()
    checkpoint = create_checkpoint(firm_store, key)
    signing = time.perf_counter() - started
    positions = [1, 2, 1000, 32768, 32769, n - 1, n]
    bundle = prove_inclusion(firm_store, checkpoint, positions)
    assert all(len(e["audit_path"]) == 16 for e in bundle["events"])
    started = time.perf_counter()
    result = standalone.verify_bundle(bundle, public_key_bytes(key))
    per_event = (time.perf_counter() - started) / len(positions)
    assert result.ok and result.events == positions
    assert per_event < 0.05 and signing < 60
    append(firm_store, 1)
    grown = create_checkpoint(firm_store, key)
    bigger = prove_inclusion(firm_store, grown, [1, n + 1])
    assert [len(e["audit_path"]) for e in bigger["events"]] == [17, 1]
    proof = prove_consistency(firm_store, checkpoint, grown)
    assert len(proof["consistency_path"]) <= 17 and standalone.verify_document(proof).ok
