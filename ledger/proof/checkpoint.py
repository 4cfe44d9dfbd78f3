"""Signed checkpoints: the chain's head and Merkle root, signed with the firm's key.

Why: a hash chain proves only that it is self-consistent; someone who can
rewrite the table can recompute every hash. A checkpoint kept *outside* the
database (by an auditor, a client, a regulator) anchors the chain: a later
``ledger verify --checkpoint FILE`` proves the log still holds that exact
prefix and only grew, and the Merkle root lets single events be proven against
it without disclosing the others.

The document's fields, which bytes are signed, and how cosignatures work are
specified in ``ledger.proof.standalone`` (the independent verifier, the one a
third party copies). In short: Ed25519 over the canonical JSON (sorted keys,
no whitespace, UTF-8) of every field except ``signature`` and
``cosignatures``; cosigners sign the same bytes.

The firm refuses to sign a damaged chain: the chain is verified from genesis
first and the checkpoint is taken at the verified head. Every checkpoint is
also recorded in the append-only table ``<schema>.checkpoints`` (same guards
as the event table), so the firm keeps a history of what it has vouched for,
and it refuses to sign a head that does not extend that history
(``ledger.proof.history``: no equivocation).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg.sql import SQL, Composed, Identifier

from ledger.errors import LedgerError
from ledger.proof import history, merkle, standalone
from ledger.proof.keys import public_key_bytes
from ledger.proof.leaves import read_leaves
from ledger.store import schema as ddl
from ledger.store.firm import FirmStore
from ledger.verify import Progress, verify_chain

CHECKPOINT_FORMAT = "legal-ledger-checkpoint/v1"
CHECKPOINTS_TABLE = history.TABLE
Document = dict[str, Any]


class CheckpointError(LedgerError):
    """A checkpoint that cannot be made, read or cosigned."""

    type = "checkpoint-refused"


def canonical_signed_bytes(document: Document) -> bytes:
    """Sorted-key, whitespace-free UTF-8 JSON of the fields except the signatures."""
    body = {k: v for k, v in document.items() if k not in ("signature", "cosignatures")}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with offset, the form the verifier accepts."""
    return moment.astimezone(UTC).isoformat()


def checkpoints_table_statements(schema: str, role: str) -> list[Composed]:
    """The append-only checkpoint table, its guards and the app role's rights."""
    s, t = Identifier(schema), Identifier(CHECKPOINTS_TABLE)
    return [
        SQL(
            "CREATE TABLE IF NOT EXISTS {s}.{t} ("
            " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
            " position bigint NOT NULL CHECK (position >= 1),"
            " head_hash bytea NOT NULL CHECK (octet_length(head_hash) = 32),"
            " merkle_root bytea NOT NULL CHECK (octet_length(merkle_root) = 32),"
            " public_key bytea NOT NULL CHECK (octet_length(public_key) = 32),"
            " signature bytea NOT NULL CHECK (octet_length(signature) = 64),"
            " created_at timestamptz NOT NULL,"
            " document text NOT NULL)"
        ).format(s=s, t=t),
        *ddl.append_only_statements(schema, CHECKPOINTS_TABLE),
        SQL("REVOKE ALL ON {s}.{t} FROM {r}").format(s=s, t=t, r=Identifier(role)),
        SQL("GRANT SELECT, INSERT ON {s}.{t} TO {r}").format(s=s, t=t, r=Identifier(role)),
    ]


def ensure_checkpoints_table(store: FirmStore) -> None:
    """Create ``<schema>.checkpoints`` idempotently (the firm store must be ensured)."""
    with store.location.connect(autocommit=False) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('legal-ledger ddl'))")
        for statement in checkpoints_table_statements(store.schema, store.app_role):
            conn.execute(statement)
        conn.commit()


def sign(body: Document, key: Ed25519PrivateKey) -> Document:
    """The signed document: ``body`` plus the public key, signature and no cosignatures."""
    document = {**body, "public_key": public_key_bytes(key).hex()}
    document["signature"] = key.sign(canonical_signed_bytes(document)).hex()
    document["cosignatures"] = []
    return document


def create_checkpoint(store: FirmStore, key: Ed25519PrivateKey,
                      progress: Progress | None = None) -> Document:
    """Verify the chain, then sign and record its head and Merkle root."""
    report = verify_chain(store.location, store.schema, store.events_table, progress=progress)
    if report.damage is not None:
        d = report.damage
        raise CheckpointError(f"the chain is damaged at position {d.position} ({d.kind}); "
                              "refusing to sign it")
    if report.head_position == 0 or report.head_hash is None:
        raise CheckpointError("the ledger holds no events yet: nothing to checkpoint")
    position = report.head_position
    s, t = Identifier(store.schema), Identifier(store.events_table)
    with store.location.connect(autocommit=False) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        leaves = read_leaves(conn, store.schema, store.events_table, position)
        row = conn.execute(
            SQL("SELECT recorded_at, clock_timestamp() FROM {s}.{t} WHERE notification_id = %s")
            .format(s=s, t=t), (position,)).fetchone()
        conn.rollback()
    assert row is not None
    if leaves[-1].hex() != report.head_hash:
        raise CheckpointError("the head changed while it was being verified; try again")
    body = {
        "format": CHECKPOINT_FORMAT,
        "firm": store.firm,
        "schema": store.schema,
        "ledger_id": report.ledger_id,
        "position": position,
        "head_hash": report.head_hash,
        "merkle_root": merkle.merkle_root(leaves).hex(),
        "recorded_at": iso(row[0]),
        "created_at": iso(row[1]),
    }
    return record_checkpoint(store, body, key, leaves)


def record_checkpoint(store: FirmStore, body: Document, key: Ed25519PrivateKey,
                      leaves: list[bytes]) -> Document:
    """Sign ``body`` and append it to ``<schema>.checkpoints``, unless it forks the record.

    The check and the insert share one transaction under a lock, so two
    concurrent runs cannot both sign against a record the other one changes.
    """
    ensure_checkpoints_table(store)
    s, t = Identifier(store.schema), Identifier(CHECKPOINTS_TABLE)
    with store.location.connect(autocommit=False) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                     (f"legal-ledger checkpoint {store.schema}",))
        for signed in history.stored_to_extend(conn, store.schema):
            if signed["position"] > len(leaves) and _head_position(conn, store) >= \
                    signed["position"]:
                # another run signed a newer head after this one read its leaves: a race,
                # not a truncation (the log still holds the newer head)
                raise CheckpointError(f"a checkpoint at position {signed['position']} was "
                                      "signed meanwhile; try again")
            history.refuse_fork(signed, body, leaves)
        document = sign(body, key)
        conn.execute(
            SQL("INSERT INTO {s}.{t} (position, head_hash, merkle_root, public_key, signature,"
                " created_at, document) VALUES (%s, %s, %s, %s, %s, %s, %s)").format(s=s, t=t),
            (document["position"], bytes.fromhex(document["head_hash"]),
             bytes.fromhex(document["merkle_root"]), bytes.fromhex(document["public_key"]),
             bytes.fromhex(document["signature"]), document["created_at"],
             json.dumps(document, sort_keys=True)))
        conn.commit()
    return document


def _head_position(conn: psycopg.Connection[Any], store: FirmStore) -> int:
    row = conn.execute(SQL("SELECT coalesce(max(notification_id), 0) FROM {s}.{t}").format(
        s=Identifier(store.schema), t=Identifier(store.events_table))).fetchone()
    return int(row[0]) if row else 0


def cosign(document: Document, key: Ed25519PrivateKey, trust: standalone.Pin = None) -> Document:
    """Add an auditor's signature over the same signed bytes (the firm's must verify).

    Without ``trust`` the firm's signature is checked against the document's own
    key: a cosignature then vouches that the witness saw this tree head (and,
    through ``ledger.proof.witness``, that it extends the last one it saw), not
    who signed it.
    """
    result = standalone.verify_document(
        document, trust if trust is not None else standalone.Trust(embedded=True))
    if result.format != CHECKPOINT_FORMAT or not result.ok:
        raise CheckpointError("not cosigning: " + "; ".join(result.problems), field="file")
    public = public_key_bytes(key).hex()
    if public == document["public_key"] or any(
            c["public_key"] == public for c in document["cosignatures"]):
        raise CheckpointError("this key has signed the checkpoint already", field="key")
    signature = key.sign(canonical_signed_bytes(document)).hex()
    return {**document, "cosignatures": [*document["cosignatures"],
                                         {"public_key": public, "signature": signature}]}


def read_document(path: Path) -> Document:
    """A JSON document from a file, or one clear error."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise CheckpointError(f"cannot read {path}: {exc.strerror}", field="file") from None
    except ValueError:
        raise CheckpointError(f"{path} is not a JSON document", field="file") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} is not a JSON object", field="file")
    return data


def write_document(path: Path, document: Document, *, overwrite: bool = False) -> None:
    """Write a document as indented JSON (the signature covers values, not layout)."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    try:
        with path.open("w" if overwrite else "x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        raise CheckpointError(f"{path} exists already; choose another --out",
                              field="out") from None
    except OSError as exc:
        raise CheckpointError(f"cannot write {path}: {exc.strerror}", field="out") from None
