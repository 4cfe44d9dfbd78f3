"""Reading the event table for the read side: the head, whether the models are
already there, and pages of events read ahead in a background thread."""

from __future__ import annotations

from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import psycopg
from psycopg.sql import SQL, Identifier, Literal

from ledger.store.firm import FirmStore
from projections.model import ReadModel

APPLICATION_NAME = "BillingLedger"
"""The name the write side's application records under (tracking rows carry it)."""
FIRST_PAGE_EVENTS = 5_000


def head_position(store: FirmStore) -> int:
    with store.location.connect() as conn:
        row = conn.execute(SQL("SELECT coalesce(max(notification_id), 0) FROM {s}.{t}").format(
            s=Identifier(store.schema), t=Identifier(store.events_table))).fetchone()
    return int(row[0]) if row else 0


def head_if_current(store: FirmStore, models: list[ReadModel]) -> int | None:
    """The head, if every model is already there: one query on one connection, no
    view opened (opening them costs a pool and DDL checks per model). None when a
    model is behind or has never been made."""
    s = Identifier(store.schema)
    positions = SQL(", ").join(  # a model without a tracking row counts as behind
        SQL("coalesce((SELECT max(notification_id) FROM {s}.{t}"
            " WHERE application_name = {app}), -1)").format(
            s=s, t=Identifier(f"{m.projection_name.lower()}_tracking"),
            app=Literal(APPLICATION_NAME))
        for m in models)
    query = SQL("SELECT (SELECT coalesce(max(notification_id), 0) FROM {s}.{e}),"
                " least({positions})").format(s=s, e=Identifier(store.events_table),
                                              positions=positions)
    try:
        with store.location.connect() as conn:
            row = conn.execute(query).fetchone()
    except psycopg.errors.UndefinedTable:
        return None  # a model never made: the full path makes it
    if row is None or row[1] < row[0]:
        return None
    return int(row[0])


def read_events(conn: Any, store: FirmStore, after: int, upto: int,
                topics: list[str]) -> list[tuple[int, UUID, int, str, bytes]]:
    """Events in ``(after, upto]`` with these topics, in position order."""
    return list(conn.execute(
        SQL("SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {s}.{t} WHERE notification_id > %s AND notification_id <= %s "
            "AND topic = ANY(%s) ORDER BY notification_id").format(
            s=Identifier(store.schema), t=Identifier(store.events_table)),
        (after, upto, topics), binary=True).fetchall())


Page = tuple[int, list[tuple[int, UUID, int, str, bytes]]]
"""The end position of a page of events, and its events."""


def read_pages(store: FirmStore, start: int, topics: list[str], *, page: int,
               upto: int | None) -> Generator[Page, None, None]:
    """Pages of events after ``start`` up to the head (or ``upto``), each read in a
    background thread while the caller folds the one before: PostgreSQL streams
    the next page while Python works (psycopg waits on the socket without the GIL).

    Large pages start small and double: nothing overlaps the first page's read
    nor the last one's write, so a short catch-up would otherwise be one page
    done step after step."""
    size = page if page < 8 * FIRST_PAGE_EVENTS else FIRST_PAGE_EVENTS

    def read(after: int, size: int, read: Any) -> Page | None:
        head = upto if upto is not None else head_position(store)
        if after >= head:
            return None
        end = min(after + size, head)
        return end, read_events(read, store, after, end, topics)

    with store.location.connect() as conn, ThreadPoolExecutor(
            1, thread_name_prefix="read-model-reader") as reader:
        ahead = reader.submit(read, start, size, conn)
        while (found := ahead.result()) is not None:
            size = min(2 * size, page)
            ahead = reader.submit(read, found[0], size, conn)
            yield found
