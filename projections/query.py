"""Open the books live or as of a moment, and answer each report with its provenance.

Live: the models are first caught up to the head (so a report never reads a
stale table), then read from their tables. As of T: the events up to T's
position are replayed in memory (see ``projections.asof``); live tables are
only read, never written. Every answer carries ``as_of`` (None when live) and
the ``position`` it reflects.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from psycopg.sql import SQL, Identifier

from ledger.store.firm import FirmStore
from ledger.verify import verify_chain
from projections import reports, reports_audit
from projections.asof import position_at, recorded_at, replay
from projections.catalog import MODELS
from projections.ledes import (
    LedesExportError,
    LedesFile,
    export,
    export_many,
    issued_in_period,
)
from projections.model import ReadModel
from projections.rows import Reader, TableReader
from projections.tracking import catch_up


@dataclass(frozen=True)
class Books:
    reader: Reader
    position: int
    as_of: datetime | None

    def meta(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat() if self.as_of else None,
                "position": self.position}


@contextmanager
def open_books(store: FirmStore, names: list[str], as_of: datetime | None = None,
               client_id: UUID | None = None) -> Iterator[Books]:
    models: list[ReadModel] = [MODELS[n] for n in names]
    with store.location.connect() as conn:
        if as_of is None:
            position = catch_up(store, models)
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield Books(TableReader(conn, store.schema), position, None)
            conn.execute("COMMIT")
            return
        conn.execute("SET jit = off")  # a few index lookups: compiling costs more than it saves
        position = position_at(conn, store, as_of)
        yield Books(replay(conn, store, models, position, client_id), position, as_of)


def _today(as_of: datetime | None) -> date:
    return (as_of or datetime.now(UTC)).astimezone(UTC).date()


def invoices_report(store: FirmStore, as_of: datetime | None = None, on: date | None = None,
                    client_id: UUID | None = None) -> dict[str, Any]:
    with open_books(store, ["directory", "balances"], as_of, client_id) as books:
        day = on or _today(as_of)
        return {**books.meta(), "on": str(day),
                "invoices": reports.invoice_balances(books.reader, day, client_id)}


def statement_report(store: FirmStore, client_id: UUID, start: date, end: date,
                     as_of: datetime | None = None) -> dict[str, Any]:
    with open_books(store, ["directory", "statements"], as_of, client_id) as books:
        return {**books.meta(), **reports.statement(books.reader, client_id, start, end)}


def aging_report(store: FirmStore, as_of: datetime | None = None,
                 on: date | None = None) -> dict[str, Any]:
    with open_books(store, ["directory", "statements"], as_of) as books:
        return {**books.meta(), **reports.ar_aging(books.reader, on or _today(as_of))}


def wip_report(store: FirmStore, as_of: datetime | None = None,
               client_id: UUID | None = None) -> dict[str, Any]:
    with open_books(store, ["directory", "wip"], as_of, client_id) as books:
        return {**books.meta(), **reports.wip(books.reader, client_id)}


def writeoffs_report(store: FirmStore, as_of: datetime | None = None,
                     start: date | None = None, end: date | None = None) -> dict[str, Any]:
    with open_books(store, ["directory", "audit"], as_of) as books:
        return {**books.meta(), **reports_audit.writeoffs(books.reader, start, end)}


def access_report(store: FirmStore, as_of: datetime | None = None, on: date | None = None,
                  client_id: UUID | None = None) -> dict[str, Any]:
    with open_books(store, ["directory", "audit"], as_of) as books:
        return {**books.meta(),
                **reports_audit.access(books.reader, on or _today(as_of), client_id)}


def verification_report(store: FirmStore, as_of: datetime | None = None) -> dict[str, Any]:
    """The chain verified from genesis, the head as of the moment, the last checkpoint."""
    result = verify_chain(store.location, store.schema, store.events_table)
    s, t = Identifier(store.schema), Identifier(store.events_table)
    with store.location.connect() as conn:
        position = position_at(conn, store, as_of) if as_of else result.head_position
        row = conn.execute(SQL("SELECT hash FROM {s}.{t} WHERE notification_id = %s").format(
            s=s, t=t), (position,)).fetchone()
        at = recorded_at(conn, store, position)
        checkpoint = _last_checkpoint(conn, store, position)
    return {"as_of": as_of.isoformat() if as_of else None, "position": position,
            "ok": result.ok, "events_checked": result.checked,
            "damage": None if result.damage is None else vars(result.damage),
            "head_position": position, "head_hash": bytes(row[0]).hex() if row else None,
            "head_recorded_at": at.isoformat() if at else None,
            "last_checkpoint": checkpoint}


def _last_checkpoint(conn: Any, store: FirmStore, position: int) -> dict[str, Any] | None:
    found = conn.execute("SELECT to_regclass(%s)", (f'"{store.schema}".checkpoints',)).fetchone()
    if not found or found[0] is None:
        return None
    row = conn.execute(SQL(
        "SELECT position, head_hash, merkle_root, created_at FROM {s}.checkpoints "
        "WHERE position <= %s ORDER BY position DESC, id DESC LIMIT 1").format(
        s=Identifier(store.schema)), (position,)).fetchone()
    if row is None:
        return None
    return {"position": row[0], "head_hash": bytes(row[1]).hex(),
            "merkle_root": bytes(row[2]).hex(), "created_at": row[3].isoformat()}


def ledes_export(store: FirmStore, invoice_id: UUID, law_firm_id: str,
                 as_of: datetime | None = None) -> str:
    """The issued invoice as a LEDES 1998B file (see ``projections.ledes``)."""
    return ledes_file(store, invoice_id, law_firm_id, as_of).text


def ledes_file(store: FirmStore, invoice_id: UUID, law_firm_id: str,
               as_of: datetime | None = None, *, truncate: bool = False) -> LedesFile:
    """The LEDES 1998B file and what was cut to fit (only with ``truncate``)."""
    with open_books(store, ["directory", "balances", "wip"], as_of) as books:
        return export(books.reader, invoice_id, law_firm_id, truncate=truncate)


def ledes_client_file(store: FirmStore, client_id: UUID, period: tuple[date, date],
                      law_firm_id: str, as_of: datetime | None = None, *,
                      truncate: bool = False) -> LedesFile:
    """One LEDES 1998B file of a client's invoices issued in ``period`` (issue dates)."""
    with open_books(store, ["directory", "balances", "wip"], as_of) as books:
        invoices = issued_in_period(books.reader, client_id, *period)
        if not invoices:
            raise LedesExportError("the client has no issued invoice in the period",
                                   field="client")
        return export_many(books.reader, invoices, law_firm_id, truncate=truncate)
