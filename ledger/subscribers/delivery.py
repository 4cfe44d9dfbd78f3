"""The webhook delivery worker: each endpoint in order, at least once, independently.

Why it is built this way:

* **only to allowed addresses**: every connection re-checks the resolved
  address (``poster``/``addresses``), so DNS rebinding gets no request;
* **in order, per endpoint**: an endpoint is served by one task at a time,
  held by a session advisory lock on a dedicated connection (released by the
  server if the worker dies), one event per request, and the position moves
  only after a 2xx; a failure stops that endpoint's batch, so nothing later
  is sent before it;
* **at least once**: the position is moved after the receiver answered, so a
  crash between the two resends that event (receivers de-duplicate on the
  ``Ledger-Event-Id`` header, ``<ledger id>:<position>``, which the signature
  covers);
* **scoped endpoints get withheld stubs**: without a type filter, an event
  outside the endpoint's scope is sent as its withheld stub (position, time,
  hashes), so the receiver can check the chain and tell withheld from lost;
* **a slow endpoint holds up no other**: endpoints are served by a thread
  pool, each request has a timeout, and a task sends at most ``batch``
  events before giving the thread back;
* **retries**: exponential backoff with equal jitter (half the delay fixed,
  half random), capped; an endpoint failing for ``max_failure`` is disabled;
* **authorised while it runs**: an endpoint registered for an API key is
  re-checked (key live, grants still covering its scope) before each event;
  when access is gone it is paused (``disabled`` with the reason recorded);
* **prompt**: the worker wakes on the recorder's ``NOTIFY`` (``LISTEN``),
  with a short poll as a fallback and for retries coming due.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from uuid import UUID

import msgspec
import structlog
from psycopg import Connection

from ledger import __version__
from ledger.errors import LedgerError
from ledger.store.firm import FirmStore
from ledger.subscribers.feed import encode, ledger_id_of, opener_for, read_rows, to_feed_event
from ledger.subscribers.poster import Poster
from ledger.subscribers.scope import Owners, Scope
from ledger.subscribers.signing import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    event_id,
    signature_header,
)
from ledger.subscribers.webhooks import MAX_FAILURE, Endpoint, WebhookStore

log = structlog.get_logger("ledger.webhooks")
Authorizer = Callable[[UUID], Scope | None]
"""What an API key may see now (its role and grants), or None when it is revoked."""


def backoff(failures: int, base: float, cap: float) -> float:
    """Exponential backoff with equal jitter, in seconds."""
    delay: float = min(cap, base * 2 ** min(max(failures - 1, 0), 60))
    jitter: float = random.uniform(0, delay / 2)  # noqa: S311 - jitter, not crypto
    return delay / 2 + jitter


class DeliveryWorker:
    """Delivers every due endpoint's events; ``run`` loops, ``deliver_endpoint`` is one pass."""

    def __init__(self, store: FirmStore, *, threads: int = 8, batch: int = 100,
                 timeout: float = 10.0, backoff_base: float = 1.0,
                 backoff_cap: float = 3600.0, max_failure: timedelta = MAX_FAILURE,
                 poll: float = 0.5, authorize: Authorizer | None = None,
                 allow_private: bool | None = None) -> None:
        self.store, self.webhooks = store, WebhookStore(store)
        self.allow_private = allow_private  # None: LEDGER_WEBHOOKS_ALLOW_PRIVATE decides
        self.webhooks.ensure()
        self.batch, self.timeout, self.poll = batch, timeout, poll
        self.backoff_base, self.backoff_cap, self.max_failure = (
            backoff_base, backoff_cap, max_failure)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook")
        self._in_flight: dict[UUID, Future[int]] = {}
        self._owners = Owners(store.schema, store.events_table)
        self._opener = opener_for(store)
        self._ledger_id: str | None = None
        self._authorize = authorize

    def run(self, stop: threading.Event | None = None, timeout: float | None = None) -> None:
        """Serve endpoints until ``stop`` is set or ``timeout`` seconds pass."""
        deadline = None if timeout is None else time.monotonic() + timeout
        # The process's one LISTEN connection wakes this loop (see ``ledger.notify``).
        with self.store.location.listen(self.store.events_table) as notified:
            while not (stop is not None and stop.is_set()):
                if deadline is not None and time.monotonic() >= deadline:
                    break
                self.dispatch()
                notified.wait(self.poll)
                notified.clear()

    def dispatch(self) -> None:
        """Start a task for every due endpoint that has none running."""
        for endpoint_id, future in list(self._in_flight.items()):
            if future.done():
                del self._in_flight[endpoint_id]
                if future.exception() is not None:
                    log.error("webhook task failed", endpoint=str(endpoint_id),
                              error=type(future.exception()).__name__)
        with self.webhooks.connect() as conn:
            due = self.webhooks.due(conn)
        for endpoint_id in due:
            if endpoint_id not in self._in_flight:
                self._in_flight[endpoint_id] = self._pool.submit(
                    self.deliver_endpoint, endpoint_id)

    def drain(self, timeout: float) -> None:
        """Wait for the running tasks (bounded)."""
        deadline = time.monotonic() + timeout
        for future in list(self._in_flight.values()):
            future.result(timeout=max(0.0, deadline - time.monotonic()))

    def deliver_endpoint(self, endpoint_id: UUID) -> int:
        """Send up to ``batch`` events to one endpoint, in order; returns how many."""
        with self.store.location.connect() as conn:
            got = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))",
                               (f"legal-ledger webhook {endpoint_id}",)).fetchone()
            if not (got and got[0]):
                return 0
            try:
                return self._deliver(conn, endpoint_id)
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))",
                             (f"legal-ledger webhook {endpoint_id}",))

    def _deliver(self, conn: Connection[Any], endpoint_id: UUID) -> int:
        endpoint = self.webhooks.get(endpoint_id)
        if endpoint.status != "active":
            return 0
        try:
            poster = Poster(endpoint.url, self.timeout, allow_private=self.allow_private)
        except LedgerError as exc:  # stored before the URL rules: fails like a dead receiver
            self._failed(conn, endpoint, endpoint.position + 1, None, type(exc).__name__, 0)
            return 0
        with poster:
            return self._send(conn, endpoint, poster)

    def _scope(self, conn: Connection[Any], endpoint: Endpoint) -> Scope | None:
        """The scope to deliver in now; None (and the endpoint paused) when access is gone.

        An endpoint registered for an API key gets what that key may see: its
        role, within the reach it had at registration, as long as the key is
        live and its grants still cover that reach.
        """
        scope = endpoint.parsed_scope()
        if endpoint.key_id is None:
            return scope
        if self._authorize is None:
            log.warning("webhook needs its key checked; no authorizer", endpoint=str(endpoint.id))
            return None
        now = self._authorize(endpoint.key_id)
        reason = None
        if now is None:
            reason = "access revoked: the endpoint's API key is revoked"
        elif not now.covers(msgspec.structs.replace(scope, role=now.role)):
            reason = "access revoked: a grant of the endpoint's key was revoked or expired"
        if reason is not None:
            self.webhooks.pause(conn, endpoint.id, reason)
            log.info("webhook paused", endpoint=str(endpoint.id), reason=reason)
            return None
        assert now is not None
        return msgspec.structs.replace(scope, role=now.role)

    def _send(self, conn: Connection[Any], endpoint: Endpoint, poster: Poster) -> int:
        endpoint_id = endpoint.id
        secret, scope = self.webhooks.secret(conn, endpoint_id), self._scope(conn, endpoint)
        if scope is None:
            return 0
        if self._ledger_id is None:
            self._ledger_id = ledger_id_of(conn, self.store)
        position, sent = endpoint.position, 0
        skip_to = position  # events not for this endpoint are passed over, in order
        rows = read_rows(conn, self.store, position, self.batch)
        self._owners.resolve(conn, (r.originator_id for r in rows))
        for row in rows:
            event = to_feed_event(row, self._owners, scope, opener=self._opener)
            if endpoint.event_types and (event.withheld or row.topic not in endpoint.event_types):
                # A type filter leaves the others out altogether (as the pull feed does);
                # without one, an event outside the scope goes as its withheld stub, so
                # the receiver can check the chain and tell a withheld event from a lost one.
                skip_to = row.position
                continue
            if endpoint.key_id is not None and self._scope(conn, endpoint) is None:
                break  # re-checked before each event: access went while sending
            if skip_to != position:
                if not self.webhooks.advance(conn, endpoint_id, position, skip_to):
                    return sent
                position = skip_to
            body = encode(event)
            eid = event_id(self._ledger_id, row.position)
            headers = {"Content-Type": "application/json",
                       "User-Agent": f"legal-ledger-webhooks/{__version__}",
                       EVENT_ID_HEADER: eid,
                       "Ledger-Position": str(row.position),
                       SIGNATURE_HEADER: signature_header(secret, body, eid)}
            started = time.monotonic()
            status, error = poster.post(body, headers)
            elapsed = int((time.monotonic() - started) * 1000)
            if error is not None:
                self._failed(conn, endpoint, row.position, status, error, elapsed, position)
                return sent
            if not self.webhooks.delivered(conn, endpoint_id, position, row.position,
                                           status_code=status, duration_ms=elapsed):
                return sent  # replayed meanwhile: the next pass starts from there
            position = skip_to = row.position
            sent += 1
        if skip_to != position:
            self.webhooks.advance(conn, endpoint_id, position, skip_to)
        return sent

    def _failed(self, conn: Connection[Any], endpoint: Endpoint, at: int,  # noqa: PLR0917
                status: int | None, error: str, elapsed: int, old: int | None = None) -> None:
        """Note a failed attempt at position ``at``: back off, maybe disable."""
        self.webhooks.record(conn, endpoint.id, at, status_code=status, error=error,
                             duration_ms=elapsed, delivered=False)
        failures = self.webhooks.get(endpoint.id).consecutive_failures + 1
        retry = timedelta(seconds=backoff(failures, self.backoff_base, self.backoff_cap))
        self.webhooks.failed(conn, endpoint.id, endpoint.position if old is None else old,
                             retry, self.max_failure)
        log.info("webhook delivery failed", endpoint=str(endpoint.id), position=at,
                 status=status, error=error)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> DeliveryWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
