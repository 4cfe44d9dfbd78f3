"""Proof files: inclusion bundles for chosen events, consistency proofs between checkpoints.

Why bundles: a client may be shown that *its* invoice events are in the log
the firm signed, without being shown anyone else's. A bundle holds the signed
checkpoint and, per chosen event, the raw stored row and its Merkle audit
path; nothing about other events except sibling hashes. The formats are
specified in ``ledger.proof.standalone``, which verifies them offline.

Positions are chosen by the caller (``prove_inclusion(store, checkpoint,
positions)``); selecting them by client is a later change in another layer.
Proofs are always against the tree of the checkpoint's size, and are only
produced when the current chain still has the checkpoint's root there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledger.proof import merkle, standalone
from ledger.proof.checkpoint import CheckpointError
from ledger.proof.leaves import ProofUnavailableError, read_events, read_leaves_at
from ledger.store.firm import FirmStore

Document = dict[str, Any]


def checked_checkpoint(document: Document, pinned_key: standalone.Pin, label: str) -> Document:
    """The document, if it is a validly signed checkpoint (by ``pinned_key`` when given).

    Without a pin only the document's integrity is checked against its own key:
    producing a proof vouches for nothing, the verifier pins the key it trusts.
    """
    trust = pinned_key if pinned_key is not None else standalone.Trust(embedded=True)
    result = standalone.verify_document(document, trust)
    if result.format != standalone.CHECKPOINT_FORMAT or not result.ok:
        problems = "; ".join(result.problems) or "not a checkpoint"
        raise CheckpointError(f"the {label} checkpoint does not verify: {problems}",
                              field="checkpoint")
    return document


def _leaves_matching(store: FirmStore, checkpoint: Document) -> list[bytes]:
    if checkpoint["schema"] != store.schema:
        raise CheckpointError(f"the checkpoint is of {checkpoint['schema']}, not {store.schema}",
                              field="checkpoint")
    size = checkpoint["position"]
    leaves = read_leaves_at(store.location, store.schema, store.events_table, size)
    if merkle.merkle_root(leaves).hex() != checkpoint["merkle_root"]:
        raise ProofUnavailableError(
            f"the first {size} events no longer have the checkpoint's Merkle root; "
            "run 'ledger verify --checkpoint'")
    return leaves


def prove_inclusion(store: FirmStore, checkpoint: Document, positions: Iterable[int], *,
                    pinned_key: standalone.Pin = None) -> Document:
    """An inclusion bundle for the events at ``positions`` under a signed checkpoint."""
    checked_checkpoint(checkpoint, pinned_key, "given")
    wanted = sorted(set(positions))
    size = checkpoint["position"]
    if not wanted:
        raise ProofUnavailableError("no positions to prove", field="positions")
    outside = [p for p in wanted if not 1 <= p <= size]
    if outside:
        raise ProofUnavailableError(
            f"position(s) {outside} are outside the checkpoint's 1..{size}", field="positions")
    leaves = _leaves_matching(store, checkpoint)
    paths = merkle.inclusion_proofs(leaves, [p - 1 for p in wanted], size)
    events = read_events(store.location, store.schema, store.events_table, wanted)
    bundle_events = []
    for event in events:
        if event.hash != leaves[event.position - 1]:
            raise ProofUnavailableError(f"the event at {event.position} changed meanwhile")
        fields = event.as_bundle_fields()
        fields["audit_path"] = [node.hex() for node in paths[event.position - 1]]
        bundle_events.append(fields)
    return {"format": standalone.BUNDLE_FORMAT, "checkpoint": checkpoint,
            "events": bundle_events}


def prove_consistency(store: FirmStore, old: Document, new: Document, *,
                      pinned_key: standalone.Pin = None) -> Document:
    """A consistency proof that the ``new`` checkpoint's log extends the ``old`` one's."""
    checked_checkpoint(old, pinned_key, "old")
    checked_checkpoint(new, pinned_key, "new")
    if old["position"] > new["position"]:
        old, new = new, old
    for name in ("ledger_id", "schema", "public_key"):
        if old[name] != new[name]:
            raise CheckpointError(f"the two checkpoints differ in {name}", field="checkpoint")
    leaves = _leaves_matching(store, new)
    m, n = old["position"], new["position"]
    if merkle.merkle_root(leaves, m).hex() != old["merkle_root"]:
        raise ProofUnavailableError(
            f"the first {m} events do not have the old checkpoint's Merkle root: "
            "the history it vouched for was rewritten")
    return {
        "format": standalone.CONSISTENCY_FORMAT,
        "old": old,
        "new": new,
        "consistency_path": [h.hex() for h in merkle.consistency_proof(leaves, m, n)],
        "old_head_audit_path": [h.hex() for h in merkle.inclusion_proof(leaves, m - 1, n)],
    }
