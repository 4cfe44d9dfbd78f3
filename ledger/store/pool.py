"""The process's connection budget: one bounded pool, shared by everything in it.

Why one pool: each application, read model, key store and access log used to
open its own pool or plain connections, so one ``ledger serve`` could hold
dozens of PostgreSQL connections and two processes could exhaust a server.
Here the process has one :class:`ConnectionBudget`. Its pool serves

* the eventsourcing library's recorders: every application and tracking
  recorder of one firm schema records through the same
  :class:`BudgetedDatastore` (the library's ``PostgresDatastore`` whose pool is
  this one), so nothing of the library is re-implemented;
* the ledger's own SQL (``DatabaseLocation.connect()``), which borrows a
  connection and gives it back when its ``with`` block ends.

Outside the pool, LISTEN holds one dedicated connection (the notification hub
in ``ledger.notify``), and a long COPY may open one more. Every
connection carries ``application_name`` (``legal-ledger/serve`` ...) so a DBA
sees in ``pg_stat_activity`` which process holds what.

When every connection stays busy for ``wait`` seconds the borrower gets a
:class:`~ledger.errors.DatabaseBusyError` (HTTP 503, command line exit 2)
instead of queueing for the library's default 30 s.
"""

from __future__ import annotations

import contextlib
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from types import TracebackType
from typing import Any

import psycopg
import psycopg_pool
from eventsourcing.postgres import ConnectionPool, PostgresDatastore
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row, tuple_row

from ledger.database import DatabaseLocation
from ledger.errors import DatabaseBusyError, DatabaseUnavailableError

DEFAULT_POOL_SIZE = 10
DEFAULT_POOL_WAIT_SECONDS = 3.0
CONNECT_TIMEOUT_SECONDS = 5
APPLICATION_PREFIX = "legal-ledger/"
POOL_KEY = "LEDGER_POOL_KEY"
"""Environment key naming the process's budget to ``LedgerFactory`` and the sealer."""

_BUDGETS: weakref.WeakValueDictionary[str, ConnectionBudget] = weakref.WeakValueDictionary()


def application_name(role: str) -> str:
    """The ``application_name`` of a process role (``serve`` -> ``legal-ledger/serve``)."""
    return role if role.startswith(APPLICATION_PREFIX) else APPLICATION_PREFIX + role


class PooledConnection(psycopg.Connection[Any]):
    """A pool connection that goes back to the pool when a ``with`` block lent it.

    psycopg's own ``with conn:`` never closes a pooled connection; the
    library's ``pool.connection()`` returns it itself. A connection lent by
    :meth:`ConnectionBudget.lend` is marked, so its ``with`` block (or
    ``close()``) returns it; the library's path is left as it is.
    """

    lent: bool = False
    lent_to: int = 0
    """The thread it was lent to (``threading.get_ident``)."""
    on_release: Callable[[PooledConnection], None] | None = None

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc_val: BaseException | None, exc_tb: TracebackType | None) -> None:
        try:
            super().__exit__(exc_type, exc_val, exc_tb)
        finally:
            if self.lent:
                self.close()

    def close(self) -> None:
        """Back to the pool when lent (the pool has ``close_returns``), else closed."""
        if self.lent:
            self.lent = False
            if self.on_release is not None:
                self.on_release(self)
            pool = getattr(self, "_pool", None)
            if pool is not None:
                pool.putconn(self)
                return
        super().close()


class BudgetPool(ConnectionPool[PooledConnection]):
    """The library's pool, with a spent budget reported as one clear error."""

    def getconn(self, timeout: float | None = None) -> PooledConnection:
        try:
            return super().getconn(timeout=timeout)
        except psycopg_pool.PoolTimeout:
            stats = self.get_stats()
            if stats.get("pool_size", 0) < (self.max_size or 0):
                # Not every slot is taken: the server did not accept a new connection.
                raise DatabaseUnavailableError(
                    "cannot open a PostgreSQL connection: the server did not answer "
                    "within the pool's wait") from None
            raise DatabaseBusyError(
                f"every database connection of this process (pool of {self.max_size}) "
                f"stayed busy for {self.timeout:g} s; retry shortly") from None


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.autocommit = True


def _reset(conn: psycopg.Connection[Any]) -> None:
    # What a borrower may have changed on the connection, reset for the next borrower.
    conn.autocommit = True
    conn.row_factory = dict_row  # type: ignore[assignment]
    if isinstance(conn, PooledConnection):
        conn.lent, conn.lent_to = False, 0


class BudgetedDatastore(PostgresDatastore):
    """The library's datastore for one firm schema, recording through the shared pool.

    ``close()`` is a no-op: applications close their factory (and so this
    datastore) when they close, but the pool belongs to the budget, which
    closes it once, at the end of the process.
    """

    def __init__(self, budget: ConnectionBudget, schema: str) -> None:
        params = budget.params
        super().__init__(
            dbname=str(params.get("dbname") or "postgres"),
            host=str(params.get("host") or "127.0.0.1"),
            port=str(params.get("port") or "5432"),
            user=str(params.get("user") or "postgres"),
            password=str(params.get("password") or ""),
            schema=schema, pool_size=1, max_overflow=0,
        )
        self.pool.close()  # the unopened pool of the library's constructor: never used
        self.pool = budget.pool  # type: ignore[assignment]
        self.budget = budget

    def close(self) -> None:
        """Leave the shared pool open (see the class docstring)."""

    def __del__(self) -> None:
        """Never close the shared pool from a collected datastore."""


class ConnectionBudget:
    """One process's pool, datastores, LISTEN hub and dedicated connections."""

    def __init__(self, url: str, *, role: str, size: int = DEFAULT_POOL_SIZE,
                 wait: float = DEFAULT_POOL_WAIT_SECONDS) -> None:
        if size < 1:
            raise ValueError("the pool needs at least one connection")
        self.url, self.size, self.wait = url, size, wait
        self.application_name = application_name(role)
        self.key = f"{self.application_name}#{uuid.uuid4().hex[:12]}"
        self.pool = BudgetPool(
            url, connection_class=PooledConnection,
            kwargs={"row_factory": dict_row, "application_name": self.application_name,
                    "connect_timeout": CONNECT_TIMEOUT_SECONDS},
            min_size=1, max_size=size, open=False, configure=_configure, reset=_reset,
            close_returns=True, timeout=wait, name=self.key)
        self._lock = threading.Lock()
        self._datastores: dict[str, BudgetedDatastore] = {}
        self._hub: Any = None
        self._local = threading.local()
        self.closed = False
        _BUDGETS[self.key] = self

    @property
    def params(self) -> dict[str, Any]:
        return dict(psycopg.conninfo.conninfo_to_dict(self.url))

    def _open(self) -> None:
        if self.closed:
            raise DatabaseUnavailableError("the process's database pool is closed")
        self.pool.open(wait=False)

    def lend(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        """A pool connection with tuple rows, returned when its ``with`` block ends."""
        self._open()
        conn = self.pool.getconn()
        try:
            conn.row_factory = tuple_row  # type: ignore[assignment]
            conn.autocommit = autocommit
        except BaseException:
            self.pool.putconn(conn)
            raise
        conn.lent, conn.lent_to = True, threading.get_ident()
        conn.on_release = self._released
        self._lent_here().append(conn)
        return conn

    def _lent_here(self) -> list[PooledConnection]:
        found: list[PooledConnection] | None = getattr(self._local, "lent", None)
        if found is None:
            found = self._local.lent = []
        return found

    def _released(self, conn: PooledConnection) -> None:
        lent = self._lent_here()
        if conn in lent:
            lent.remove(conn)

    @contextlib.contextmanager
    def shared(self) -> Iterator[psycopg.Connection[Any]]:
        """For short reads nested in other work: the connection this thread already
        borrowed when it is idle outside a transaction, else a newly lent one.

        Why: a thread holding one connection and waiting for a second can
        deadlock the pool (every connection held by a waiter), e.g. a feed page
        whose decryption looks up client keys.
        """
        me = threading.get_ident()
        lent = self._lent_here()
        # Returned from another thread: no longer this thread's to share.
        lent[:] = [c for c in lent if c.lent and c.lent_to == me]
        for conn in reversed(lent):
            if (not conn.closed and conn.autocommit
                    and conn.info.transaction_status == TransactionStatus.IDLE):
                yield conn
                return
        with self.lend() as fresh:
            yield fresh

    def datastore(self, schema: str) -> BudgetedDatastore:
        """The one library datastore of ``schema`` in this process."""
        with self._lock:
            found = self._datastores.get(schema)
            if found is None:
                self._open()
                found = self._datastores[schema] = BudgetedDatastore(self, schema)
            return found

    @property
    def hub(self) -> Any:
        """The process's one LISTEN connection, started on first use."""
        from ledger.notify import NotificationHub

        with self._lock:
            if self._hub is None:
                self._hub = NotificationHub(lambda: self.dedicated("listen"))
            hub: NotificationHub = self._hub
            return hub

    def dedicated(self, purpose: str) -> psycopg.Connection[Any]:
        """A plain connection outside the pool, for LISTEN or a long COPY only."""
        try:
            return psycopg.connect(self.url, autocommit=True,
                                   connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                   application_name=f"{self.application_name}-{purpose}")
        except psycopg.OperationalError:
            raise DatabaseUnavailableError(
                "cannot open a PostgreSQL connection for " + purpose) from None

    def stats(self) -> Mapping[str, int]:
        """The pool's counters (psycopg_pool's ``get_stats``), for logs and tests."""
        return self.pool.get_stats()

    def close(self) -> None:
        """Stop the hub and close every connection (idempotent)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            hub, self._hub = self._hub, None
        if hub is not None:
            hub.close()
        self.pool.close()
        _BUDGETS.pop(self.key, None)

    def __enter__(self) -> ConnectionBudget:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def budget_named(key: str | None) -> ConnectionBudget | None:
    """The live budget an environment names (``LEDGER_POOL_KEY``), if any."""
    if not key:
        return None
    found = _BUDGETS.get(key)
    return found if found is not None and not found.closed else None


def budgeted(location: DatabaseLocation, *, role: str, size: int,
             wait: float) -> DatabaseLocation:
    """``location`` with a new connection budget of ``size`` connections tagged
    ``legal-ledger/<role>``; for composition roots (``ledger.bootstrap`` and a
    rebuild's worker process)."""
    return replace(location, budget=ConnectionBudget(location.url, role=role, size=size,
                                                     wait=wait))
