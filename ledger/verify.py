"""Verification of a firm's hash chain, written independently of the writer.

``verify_chain`` walks the event table from genesis in position order,
recomputes every hash from the raw row (the layout is documented in
``ledger.store.chain`` and the README; this module re-implements it on purpose
rather than importing the writer's code) and stops at the first damage, naming
its position and kind. Kinds (stable strings, also in ``--json`` output):

``payload_changed``, ``topic_changed``, ``recorded_at_changed``,
``hash_changed``, ``hash_mismatch`` (last row: content or hash changed),
``prev_hash_changed``, ``row_missing``, ``row_inserted``, ``rows_reordered``,
``sequence_gap``, ``hash_recomputed`` (a row rewritten and re-hashed; its
successor no longer links), ``tail_truncated`` and ``head_mismatch`` (against
a known head), ``ledger_missing``.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import psycopg
from psycopg.adapt import Loader
from psycopg.pq import Format
from psycopg.sql import SQL, Identifier

from ledger.database import DatabaseLocation
from ledger.verify_ranges import (
    ProcessRanges,
    RangeRunner,
    RangeTask,
    default_workers,
    scan_in_ranges,
)
from ledger.verify_scan import (
    PG_EPOCH_MICROS,
    MalformedRowError,
    ScanEnd,
    copy_rows,
    scan,
    split_row,
)

TAG = b"legal-ledger/event/v1"
GENESIS = b"legal-ledger/genesis/v1"

Progress = Callable[[int], None]


@dataclass(frozen=True)
class KnownHead:
    """A head the verifier was told about (a checkpoint): position and hash."""

    position: int
    hash: bytes


@dataclass
class Damage:
    position: int
    kind: str
    detail: str


@dataclass
class VerificationReport:
    schema: str
    table: str
    ledger_id: str
    checked: int = 0
    head_position: int = 0
    head_hash: str | None = None
    damage: Damage | None = None
    known_head: dict[str, Any] | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.damage is None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ok"] = self.ok
        return data


class _MicrosLoader(Loader):
    """timestamptz in binary is int64 microseconds since 2000-01-01: keep it exact."""

    format = Format.BINARY

    def load(self, data: Any) -> int:
        return int(struct.unpack(">q", data)[0]) + PG_EPOCH_MICROS


class _RawBytesLoader(Loader):
    """uuid in binary is its 16 bytes: the hash layout wants exactly those."""

    format = Format.BINARY

    def load(self, data: Any) -> bytes:
        return bytes(data)


@dataclass
class _Row:
    position: int
    originator_id: bytes
    version: int
    topic: str
    state: bytes
    recorded_at: int
    prev_hash: bytes
    hash: bytes

    @classmethod
    def parse(cls, hash_input: bytes, digest: bytes) -> _Row:
        """Rebuild a row from its hash input (only done where damage is found)."""
        (position,), prev, oid = struct.unpack_from(">q", hash_input), hash_input[8:40], \
            hash_input[40:56]
        (version, topic_len) = struct.unpack_from(">qI", hash_input, 56)
        topic = hash_input[68:68 + topic_len].decode("utf-8", "replace")
        (state_len,) = struct.unpack_from(">I", hash_input, 68 + topic_len)
        state_at = 72 + topic_len
        state = hash_input[state_at:state_at + state_len]
        (at,) = struct.unpack_from(">q", hash_input, state_at + state_len)
        return cls(position, oid, version, topic, state, at, prev, digest)


class _Hasher:
    def __init__(self, ledger_id: bytes) -> None:
        self.ledger_id = ledger_id
        genesis_input = struct.pack(">I", len(GENESIS)) + GENESIS + ledger_id
        self.genesis = hashlib.sha256(genesis_input).digest()
        self.prefix = struct.pack(">I", len(TAG)) + TAG + ledger_id
        self.base = hashlib.sha256(self.prefix)

    def __call__(self, row: _Row, *, position: int | None = None, prev: bytes | None = None,
                 topic: str | None = None, recorded_at: int | None = None) -> bytes:
        topic_bytes = (row.topic if topic is None else topic).encode("utf-8")
        h = self.base.copy()
        h.update(struct.pack(">q", row.position if position is None else position))
        h.update(row.prev_hash if prev is None else prev)
        h.update(row.originator_id)
        h.update(struct.pack(">qI", row.version, len(topic_bytes)))
        h.update(topic_bytes)
        h.update(struct.pack(">I", len(row.state)))
        h.update(row.state)
        h.update(struct.pack(">q", row.recorded_at if recorded_at is None else recorded_at))
        return h.digest()


def verify_chain(
    location: DatabaseLocation,
    schema: str,
    table: str = "events",
    *,
    known_head: KnownHead | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> VerificationReport:
    """Recompute the whole chain; report the count, the head and the first damage.

    ``workers`` (default: half the cores, ``verify_ranges.default_workers``) processes
    scan ranges of a long chain side by side (see ``ledger.verify_ranges``); 1, or a
    chain shorter than ``verify_ranges.SERIAL_BELOW`` events, walks it in this process.
    The report is the same either way.
    """
    count = default_workers() if workers is None else workers
    with psycopg.connect(location.url, connect_timeout=5) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        if count <= 1:
            return verify_chain_on(conn, schema, table, known_head=known_head,
                                   progress=progress)
        with ProcessRanges(location.url, count) as ranges:  # the pool starts only if used
            return verify_chain_on(conn, schema, table, known_head=known_head,
                                   progress=progress, ranges=ranges)


def verify_chain_on(
    conn: psycopg.Connection[Any],
    schema: str,
    table: str = "events",
    *,
    known_head: KnownHead | None = None,
    progress: Progress | None = None,
    ranges: RangeRunner | None = None,
) -> VerificationReport:
    """Verify on an open connection (one snapshot; it may be inside a transaction).

    With ``ranges`` a long enough chain is scanned in ranges joined in order
    (process ranges need the connection in a repeatable-read transaction).
    """
    s = Identifier(schema)
    walker = _Walker(conn, schema, table)
    meta = walker.query(
        SQL("SELECT ledger_id FROM {s}.chain_meta WHERE table_name = %s").format(s=s), (table,))
    report = VerificationReport(schema, table, str(uuid.UUID(bytes=meta[0][0])) if meta else "")
    if not meta:
        report.damage = Damage(0, "ledger_missing", "no chain is registered for this table")
        return report
    walker.walk(_Hasher(meta[0][0]), report, progress, ranges)
    if report.ok and known_head is not None:
        _check_known_head(walker, report, known_head)
    return report


def _check_known_head(walker: _Walker, report: VerificationReport, known: KnownHead) -> None:
    report.known_head = {"position": known.position, "hash": known.hash.hex()}
    if report.head_position < known.position:
        report.damage = Damage(
            report.head_position + 1, "tail_truncated",
            f"the chain ends at {report.head_position} but a head at {known.position} is known",
        )
        return
    rows = walker.query(SQL("SELECT hash FROM {s}.{t} WHERE notification_id = %s").format(
        s=walker.s, t=walker.t), (known.position,))
    if not rows or bytes(rows[0][0]) != known.hash:
        report.damage = Damage(
            known.position, "head_mismatch",
            "the event at the known head's position has another hash: history was rewritten",
        )


class _Walker:
    """One pass over the rows; classification only runs at the first damage."""

    def __init__(self, conn: psycopg.Connection[Any], schema: str, table: str) -> None:
        self.conn, self.schema, self.table = conn, schema, table
        self.s, self.t = Identifier(schema), Identifier(table)
        self.hasher = _Hasher(b"\x00" * 16)
        self.report = VerificationReport("", "", "")

    def query(self, statement: Any, params: Any = None) -> list[Any]:
        """A binary query whose timestamps load as exact microseconds and uuids as bytes."""
        with self.conn.cursor(binary=True) as cur:
            cur.adapters.register_loader("timestamptz", _MicrosLoader)
            cur.adapters.register_loader("uuid", _RawBytesLoader)
            return list(cur.execute(statement, params).fetchall())

    def walk(self, hasher: _Hasher, report: VerificationReport,
             progress: Progress | None, ranges: RangeRunner | None = None) -> None:
        self.hasher, self.report = hasher, report
        try:
            finding = self._walk(progress, ranges)
        except MalformedRowError as exc:
            report.damage = Damage(exc.position, "malformed_row",
                                   "a column has the wrong size (constraints were removed)")
            return
        if finding is not None:  # classified only now: the COPY has ended
            report.damage = finding()

    def _walk(self, progress: Progress | None,
              ranges: RangeRunner | None) -> Callable[[], Damage] | None:
        """The fast pass; returns how to classify the first damage, if any."""
        report, hasher = self.report, self.hasher
        if self.conn.info.encoding != "utf-8":
            self.conn.execute("SET client_encoding TO 'UTF8'")
        chain = RangeTask(self.schema, self.table, hasher.prefix, hasher.genesis, None, 0)
        joined = None if ranges is None else scan_in_ranges(self.conn, chain, ranges, progress)
        if joined is not None:
            end, successor = joined
            finding = None if end.stopped_at is None else self._first_damage(
                end, iter(() if successor is None else (memoryview(successor),)))
        else:
            query = SQL(
                "COPY (SELECT notification_id, prev_hash, originator_id, originator_version,"
                " topic, state, recorded_at, hash FROM {s}.{t} ORDER BY notification_id)"
                " TO STDOUT (FORMAT BINARY)"
            ).format(s=self.s, t=self.t)
            with closing(copy_rows(self.conn, query)) as rows:
                end = scan(rows, hasher.base, hasher.genesis, progress)
                finding = None if end.stopped_at is None else self._first_damage(end, rows)
                for _ in rows:  # drain the COPY so the connection can answer look-ups
                    pass
        report.checked = report.head_position = end.checked
        if finding is None:
            report.head_hash = end.head.hex() if report.checked else None
            if progress is not None:
                progress(report.checked)
        return finding

    def _first_damage(self, end: ScanEnd, rows: Iterator[memoryview]) -> Callable[[], Damage]:
        """Which check the row where the scan stopped failed, in the order they matter."""
        assert end.stopped_at is not None
        position, hash_input, row_prev, digest = split_row(end.stopped_at)
        row, expected = _Row.parse(hash_input, digest), end.checked + 1
        if position != expected:
            return partial(self._position_damage, row, expected, end.head)
        if row_prev != end.head:
            return partial(self._link_damage, row, end.head, end.before_head)
        # the hash does not match or time runs backwards: the successor tells which
        successor = next(rows, None)
        if successor is None:
            return partial(self._classify_content, row, None)
        _, successor_input, _, successor_hash = split_row(successor)
        return partial(self._classify_content, row, _Row.parse(successor_input, successor_hash))

    def _find_position_of_hash(self, digest: bytes) -> int | None:
        rows = self.query(
            SQL("SELECT notification_id FROM {s}.{t} WHERE hash = %s LIMIT 1").format(
                s=self.s, t=self.t), (digest,))
        return int(rows[0][0]) if rows else None

    def _position_damage(self, row: _Row, expected: int, prev_hash: bytes) -> Damage:
        if row.position < expected:
            return Damage(row.position, "row_inserted",
                          f"a second row holds position {row.position}")
        if row.prev_hash == prev_hash:
            return Damage(expected, "sequence_gap",
                          f"positions {expected}..{row.position - 1} are absent "
                          "but the chain links across them")
        return Damage(expected, "row_missing",
                      f"positions {expected}..{row.position - 1} were deleted")

    def _link_damage(self, row: _Row, prev_hash: bytes, before_prev: bytes | None) -> Damage:
        if before_prev is not None and row.prev_hash == before_prev:
            if self.hasher(row, position=row.position - 1) == row.hash:
                return Damage(row.position - 1, "row_inserted",
                              "this row was inserted: its successor links to its predecessor")
            return Damage(row.position, "row_inserted",
                          "this row claims the same predecessor as the row before it")
        found = self._find_position_of_hash(row.prev_hash)
        if found is not None and found != row.position - 1:
            return Damage(row.position, "rows_reordered",
                          f"this row follows position {found}, not {row.position - 1}")
        if self.hasher(row) == row.hash:
            return Damage(row.position - 1, "hash_recomputed",
                          "this row was rewritten and re-hashed: its successor no longer links")
        if self.hasher(row, prev=prev_hash) == row.hash:
            return Damage(row.position, "prev_hash_changed", "the stored prev_hash was altered")
        return Damage(row.position, "row_missing",
                      "the row this one links to is gone (deleted and renumbered)")

    def _classify_content(self, row: _Row, successor: _Row | None) -> Damage:
        computed = self.hasher(row)
        if successor is not None and successor.prev_hash == computed:
            return Damage(row.position, "hash_changed", "the stored hash was altered")
        hypotheses = self._content_hypotheses(row)
        if hypotheses:
            return hypotheses
        if successor is None:
            return Damage(row.position, "hash_mismatch",
                          "the last row's content or hash was altered")
        if successor.prev_hash != row.hash:
            return Damage(row.position, "hash_mismatch", "the row and its hash were both altered")
        return Damage(row.position, "payload_changed", "the stored payload was altered")

    def _content_hypotheses(self, row: _Row) -> Damage | None:
        neighbours = self.query(
            SQL("SELECT notification_id, recorded_at FROM {s}.{t} "
                "WHERE notification_id IN (%s, %s) ORDER BY 1").format(s=self.s, t=self.t),
            (row.position - 1, row.position + 1))
        times = {int(n): int(ts) for n, ts in neighbours}
        lower, upper = times.get(row.position - 1), times.get(row.position + 1)
        for candidate in (lower, upper):
            if candidate is not None and self.hasher(row, recorded_at=candidate) == row.hash:
                return Damage(row.position, "recorded_at_changed", "recorded_at was altered")
        if (lower is not None and row.recorded_at < lower) or (
                upper is not None and row.recorded_at > upper):
            return Damage(row.position, "recorded_at_changed",
                          "recorded_at was altered (out of order with its neighbours)")
        topics = self.query(SQL("SELECT DISTINCT topic FROM {s}.{t}").format(s=self.s, t=self.t))
        for (topic,) in topics:
            if topic != row.topic and self.hasher(row, topic=topic) == row.hash:
                return Damage(row.position, "topic_changed", "the stored topic was altered")
        if not _topic_resolves(row.topic):
            return Damage(row.position, "topic_changed",
                          "the stored topic names no event class and does not verify")
        return None


def _topic_resolves(topic: str) -> bool:
    """Whether a topic names an importable class (used only to name a damage's kind)."""
    from eventsourcing.utils import TopicError, resolve_topic

    try:
        resolve_topic(topic)
    except (TopicError, ImportError, AttributeError, ValueError):
        return False
    return True
