"""The hash chain's byte layout, and its Python reference implementation.

Every stored event row carries ``prev_hash`` and ``hash``. An auditor can
recompute ``hash`` from the row alone, without any decryption key, because it
covers the payload bytes *as stored*::

    lp(x)      = uint32 big-endian byte length of x  ‖  x
    int64(n)   = 8-byte big-endian two's complement integer

    hash = SHA-256(
        lp(b"legal-ledger/event/v1")            domain tag (21 bytes)
        ‖ ledger_id                             16 bytes, the chain's UUID (RFC 4122 order)
        ‖ int64(position)                       notification id, 1 for the first event
        ‖ prev_hash                             32 bytes
        ‖ originator_id                         16 bytes, the aggregate's UUID
        ‖ int64(originator_version)
        ‖ lp(topic encoded as UTF-8)
        ‖ lp(payload bytes as stored)
        ‖ int64(recorded_at)                    microseconds since 1970-01-01T00:00:00Z
    )

    prev_hash of position 1 (genesis) = SHA-256(lp(b"legal-ledger/genesis/v1") ‖ ledger_id)
    prev_hash of position n > 1       = hash of position n - 1

``recorded_at`` is the database's ``clock_timestamp()`` taken while the writer
holds the table's EXCLUSIVE lock, raised if need be to the previous row's value,
so it never decreases along the sequence. All rows of one transaction share it.

The database writes the chain with this layout in PL/pgSQL (``schema.py``: the
append function every transaction calls, and the trigger that chains rows
inserted by raw SQL). ``ChainHasher`` here is the Python reference that tests
and subscribers' chain checks compare against; ``ledger.verify`` and
``ledger.proof.standalone`` re-implement it independently on purpose.
"""

from __future__ import annotations

import hashlib
import struct
from datetime import UTC, datetime, timedelta
from uuid import UUID

EVENT_TAG = b"legal-ledger/event/v1"
GENESIS_TAG = b"legal-ledger/genesis/v1"
HASH_SIZE = 32

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)

_LENGTH = struct.Struct(">I")
_FIXED = struct.Struct(">16sq32s16sq")
_INT64 = struct.Struct(">q")


def length_prefixed(data: bytes) -> bytes:
    return _LENGTH.pack(len(data)) + data


def genesis_hash(ledger_id: UUID) -> bytes:
    """The ``prev_hash`` of position 1: binds the chain to its ledger id."""
    return hashlib.sha256(length_prefixed(GENESIS_TAG) + ledger_id.bytes).digest()


def to_micros(moment: datetime) -> int:
    """Exact microseconds since the Unix epoch of an aware datetime."""
    assert moment.tzinfo is not None, "recorded_at must be timezone-aware"
    return (moment - EPOCH) // ONE_MICROSECOND


class ChainHasher:
    """Computes event hashes for one ledger; the tag and ledger id are hashed once."""

    def __init__(self, ledger_id: UUID) -> None:
        self.ledger_id = ledger_id
        self._prefix = hashlib.sha256(length_prefixed(EVENT_TAG))
        self._ledger_id_bytes = ledger_id.bytes

    def event_hash(
        self,
        *,
        position: int,
        prev_hash: bytes,
        originator_id: UUID,
        originator_version: int,
        topic: str,
        state: bytes,
        recorded_at_micros: int,
    ) -> bytes:
        assert len(prev_hash) == HASH_SIZE, "prev_hash must be a SHA-256 digest"
        assert position >= 1, "positions start at 1"
        digest = self._prefix.copy()
        digest.update(
            _FIXED.pack(
                self._ledger_id_bytes, position, prev_hash, originator_id.bytes,
                originator_version,
            )
        )
        topic_bytes = topic.encode("utf-8")
        digest.update(_LENGTH.pack(len(topic_bytes)))
        digest.update(topic_bytes)
        digest.update(_LENGTH.pack(len(state)))
        digest.update(state)
        digest.update(_INT64.pack(recorded_at_micros))
        return digest.digest()
