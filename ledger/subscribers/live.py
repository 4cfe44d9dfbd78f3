"""Following the chain as it grows: the eventsourcing library's LISTEN/NOTIFY
subscription, reading rows with their chain columns.

Why subclass the recorder rather than re-implement a listener: the library's
``PostgresSubscription`` already pulls what was recorded before it started,
then wakes on every ``NOTIFY`` the recorder sends at commit and pulls again
after the last position it yielded. Its pulls go through
``select_notifications``, which ``FeedRecorder`` extends to return the
``recorded_at``, ``prev_hash`` and ``hash`` columns too, so subscribers get
the chain values without a second query. Positions are assigned under the
table's EXCLUSIVE lock and become visible in order, so reading
``notification_id > last`` never skips a row that commits later.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from psycopg.sql import SQL, Identifier

from ledger.store.firm import FirmStore
from ledger.store.recorder import ChainedApplicationRecorder
from ledger.subscribers.feed import StoredRow


@dataclass(frozen=True)
class ChainedNotification(Notification):
    """The library's notification plus the row's chain columns."""

    recorded_at: datetime
    prev_hash: bytes
    hash: bytes

    def row(self) -> StoredRow:
        oid = self.originator_id
        return StoredRow(self.id, oid if isinstance(oid, UUID) else UUID(oid),
                         self.originator_version, self.topic,
                         self.state, self.recorded_at, self.prev_hash, self.hash)


class FeedRecorder(ChainedApplicationRecorder):
    """The chained recorder whose notifications carry ``recorded_at`` and the hashes."""

    def select_notifications(
        self, start: int | None, limit: int, stop: int | None = None,
        topics: Sequence[str] = (), *, inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        op = ">=" if inclusive_of_start else ">"
        sql = ("SELECT notification_id, originator_id, originator_version, topic, state,"
               " recorded_at, prev_hash, hash FROM {s}.{t} WHERE notification_id " + op + " %s")
        params: list[Any] = [start or 0]
        if stop is not None:
            sql += " AND notification_id <= %s"
            params.append(stop)
        if topics:
            sql += " AND topic = ANY(%s)"
            params.append(list(topics))
        sql += " ORDER BY notification_id LIMIT %s"
        params.append(limit)
        statement = SQL(sql).format(s=Identifier(self.datastore.schema),
                                    t=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [ChainedNotification(
                id=r["notification_id"], originator_id=r["originator_id"],
                originator_version=r["originator_version"], topic=r["topic"],
                state=bytes(r["state"]), recorded_at=r["recorded_at"],
                prev_hash=bytes(r["prev_hash"]), hash=bytes(r["hash"])) for r in curs.fetchall()]


_END = object()


class LiveFeed:
    """Rows after a position, then each new row as it commits, until stopped.

    The library's subscription blocks without a timeout; a thread drains it
    into a bounded queue so that callers can wait with one (heartbeats,
    bounded test loops). ``next_row(timeout)`` returns None on timeout.
    """

    def __init__(self, store: FirmStore, after: int, topics: Sequence[str] = (),
                 buffer: int = 10_000) -> None:
        self._datastore = store.datastore()
        recorder = FeedRecorder(self._datastore, events_table_name=store.events_table)
        self._subscription = recorder.subscribe(gt=after, topics=topics)
        self._subscription.__enter__()
        self._rows: queue.Queue[object] = queue.Queue(maxsize=buffer)
        self._stopped = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="ledger-live-feed",
                                        daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        try:
            for notification in self._subscription:
                assert isinstance(notification, ChainedNotification)
                while not self._stopped.is_set():
                    try:
                        self._rows.put(notification.row(), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if self._stopped.is_set():
                    break
        except BaseException as exc:  # surfaced to the reader by next_row
            self.error = exc
        finally:
            self._put_end()

    def _put_end(self) -> None:
        with contextlib.suppress(queue.Full):
            self._rows.put_nowait(_END)

    def next_row(self, timeout: float) -> StoredRow | None:
        """The next row, or None when none came within ``timeout`` seconds."""
        try:
            item = self._rows.get(timeout=timeout)
        except queue.Empty:
            return None
        if item is _END:
            self._put_end()
            if self.error is not None:
                raise self.error
            raise StopIteration
        assert isinstance(item, StoredRow)
        return item

    def next_rows(self, limit: int, timeout: float) -> list[StoredRow]:
        """Up to ``limit`` rows: waits ``timeout`` for the first, takes what is ready."""
        first = self.next_row(timeout)
        if first is None:
            return []
        rows = [first]
        while len(rows) < limit:
            try:
                item = self._rows.get_nowait()
            except queue.Empty:
                break
            if item is _END:
                self._put_end()
                break
            assert isinstance(item, StoredRow)
            rows.append(item)
        return rows

    def __iter__(self) -> Iterator[StoredRow]:
        while True:
            try:
                row = self.next_row(timeout=3600)
            except StopIteration:
                return
            if row is not None:
                yield row

    def close(self) -> None:
        self._stopped.set()
        self._subscription.stop()
        try:
            self._subscription.__exit__(None, None, None)
        finally:
            self._thread.join(timeout=5)
            self._datastore.close()

    def __enter__(self) -> LiveFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
