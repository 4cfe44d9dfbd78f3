"""A witness's memory: the last checkpoint it cosigned per ledger, kept in a local file.

Why: a firm (or whoever holds its database and key) could show one history to
one auditor and another to the next. A witness that cosigns only tree heads
consistent with the last one it cosigned makes that visible: a second history
cannot collect its cosignature. The memory must live with the witness, not in
the firm's database, so it is a JSON file next to the witness's key by default
(``AUDITOR.pem`` -> ``AUDITOR.witness.json``; ``--state FILE`` chooses another)::

    {"format": "legal-ledger-witness-state/v1",
     "witness_public_key": hex of the witness's raw Ed25519 public key,
     "ledgers": {ledger_id: the last cosigned checkpoint document, ...}}

The consistency proof between the remembered checkpoint and the new one comes
from a ``legal-ledger-consistency-proof/v1`` file, or is computed from the
firm's database; either way it is checked against the two signed roots, so
its source need not be trusted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ledger.proof import merkle, standalone
from ledger.proof.checkpoint import CheckpointError, canonical_signed_bytes
from ledger.proof.history import CheckpointForkError, fork_problem, summary
from ledger.proof.leaves import ProofUnavailableError, read_leaves_at
from ledger.store.firm import FirmStore

STATE_FORMAT = "legal-ledger-witness-state/v1"
Document = dict[str, Any]


def default_state_path(key_path: Path) -> Path:
    """``AUDITOR.pem`` -> ``AUDITOR.witness.json``, next to the key."""
    return key_path.with_suffix(".witness.json")


def load_state(path: Path, witness_key: bytes) -> Document:
    """The witness's state (empty when the file does not exist yet)."""
    if not path.exists():
        return {"format": STATE_FORMAT, "witness_public_key": witness_key.hex(), "ledgers": {}}
    try:
        state = json.loads(path.read_bytes())
    except OSError as exc:
        raise CheckpointError(f"cannot read the witness state {path}: {exc.strerror}",
                              field="state") from None
    except ValueError:
        state = None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or \
            not isinstance(state.get("ledgers"), dict):
        raise CheckpointError(f"{path} is not a {STATE_FORMAT} file", field="state")
    if state.get("witness_public_key") != witness_key.hex():
        raise CheckpointError(f"{path} is the state of witness key "
                              f"{state.get('witness_public_key')}, not of this key; "
                              "choose another --state", field="state")
    return state


def save_state(path: Path, state: Document) -> None:
    """Replace the state file atomically (mode 0600), so a crash leaves the old or the new."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(state, indent=2, sort_keys=True) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise CheckpointError(f"cannot write the witness state {path}: {exc.strerror}",
                              field="state") from None


def path_from_proof(proof: Document, old: Document, new: Document,
                    trust: standalone.Pin) -> list[bytes]:
    """The consistency path of a proof file that joins exactly ``old`` and ``new``."""
    result = standalone.verify_consistency_proof(
        proof, trust if trust is not None else standalone.Trust(embedded=True))
    ends_match = result.format == standalone.CONSISTENCY_FORMAT and isinstance(proof, dict) and \
        isinstance(proof.get("old"), dict) and isinstance(proof.get("new"), dict) and \
        canonical_signed_bytes(proof["old"]) == canonical_signed_bytes(old) and \
        canonical_signed_bytes(proof["new"]) == canonical_signed_bytes(new)
    if not ends_match:
        raise CheckpointError(
            f"the --proof file does not join the last cosigned checkpoint ({old['position']}) "
            f"to this one ({new['position']})", field="proof")
    if not result.ok:
        raise CheckpointForkError("the consistency proof does not verify: " +
                                  "; ".join(result.problems),
                                  signed=summary(old), head=summary(new))
    return [bytes.fromhex(h) for h in proof["consistency_path"]]


def path_from_store(store: FirmStore, old: Document, new: Document) -> list[bytes]:
    """``PROOF(old.position, D[new.position])`` computed from the firm's database."""
    n = new["position"]
    if new["schema"] != store.schema:
        raise CheckpointError(f"the checkpoint is of {new['schema']}, not {store.schema}",
                              field="checkpoint")
    leaves = read_leaves_at(store.location, store.schema, store.events_table, n)
    if merkle.merkle_root(leaves).hex() != new["merkle_root"]:
        raise ProofUnavailableError(
            f"the firm's database no longer has this checkpoint's tree of {n} events; "
            "pass --proof with a consistency proof", field="proof")
    return merkle.consistency_proof(leaves, old["position"], n)


def check_extends(last: Document, document: Document, path: list[bytes]) -> None:
    """Refuse (``checkpoint_fork``) a checkpoint that does not extend the last cosigned one."""
    problem = fork_problem(last, document, path)
    if problem is not None:
        raise CheckpointForkError(f"not cosigning position {document['position']}: {problem}",
                                  signed=summary(last), head=summary(document))


def remember(state: Document, document: Document) -> Document:
    """The state with ``document`` as its ledger's last cosigned checkpoint."""
    return {**state, "ledgers": {**state["ledgers"], document["ledger_id"]: document}}
