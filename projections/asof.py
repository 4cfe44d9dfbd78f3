"""As-of replay: the books as they stood at a moment, without touching live tables.

``as_of = T`` means the prefix of the log with ``recorded_at <= T``. Because
``recorded_at`` never decreases along positions, that prefix ends at one
position P, found through the ``recorded_at`` index in two index probes. The
replay then folds the events up to P into in-memory rows with the very fold
functions the live projections use. For one client it reads only the client's
aggregates (listed with their first position in the live ``rm_originators``,
which never changes once written) through the event table's primary key, plus
any events after the directory's tracked position, which the list cannot know.
"""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.sql import SQL, Identifier

from ledger.crypto.sealing import sealing_for_store
from ledger.domain.ids import firm_id
from ledger.store.firm import FirmStore
from projections.events import decoders
from projections.folds_directory import DIRECTORY
from projections.model import ReadModel
from projections.reading import APPLICATION_NAME
from projections.rows import MemoryReader, Rows

EventRow = tuple[int, UUID, int, str, bytes]


def position_at(conn: Any, store: FirmStore, as_of: datetime) -> int:
    """The last position recorded at or before ``as_of`` (0 if none)."""
    # "+ 0" keeps the planner on the recorded_at index (the rows of one commit share
    # one recorded_at) instead of walking the position index back from the head.
    row = conn.execute(SQL(
        "SELECT max(notification_id + 0) FROM {s}.{t} WHERE recorded_at = "
        "(SELECT max(recorded_at) FROM {s}.{t} WHERE recorded_at <= %s)").format(
        s=Identifier(store.schema), t=Identifier(store.events_table)), (as_of,)).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def recorded_at(conn: Any, store: FirmStore, position: int) -> datetime | None:
    row = conn.execute(SQL("SELECT recorded_at FROM {s}.{t} WHERE notification_id = %s").format(
        s=Identifier(store.schema), t=Identifier(store.events_table)), (position,)).fetchone()
    return row[0] if row else None


def _directory_position(conn: Any, store: FirmStore) -> int:
    table = f"{DIRECTORY.projection_name}_tracking"
    found = conn.execute("SELECT to_regclass(%s)", (f'"{store.schema}"."{table}"',)).fetchone()
    if not found or found[0] is None:
        return 0
    row = conn.execute(SQL("SELECT notification_id FROM {s}.{t} WHERE application_name = %s"
                           ).format(s=Identifier(store.schema), t=Identifier(table)),
                       (APPLICATION_NAME,)).fetchone()
    return int(row[0]) if row else 0


def _client_events(conn: Any, store: FirmStore, client_id: UUID, position: int,
                   topics: list[str]) -> list[EventRow]:
    s, t = Identifier(store.schema), Identifier(store.events_table)
    tracked = min(_directory_position(conn, store), position)
    ids = [firm_id()]
    if tracked:
        ids += [r[0] for r in conn.execute(SQL(
            "SELECT originator_id FROM {s}.rm_originators WHERE client_id = %s "
            "AND first_position <= %s").format(s=s), (client_id, tracked))]
    owned = conn.execute(SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {s}.{t} "
        # "+ 0": look the rows up by originator (primary key) only; combining that
        # with the position index would scan half the table's index for nothing.
        "WHERE originator_id = ANY(%s) AND notification_id + 0 <= %s AND topic = ANY(%s)"
    ).format(
        s=s, t=t), (ids, tracked, topics), binary=True).fetchall()
    tail = conn.execute(SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {s}.{t} "
        "WHERE notification_id > %s AND notification_id <= %s AND topic = ANY(%s) "
        "ORDER BY notification_id").format(s=s, t=t), (tracked, position, topics),
        binary=True).fetchall()
    return list(heapq.merge(sorted(owned), tail))


def _all_events(conn: Any, store: FirmStore, position: int, topics: list[str]) -> list[EventRow]:
    return list(conn.execute(SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {s}.{t} "
        "WHERE notification_id <= %s AND topic = ANY(%s) ORDER BY notification_id").format(
        s=Identifier(store.schema), t=Identifier(store.events_table)),
        (position, topics), binary=True).fetchall())


def replay(conn: Any, store: FirmStore, models: list[ReadModel], position: int,
           client_id: UUID | None = None) -> MemoryReader:
    """Fold the events up to ``position`` into in-memory rows of these models.

    With ``client_id`` only that client's aggregates (and the firm's) are read:
    the rows are then complete for that client, and only for it.
    """
    topics = sorted({t for m in models for t in m.topics})
    if client_id is None:
        events = _all_events(conn, store, position, topics)
    else:
        events = _client_events(conn, store, client_id, position, topics)
    decode = decoders(set(topics), sealing_for_store(store).open)
    rows: list[Rows] = [m.new_rows() for m in models]
    folds = [m.fold_for_topic() for m in models]
    for pos, oid, version, topic, state in events:
        fact = decode[topic](oid, version, topic, state)
        for fold_of, model_rows in zip(folds, rows, strict=True):
            fold = fold_of.get(topic)
            if fold is not None:
                fold(model_rows, pos, oid, fact)
    return MemoryReader(rows)
