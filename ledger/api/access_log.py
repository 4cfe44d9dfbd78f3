"""``RecordAccessed``: every read of client billing data, on the firm's access chain.

Why a second chain: access records outnumber billing events by far, and a
read must never wait for the billing table's exclusive lock. They go to
``access_events``, a chain of its own in the firm's schema (same hashing, same
append-only guards, verified the same way), through an in-process queue that a
background thread drains in batches, one transaction per batch. The request
only enqueues (microseconds); ``close`` drains the queue completely, so a clean
shutdown loses none. A failed batch is retried with back-off, never dropped
while the process lives.

Each record is its own small aggregate (version 1 of a fresh id), so writers
never conflict on versions; it names ids only (principal, client, matter,
invoice, what was read, request id), never a confidential value.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import structlog
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from commands.ledger_app import ledger_env
from ledger.domain.events import LedgerCreated
from ledger.store.firm import FirmStore

ACCESS_TABLE = "access_events"
log = structlog.get_logger("ledger.api.access")


class RecordAccessed(LedgerCreated):
    """A principal read client billing data (``actor`` is the principal)."""

    role: str
    client_id: UUID | None
    matter_id: UUID | None
    invoice_id: UUID | None
    what: str
    request_id: str
    accessed_at: datetime


class AccessRecord(Aggregate):
    def __init__(self) -> None:
        self.what = ""

    def when(self, event: Any) -> None:
        if isinstance(event, RecordAccessed):
            self.what = event.what


class AccessLedger(Application[UUID]):
    name = "AccessLedger"


@dataclass(frozen=True)
class Access:
    """One read, as the request saw it (the time is the request's)."""

    principal_id: str
    role: str
    what: str
    request_id: str
    client_id: UUID | None = None
    matter_id: UUID | None = None
    invoice_id: UUID | None = None
    accessed_at: datetime | None = None

    def aggregate(self) -> AccessRecord:
        at = self.accessed_at or datetime.now(UTC)
        return AccessRecord._create(
            RecordAccessed, id=uuid4(), actor=self.principal_id, effective_on=at.date(),
            role=self.role, client_id=self.client_id, matter_id=self.matter_id,
            invoice_id=self.invoice_id, what=self.what, request_id=self.request_id,
            accessed_at=at)


def access_store(store: FirmStore) -> FirmStore:
    return replace(store, events_table=ACCESS_TABLE, pool_size=2)


class AccessLog:
    """Queue of reads, written in batches by one background thread."""

    def __init__(self, store: FirmStore, *, batch_size: int = 500,
                 linger_seconds: float = 0.05) -> None:
        self.store = access_store(store)
        self.store.ensure()
        self.app = AccessLedger(env=ledger_env(self.store))
        self.batch_size, self.linger = batch_size, linger_seconds
        self.written = 0
        self._queue: queue.Queue[Access] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    def record(self, access: Access) -> None:
        stamped = access if access.accessed_at else replace(access,
                                                              accessed_at=datetime.now(UTC))
        self._queue.put(stamped)

    @property
    def pending(self) -> int:
        return self._queue.unfinished_tasks

    def flush(self) -> None:
        """Block until everything recorded so far is committed."""
        self._queue.join()

    def close(self) -> None:
        """Drain the queue completely, then stop the writer."""
        self._stop.set()
        self._thread.join()
        self.app.close()

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch:
                self._write(batch)
            elif self._stop.is_set() and self._queue.empty():
                return

    def _take(self) -> list[Access]:
        try:
            batch = [self._queue.get(timeout=self.linger)]
        except queue.Empty:
            return []
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[Access]) -> None:
        delay = 0.05
        while True:
            try:
                self.app.save(*(a.aggregate() for a in batch))
            except Exception as exc:  # the database may be briefly away: keep the batch
                log.warning("access batch not written yet", error=type(exc).__name__,
                            size=len(batch))
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            self.written += len(batch)
            for _ in batch:
                self._queue.task_done()
            return


class NoAccessLog:
    """Stand-in when access logging is switched off (only for measurements)."""

    written = 0
    pending = 0

    def record(self, access: Access) -> None:
        return None

    def flush(self) -> None:
        return None

    def close(self) -> None:
        return None
