"""What the firm has signed, and the rule that a new checkpoint must extend it.

Why: a superuser can rewrite the event table and recompute every hash; the
chain then verifies again, and a firm that signed whatever head it finds would
sign a second, different history for positions it had already vouched for
(equivocation). Before signing, ``ledger checkpoint`` therefore proves with an
RFC 9162 consistency proof that the new tree extends the tree of the stored
signed checkpoints (the latest recorded and the one at the highest position),
and refuses with kind ``checkpoint_fork`` when it does not. A witness does the
same against its own last cosigned checkpoint (``ledger.proof.witness``).

This only helps while the record survives: a superuser who also empties
``<schema>.checkpoints`` removes what the firm compares against. Only a
checkpoint kept outside the database (an auditor's file, a witness's state)
catches that.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from ledger.errors import LedgerError
from ledger.proof import merkle, standalone

Document = dict[str, Any]
FORK_KIND = "checkpoint_fork"
TABLE = "checkpoints"


class CheckpointForkError(LedgerError):
    """The new head does not extend a checkpoint already signed: signing it would equivocate."""

    type = "checkpoint-fork"
    kind = FORK_KIND

    def __init__(self, message: str, *, signed: Document | None = None,
                 head: Document | None = None) -> None:
        super().__init__(f"{FORK_KIND}: {message}", field="checkpoint")
        self.signed = signed or {}
        self.head = head or {}

    def as_dict(self) -> Document:
        """The ``--json`` answer of a refused checkpoint or cosignature."""
        return {"ok": False, "error": {"kind": self.kind, "message": self.message,
                                       "signed": self.signed, "head": self.head}}


def summary(document: Document) -> Document:
    """The fields that identify a signed tree head."""
    return {k: document.get(k) for k in ("ledger_id", "position", "head_hash", "merkle_root")}


def fork_problem(old: Document, new: Document, path: Sequence[bytes]) -> str | None:
    """Why the tree of ``new`` does not extend the tree of ``old``, or None when it does.

    ``path`` is RFC 9162 ``PROOF(old.position, D[new.position])``, from whatever
    source: it is checked against the two signed roots, so a source that lies
    cannot make two different histories look consistent.
    """
    m, n = old["position"], new["position"]
    if old["ledger_id"] != new["ledger_id"]:
        return (f"the checkpoint at {m} was signed for ledger {old['ledger_id']}, "
                f"the chain is now ledger {new['ledger_id']}")
    if m > n:
        return (f"a checkpoint at position {m} was signed, but the head is now at {n}: "
                "events it vouched for are gone")
    old_root, new_root = bytes.fromhex(old["merkle_root"]), bytes.fromhex(new["merkle_root"])
    if merkle.verify_consistency(m, n, old_root, new_root, path):
        return None
    if m == n:
        return (f"position {m} was signed with head hash {old['head_hash']} and root "
                f"{old['merkle_root']}, it now has {new['head_hash']} and "
                f"{new['merkle_root']}: history was rewritten after it was signed")
    return (f"the tree of {n} events does not extend the tree signed at position {m} "
            f"(head hash {old['head_hash']}): history was rewritten after it was signed")


def refuse_fork(signed: Document, head: Document, leaves: Sequence[bytes]) -> None:
    """Raise ``CheckpointForkError`` unless ``leaves`` (the new head's) extend ``signed``."""
    checked = standalone.verify_document(signed, standalone.Trust(embedded=True))
    if not checked.ok or checked.format != standalone.CHECKPOINT_FORMAT:
        raise CheckpointForkError(
            "a stored checkpoint does not verify (" + "; ".join(checked.problems) +
            "): the checkpoint record was altered", signed=summary(signed), head=summary(head))
    m, n = signed["position"], len(leaves)
    path = merkle.consistency_proof(leaves, m, n) if m <= n else []
    problem = fork_problem(signed, head, path)
    now = leaves[m - 1].hex() if m < n else None
    if now is not None and now != signed["head_hash"]:
        detail = (f"position {m} now has hash {now}, the signed checkpoint says "
                  f"{signed['head_hash']}")
        problem = f"{problem}; {detail}" if problem else detail
    if problem is not None:
        raise CheckpointForkError(f"refusing to sign position {n}: {problem}",
                                  signed=summary(signed), head=summary(head))


def stored_to_extend(conn: psycopg.Connection[Any], schema: str) -> list[Document]:
    """The latest recorded checkpoint and the one at the highest position (maybe the same)."""
    t = Identifier(schema), Identifier(TABLE)
    rows = conn.execute(SQL(
        "(SELECT id, document FROM {}.{} ORDER BY id DESC LIMIT 1) UNION "
        "(SELECT id, document FROM {}.{} ORDER BY position DESC, id DESC LIMIT 1) ORDER BY id"
    ).format(*t, *t)).fetchall()
    return [_document(row[0], row[1]) for row in rows]


def _document(row_id: int, text: str) -> Document:
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if not isinstance(document, dict) or not isinstance(document.get("position"), int):
        raise CheckpointForkError(f"stored checkpoint #{row_id} is not a checkpoint document: "
                                  "the checkpoint record was altered")
    return document


def list_checkpoints(conn: psycopg.Connection[Any], schema: str) -> list[Document]:
    """Every recorded checkpoint, oldest first, with its key fingerprint and signature state."""
    rows = conn.execute(SQL(
        "SELECT id, position, head_hash, merkle_root, created_at, public_key, document "
        "FROM {}.{} ORDER BY id").format(Identifier(schema), Identifier(TABLE))).fetchall()
    listed = []
    for row_id, position, head_hash, root, created_at, public_key, text in rows:
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        valid = standalone.verify_document(document, standalone.Trust(embedded=True)).ok
        same = isinstance(document, dict) and (
            document.get("position"), document.get("head_hash"), document.get("merkle_root"),
            document.get("public_key")) == (
            position, bytes(head_hash).hex(), bytes(root).hex(), bytes(public_key).hex())
        listed.append({
            "id": row_id, "position": position, "head_hash": bytes(head_hash).hex(),
            "merkle_root": bytes(root).hex(), "signed_at": created_at.isoformat(),
            "public_key": bytes(public_key).hex(),
            "key_fingerprint": standalone.fingerprint(bytes(public_key)).hex(),
            "signature_valid": valid and same,
        })
    return listed
