"""The verifier's fast pass: rows of a binary COPY, checked in one tight loop.

The COPY selects the columns in hash-layout order. A row of it, by offset:

====== =====================================================
0      int16 field count (8)
2      int32 8, then the int64 position at 6
14     int32 32, then prev_hash at 18
50     int32 16, then originator_id at 54
70     int32 8, then the int64 version at 74
82     int32 topic length, then the topic at 86
q      int32 state length, then the state at q + 4
r      int32 8, then recorded_at at r + 4 (int64 µs since 2000-01-01)
r + 12 int32 32, then the hash at r + 16; the row ends at r + 48
====== =====================================================

The lengths before topic and state are exactly ``lp()`` of the hash layout, so
a row's hash input is ``row[6:14] ‖ row[18:50] ‖ row[54:70] ‖ row[74:r]`` and
recorded_at shifted to the Unix epoch. PostgreSQL sends one CopyData message per
row (the file header rides on the first, the trailer has one of its own), so a
message that is not exactly one row is malformed.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.errors import error_from_result
from psycopg.pq import ExecStatus
from psycopg.sql import SQL, Composed

PG_EPOCH_MICROS = 946_684_800_000_000  # 2000-01-01 - 1970-01-01 in microseconds
FETCH_ROWS = 20_000
SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
TRAILER = b"\xff\xff"

_FRONT = struct.Struct(">6sQ4s32s4s16x4s8xI")  # up to and with the topic's length
_TAIL = struct.Struct(">4sq4s32s")  # recorded_at and hash, with their lengths
_INT64 = struct.Struct(">q")
_L8, _L16, _L32 = (struct.pack(">i", n) for n in (8, 16, 32))
_SHAPE = (b"\x00\x08" + _L8, _L32, _L16, _L8)  # the fixed-size fields' lengths


class MalformedRowError(Exception):
    """A row whose columns have the wrong size (constraints were removed)."""

    def __init__(self, position: int) -> None:
        super().__init__(position)
        self.position = position


def copy_rows(conn: psycopg.Connection[Any],
              query: SQL | Composed) -> Generator[memoryview, None, None]:
    """Each row of a binary COPY, straight from libpq's buffer while it has one.

    Only when nothing is buffered does psycopg's ``read()`` wait for the socket;
    at the trailer it also collects the COPY's end, so the connection is ready.
    """
    with conn.cursor() as cur, cur.copy(query) as copy:
        pgconn = conn.pgconn
        get, first = pgconn.get_copy_data, True
        while True:
            size, data = get(1)
            if size == 0:
                data = memoryview(copy.read())
                size = len(data)
                if not size:
                    raise psycopg.DataError("the COPY ended without its trailer")
            elif size < 0:  # the server ended the COPY early: raise its error
                results = []
                while (result := pgconn.get_result()) is not None:
                    results.append(result)
                failed = [r for r in results if r.status != ExecStatus.COMMAND_OK]
                if failed:
                    raise error_from_result(failed[0], encoding=conn.info.encoding)
                raise psycopg.DataError("the COPY ended without its trailer")
            if first:
                if data[:11] != SIGNATURE:
                    raise psycopg.DataError("not a binary COPY")
                data, first = data[19 + int.from_bytes(data[15:19], "big"):], False
                size = len(data)
                if not size:
                    continue
            if size == 2 and data == TRAILER:
                while copy.read():  # let psycopg see the end of the COPY
                    pass
                return
            yield data


def split_row(row: memoryview | bytes) -> tuple[int, bytes, bytes, bytes]:
    """A row's position, hash input, prev_hash and hash; checks what ``scan`` checks."""
    try:
        head_len, position, p32, prev, p16, p8, topic_len = _FRONT.unpack_from(row)
    except struct.error:
        raise MalformedRowError(int.from_bytes(row[6:14], "big")) from None
    r = 90 + topic_len + int.from_bytes(row[86 + topic_len:90 + topic_len], "big")
    try:
        l8, at, l32, digest = _TAIL.unpack_from(row, r)
    except struct.error:
        raise MalformedRowError(position) from None
    if (head_len, p32, p16, p8) != _SHAPE or l8 != _L8 or l32 != _L32 or len(row) != r + 48:
        raise MalformedRowError(position)
    at = min(at + PG_EPOCH_MICROS, 2**63 - 1)  # 'infinity' cannot have been hashed anyway
    hash_input = b"".join((row[6:14], prev, row[54:70], row[74:r], _INT64.pack(at)))
    return position, hash_input, prev, digest


@dataclass(frozen=True)
class ScanEnd:
    """Where the fast pass stopped: after ``checked`` good rows, maybe at a bad one."""

    checked: int
    head: bytes  # the hash of the last good row (the genesis hash if none)
    before_head: bytes | None
    stopped_at: memoryview | bytes | None  # the first row that failed any check


@dataclass(frozen=True)
class Seed:
    """What the scan holds before a position: the next expected one, the head, its time.

    From genesis that is position 1 and the genesis hash; for a range of the chain it
    is read from the row just before the range (see ``seed_after``).
    """

    expected: int
    head: bytes
    before_head: bytes | None
    head_time: int  # raw COPY microseconds (since 2000-01-01) of the head


def genesis_seed(genesis: bytes) -> Seed:
    return Seed(1, genesis, None, -(2**63))


def seed_after(row: memoryview | bytes) -> Seed | None:
    """The scan's state right after ``row`` had it verified (None if the row is malformed).

    Exactly what ``scan`` holds after a good row: its position + 1, its hash, its
    prev_hash (the hash before it, which it links to) and its raw time.
    """
    try:
        head_len, position, p32, prev, p16, p8, topic_len = _FRONT.unpack_from(row)
        r = 90 + topic_len + int.from_bytes(row[86 + topic_len:90 + topic_len], "big")
        l8, at, l32, digest = _TAIL.unpack_from(row, r)
    except struct.error:
        return None
    if (head_len, p32, p16, p8) != _SHAPE or l8 != _L8 or l32 != _L32 or len(row) != r + 48:
        return None
    return Seed(position + 1, digest, prev, at)


def scan(rows: Iterator[memoryview], base: hashlib._Hash, genesis: bytes,
         progress: Callable[[int], None] | None, seed: Seed | None = None) -> ScanEnd:
    """Check rows until one fails: its shape, position, link, hash or time order.

    Which check failed, and what the damage is, is worked out by the caller from
    the row where the scan stopped; this loop only has to be fast. ``seed`` starts
    it inside the chain (a range) instead of at genesis.
    """
    front, tail, pack, new_hash = _FRONT.unpack_from, _TAIL.unpack_from, _INT64.pack, base.copy
    from_bytes, shape, l8, l32 = int.from_bytes, _SHAPE, _L8, _L32
    start = genesis_seed(genesis) if seed is None else seed
    expected, head, before, head_time = start.expected, start.head, start.before_head, \
        start.head_time
    mark = expected - 1 + FETCH_ROWS if progress is not None else -1
    row = None
    try:
        for row in rows:
            head_len, position, p32, prev, p16, p8, topic_len = front(row)
            q = 86 + topic_len
            r = q + 4 + from_bytes(row[q:q + 4], "big")
            t8, at, t32, digest = tail(row, r)
            h = new_hash()
            h.update(b"".join((row[6:14], prev, row[54:70], row[74:r],
                               pack(at + PG_EPOCH_MICROS))))
            if (h.digest() != digest or position != expected or prev != head
                    or at < head_time or (head_len, p32, p16, p8) != shape
                    or t8 != l8 or t32 != l32 or len(row) != r + 48):
                return ScanEnd(expected - 1, head, before, row)
            before, head, head_time = head, digest, at
            if expected == mark and progress is not None:
                progress(expected)
                mark += FETCH_ROWS
            expected += 1
    except struct.error:  # too short for its lengths, or a time beyond int64
        return ScanEnd(expected - 1, head, before, row)
    return ScanEnd(expected - 1, head, before, None)
