"""One LISTEN connection per process, fanned out to every waiter in it.

Why: the library's ``PostgresSubscription`` holds a pool connection for each
subscription's whole life, so every open SSE stream, consumer or webhook
worker took a connection away from the pool. Notifications carry no data the
ledger needs (a waiter only learns "something committed, pull again"), so one
connection can LISTEN for the whole process and wake every waiter of the
channel. Waiters then read through the pool, briefly.

A waiter is woken once more right after its channel's LISTEN takes effect,
so a commit between a subscriber's first pull and the LISTEN is never missed.
If the connection breaks, every waiter is woken (they pull, finding what
they missed) and the hub reconnects.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import ListenNotifySubscription
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

log = logging.getLogger("ledger.notify")
TICK_SECONDS = 0.1
RECONNECT_SECONDS = 1.0


class NotificationHub:
    """Channel -> waiters (``threading.Event``), fed by one dedicated connection."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]]) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._waiters: dict[str, set[threading.Event]] = {}
        self._listening: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, channel: str, waiter: threading.Event) -> None:
        with self._lock:
            self._waiters.setdefault(channel, set()).add(waiter)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ledger-listen",
                                                 daemon=True)
                self._thread.start()

    def remove(self, channel: str, waiter: threading.Event) -> None:
        with self._lock:
            self._waiters.get(channel, set()).discard(waiter)

    @contextlib.contextmanager
    def waiter(self, channel: str) -> Iterator[threading.Event]:
        """An event set on every NOTIFY of ``channel`` while the block runs."""
        event = threading.Event()
        self.add(channel, event)
        try:
            yield event
        finally:
            self.remove(channel, event)

    def _wake(self, channel: str | None) -> None:
        with self._lock:
            groups = [self._waiters.get(channel, set())] if channel is not None else list(
                self._waiters.values())
            events = [e for group in groups for e in group]
        for event in events:
            event.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as conn:
                    self._serve(conn)
            except Exception as exc:  # the server went away: wake all, then reconnect
                log.warning("LISTEN connection lost: %s", type(exc).__name__)
            with self._lock:
                self._listening.clear()
            self._wake(None)
            self._stop.wait(RECONNECT_SECONDS)

    def _serve(self, conn: psycopg.Connection[Any]) -> None:
        while not self._stop.is_set():
            with self._lock:
                new = [c for c in self._waiters if c not in self._listening]
            for channel in new:
                conn.execute(SQL("LISTEN {c}").format(c=Identifier(channel)))
                with self._lock:
                    self._listening.add(channel)
                self._wake(channel)  # see the module docstring
            for notify in conn.notifies(timeout=TICK_SECONDS):
                self._wake(notify.channel)

    def close(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)


class HubSubscription(ListenNotifySubscription[PostgresApplicationRecorder]):
    """The library's LISTEN/NOTIFY subscription, woken by the process's hub.

    The library's ``PostgresSubscription`` differs only in holding its own
    connection for LISTEN; pulls still go through ``select_notifications``.
    """

    def __init__(self, recorder: PostgresApplicationRecorder, hub: NotificationHub,
                 gt: int | None = None, topics: Sequence[str] = ()) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._hub, self._channel = hub, recorder.channel_name
        hub.add(self._channel, self._has_been_notified)

    def stop(self) -> None:
        self._hub.remove(self._channel, self._has_been_notified)
        super().stop()
