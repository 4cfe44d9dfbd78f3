"""Reading a firm's chain for proofs: the leaves (event hashes) and raw event rows.

Why a module of its own: checkpoints, proofs and ``verify --checkpoint`` all
need the first ``n`` event hashes in position order, and must notice when the
positions are not exactly 1..n (a tampered table) instead of building a tree
over whatever rows happen to be there.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from ledger.database import DatabaseLocation
from ledger.errors import LedgerError
from ledger.store.chain import to_micros

FETCH_ROWS = 50_000


class ProofUnavailableError(LedgerError):
    """The chain cannot back the requested proof (rows missing, positions out of range)."""

    type = "proof-unavailable"


class LeavesIncompleteError(ProofUnavailableError):
    """The positions 1..n are not all present exactly once."""

    type = "leaves-incomplete"


@dataclass(frozen=True)
class EventRow:
    """One stored event, exactly as stored (the payload is never decrypted here)."""

    position: int
    originator_id: str
    originator_version: int
    topic: str
    payload: bytes
    recorded_at_micros: int
    prev_hash: bytes
    hash: bytes

    def as_bundle_fields(self) -> dict[str, Any]:
        """The bundle's event fields (see ``ledger.proof.standalone``), without the path."""
        return {
            "position": self.position,
            "originator_id": self.originator_id,
            "originator_version": self.originator_version,
            "topic": self.topic,
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "recorded_at": self.recorded_at_micros,
            "prev_hash": self.prev_hash.hex(),
            "hash": self.hash.hex(),
        }


def read_leaves(
    conn: psycopg.Connection[Any], schema: str, table: str, size: int
) -> list[bytes]:
    """The stored hashes of positions 1..size, in order; refuses gaps and duplicates."""
    statement = SQL(
        "SELECT notification_id, hash FROM {s}.{t} WHERE notification_id BETWEEN 1 AND %s "
        "ORDER BY notification_id"
    ).format(s=Identifier(schema), t=Identifier(table))
    leaves: list[bytes] = []
    with conn.cursor(binary=True) as cur:
        cur.execute(statement, (size,))
        while rows := cur.fetchmany(FETCH_ROWS):
            for position, digest in rows:
                if position != len(leaves) + 1:
                    raise LeavesIncompleteError(
                        f"position {len(leaves) + 1} is missing or duplicated in "
                        f"{schema}.{table}; run 'ledger verify'")
                leaves.append(bytes(digest))
    if len(leaves) != size:
        raise LeavesIncompleteError(
            f"{schema}.{table} holds {len(leaves)} events, fewer than {size}")
    return leaves


def read_leaves_at(location: DatabaseLocation, schema: str, table: str, size: int) -> list[bytes]:
    """``read_leaves`` on a connection of its own, in one consistent snapshot."""
    with location.connect(autocommit=False) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        return read_leaves(conn, schema, table, size)


def read_events(
    location: DatabaseLocation, schema: str, table: str, positions: Iterable[int]
) -> list[EventRow]:
    """The raw rows at the given positions, in ascending order; every one must exist."""
    wanted = sorted(set(positions))
    statement = SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state,"
        " recorded_at, prev_hash, hash FROM {s}.{t} WHERE notification_id = ANY(%s)"
        " ORDER BY notification_id"
    ).format(s=Identifier(schema), t=Identifier(table))
    with location.connect() as conn:
        rows = conn.execute(statement, (wanted,)).fetchall()
    events = [
        EventRow(int(p), str(oid), int(version), str(topic), bytes(state), to_micros(at),
                 bytes(prev), bytes(digest))
        for p, oid, version, topic, state, at, prev, digest in rows
    ]
    found = [event.position for event in events]
    if found != wanted:
        missing = sorted(set(wanted) - set(found)) or found
        raise ProofUnavailableError(f"no single event at position(s) {missing}",
                                    field="positions")
    return events
