"""In-process consumers with a durable, named position: exactly once per event.

Why exactly once holds: each event is handed to the consumer inside a
database transaction on the ledger's PostgreSQL, and the same transaction
moves the consumer's position in the eventsourcing library's tracking table
(``PostgresTrackingRecorder._insert_tracking``, which refuses to move a
position backwards or to the same value). The consumer writes its own state
with the cursor it is given; a crash anywhere loses the state change and the
position together, and a restart resumes after the last committed position.
A second process running the same consumer name cannot apply an event twice:
its tracking insert fails and its transaction rolls back.

Why it checks continuity as well (``continuity``): before an event is
applied, the consumer checks that it is the next position and links to the
hash stored at the position it resumed from (position 1 to the genesis hash
of the ledger id), and, given ``ledger_id``, that the database holds that
ledger. A consumer pointed at another ledger's database, or at a ledger
restored to before its position, stops with ``LedgerMismatchError`` instead
of applying the wrong events. (With a ``types`` filter positions skip, so
only the ledger id and head are checked.)

Usage::

    def apply(event: FeedEvent, curs: Cursor[Any]) -> None:
        curs.execute("INSERT INTO my_schema.totals ...", (...))

    consumer = TrackedConsumer(store, "warehouse-sync")
    consumer.run(apply, stop=stop_event)          # or until=position, timeout=seconds
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from psycopg import Cursor
from psycopg.sql import SQL, Identifier

from ledger.store.firm import FirmStore
from ledger.subscribers.continuity import Continuity
from ledger.subscribers.feed import (
    FeedEvent,
    ledger_id_of,
    opener_for,
    resolve_types,
    to_feed_event,
)
from ledger.subscribers.live import LiveFeed
from ledger.subscribers.scope import FIRM, Owners, Scope

TRACKING_TABLE = "subscriber_tracking"
Handler = Callable[[FeedEvent, Cursor[Any]], None]


class TrackedConsumer:
    """A named subscriber whose position lives in ``<schema>.subscriber_tracking``."""

    def __init__(self, store: FirmStore, name: str, *, scope: Scope = FIRM,
                 types: Sequence[str] = (), ledger_id: str | None = None) -> None:
        self.store, self.name, self.scope = store, name, scope
        self.expected_ledger_id = ledger_id
        self.topics = resolve_types(types)
        self._datastore = store.datastore()
        self.tracking = PostgresTrackingRecorder(self._datastore,
                                                 tracking_table_name=TRACKING_TABLE)
        self.tracking.create_table()
        self._owners = Owners(store.schema, store.events_table)
        self._opener = opener_for(store)

    def position(self) -> int:
        """The last position this consumer applied (0 before the first)."""
        return int(self.tracking.max_tracking_id(self.name) or 0)

    def run(self, handler: Handler, *, stop: threading.Event | None = None,
            until: int | None = None, timeout: float | None = None,
            poll: float = 0.2) -> int:
        """Apply events in order until stopped, past ``until``, or out of time.

        Returns the position reached. Each event: one transaction, handler and
        position together.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        position = self.position()
        continuity = self.continuity(position)
        with LiveFeed(self.store, after=position, topics=self.topics) as feed:
            while not (stop is not None and stop.is_set()):
                if until is not None and position >= until:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    break
                try:
                    row = feed.next_row(timeout=poll)
                except StopIteration:
                    break
                if row is None:
                    continue
                if self.topics:
                    continuity.position = row.position  # filtered: positions skip
                else:
                    continuity.accept(row.position, row.prev_hash.hex(), row.hash.hex())
                with self._datastore.transaction(commit=True) as curs:
                    self._owners.resolve(curs.connection, [row.originator_id])
                    handler(to_feed_event(row, self._owners, self.scope,
                                              opener=self._opener), curs)
                    self.tracking._insert_tracking(curs, Tracking(self.name, row.position))
                position = row.position
        return position

    def continuity(self, position: int) -> Continuity:
        """Where this consumer stands: the database's ledger id and its hash at ``position``.

        Refuses another ledger than ``ledger_id`` (when given) and a ledger
        whose head is behind the consumer's position.
        """
        with self.store.location.connect() as conn:
            ledger_id = ledger_id_of(conn, self.store)
            row = conn.execute(SQL("SELECT hash FROM {s}.{t} WHERE notification_id = %s").format(
                s=Identifier(self.store.schema), t=Identifier(self.store.events_table)),
                (position,)).fetchone()
        continuity = Continuity(self.expected_ledger_id, position)
        continuity.same_ledger(ledger_id)
        if position > 0 and row is None:
            continuity.beyond_head(self.store.head().position)
        continuity.last_hash = None if row is None else bytes(row[0]).hex()
        return continuity

    def close(self) -> None:
        self._datastore.close()

    def __enter__(self) -> TrackedConsumer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
