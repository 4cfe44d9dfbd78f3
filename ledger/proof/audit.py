"""``verify --checkpoint``: prove the current log extends a signed checkpoint.

Why three checks where one might seem to do: the signature makes the
checkpoint trustworthy (a changed field or a foreign key is refused before it
is used as an anchor); the chain walk with the checkpoint as a known head
catches a truncated tail and a history rewritten even with every hash
recomputed (the event at the checkpoint's position no longer has its hash);
and the Merkle root of the first ``position`` events ties the checkpoint to
the very leaves that inclusion proofs are given against.

Kinds added to those of ``ledger.verify`` (stable strings, in ``--json``):
``checkpoint_invalid`` (malformed, bad signature or cosignature, untrusted
key), ``checkpoint_other_ledger`` (another firm's or ledger's checkpoint),
``merkle_root_mismatch``. Truncation and rewriting keep the chain's kinds,
``tail_truncated`` and ``head_mismatch``.

Which key is trusted: the keys pinned on the command line, else the firm's own
key file. The key file counts as pinned for the firm's own ``verify`` because
it lives outside the database, where the firm keeps it: someone who can only
rewrite the database cannot make it trust another key. An auditor on another
machine has no such file and pins the firm's key explicitly. The checkpoint's
own ``public_key`` is never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ledger.proof import merkle, standalone
from ledger.proof.keys import (
    KeyNotPinnedError,
    firm_key_path,
    load_key_file,
    public_key_bytes,
)
from ledger.proof.leaves import LeavesIncompleteError, read_leaves_at
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from ledger.verify import Damage, KnownHead, Progress, VerificationReport, verify_chain

Document = dict[str, Any]


@dataclass
class CheckpointVerification:
    """The chain's report, plus what was found about the checkpoint."""

    report: VerificationReport
    checkpoint: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.report.ok

    def as_dict(self) -> dict[str, Any]:
        """The report's dict with a ``checkpoint`` key added (no existing key changes)."""
        return {**self.report.as_dict(), "checkpoint": self.checkpoint}

    def lines(self) -> list[str]:
        c = self.checkpoint
        state = "holds" if c.get("ok") else "does NOT hold"
        return [f"checkpoint {c.get('file') or ''} at position {c.get('position')}: {state} "
                f"(signature {c.get('signature')}, key {c.get('key_source')}, "
                f"merkle root {c.get('merkle_root_status')})"]


def checkpoint_trust(settings: Settings, firm: str, given: standalone.Trust | None,
                     ) -> tuple[standalone.Trust, str]:
    """The keys a checkpoint must be signed with: those given, else the firm's key file."""
    if given is not None:
        return given, "given"
    path = firm_key_path(settings, firm)
    if path.exists():
        return standalone.Trust(keys=frozenset({public_key_bytes(load_key_file(path))})), \
            "firm key file"
    raise KeyNotPinnedError(f"no trusted key: pass --public-key HEX, --trusted-keys FILE or "
                            f"--key-fingerprint HEX (there is no firm key file at {path}, and "
                            "the key inside the checkpoint is not trusted)", field="public_key")


def verify_against_checkpoint(
    store: FirmStore,
    document: Document,
    *,
    pinned_key: standalone.Pin = None,
    key_source: str = "",
    source: Path | None = None,
    progress: Progress | None = None,
) -> CheckpointVerification:
    """Check the checkpoint's signatures, then that the current chain extends it.

    Without ``pinned_key`` the checkpoint is ``checkpoint_invalid``: no key is trusted.
    """
    signed = standalone.verify_document(document, pinned_key)
    info: dict[str, Any] = {
        "file": str(source) if source else None,
        "position": document.get("position"),
        "head_hash": document.get("head_hash"),
        "merkle_root": document.get("merkle_root"),
        "public_key": document.get("public_key"),
        "key_fingerprint": signed.key_fingerprint,
        "key_source": key_source or ("given" if pinned_key else "not pinned"),
        "cosigners": signed.cosigners,
        "signature": "valid" if signed.ok else "invalid",
        "problems": list(signed.problems),
        "merkle_root_status": "not checked",
        "ok": False,
    }
    if signed.format != standalone.CHECKPOINT_FORMAT:
        info["problems"].append("the file is not a checkpoint")
    valid = signed.ok and signed.format == standalone.CHECKPOINT_FORMAT
    ledger_id = store.head().ledger_id
    same_ledger = valid and (document["ledger_id"], document["schema"]) == (
        ledger_id, store.schema)
    known = KnownHead(document["position"], bytes.fromhex(document["head_hash"])) \
        if same_ledger else None
    report = verify_chain(store.location, store.schema, store.events_table,
                          known_head=known, progress=progress)
    outcome = CheckpointVerification(report, info)
    if not valid:
        _damage(report, Damage(0, "checkpoint_invalid", "; ".join(info["problems"])))
        return outcome
    if not same_ledger:
        _damage(report, Damage(0, "checkpoint_other_ledger",
                               f"the checkpoint is of ledger {document['ledger_id']} "
                               f"({document['schema']}), not {ledger_id} ({store.schema})"))
        return outcome
    if not report.ok:
        return outcome
    position = document["position"]
    try:
        leaves = read_leaves_at(store.location, store.schema, store.events_table, position)
    except LeavesIncompleteError as exc:  # the chain changed under the walk
        _damage(report, Damage(position, "merkle_root_mismatch", exc.message))
        return outcome
    root = merkle.merkle_root(leaves).hex()
    info["merkle_root_status"] = "matches" if root == document["merkle_root"] else "differs"
    if root != document["merkle_root"]:
        _damage(report, Damage(position, "merkle_root_mismatch",
                               f"the first {position} events have root {root}, "
                               "not the checkpoint's"))
        return outcome
    info["ok"] = True
    return outcome


def _damage(report: VerificationReport, damage: Damage) -> None:
    """Keep the chain's own first damage if it found one; otherwise record this one."""
    if report.damage is None:
        report.damage = damage
