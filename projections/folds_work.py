"""Work in progress: every time and expense entry, and whether it is still unbilled.

Entries stay after billing (marked with the invoice that billed them) because
the LEDES export takes each line's narrative from here; the WIP report reads
the billable, unvoided, unbilled ones. A time entry's value is priced when a
report asks (matter rate on the work date, else the timekeeper's default in the
firm's currency, as drafting does), so a rate set later is reflected.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from projections import events as ev
from projections.model import ReadModel, table
from projections.rows import Rows

ENTRIES = table(
    "rm_entries", ("entry_id",), ("entry_id", "uuid"), ("matter_id", "uuid"),
    ("client_id", "uuid"), ("kind", "text"), ("timekeeper_id", "text"), ("work_on", "date"),
    ("raw_minutes", "integer"), ("minutes", "integer"), ("amount_minor", "bigint"),
    ("task_code", "text"), ("activity_code", "text"), ("expense_code", "text"),
    ("billable", "boolean"), ("voided", "boolean"), ("billed_invoice_id", "uuid"),
    ("narrative", "text"), ("logged_position", "bigint"),
    final=lambda r: r["voided"] or r["billed_invoice_id"] is not None,
    indexes=("client_id",))
WIP_MATTERS = table(
    "rm_wip_matters", ("matter_id",), ("matter_id", "uuid"), ("client_id", "uuid"),
    ("currency", "text"))


def opened(rows: Rows, pos: int, oid: UUID, e: ev.MatterOpened) -> None:
    rows.put("rm_wip_matters", {"matter_id": oid, "client_id": e.client_id,
                                "currency": e.currency})


def _client(rows: Rows, matter_id: UUID) -> UUID | None:
    matter = rows.get("rm_wip_matters", matter_id)
    return matter["client_id"] if matter else None


def time_logged(rows: Rows, pos: int, oid: UUID, e: ev.TimeLogged) -> None:
    rows.put("rm_entries", {
        "entry_id": e.entry_id, "matter_id": oid, "client_id": _client(rows, oid),
        "kind": "time", "timekeeper_id": e.timekeeper_id, "work_on": e.effective_on,
        "raw_minutes": e.raw_minutes, "minutes": e.minutes, "amount_minor": None,
        "task_code": e.task_code, "activity_code": e.activity_code, "expense_code": None,
        "billable": e.billable, "voided": False, "billed_invoice_id": None,
        "narrative": e.confidential.get("narrative", ""), "logged_position": pos})


def corrected(rows: Rows, pos: int, oid: UUID, e: ev.TimeEntryCorrected) -> None:
    rows.update("rm_entries", e.entry_id, timekeeper_id=e.timekeeper_id, work_on=e.work_on,
                raw_minutes=e.raw_minutes, minutes=e.minutes, task_code=e.task_code,
                activity_code=e.activity_code, billable=e.billable,
                narrative=e.confidential.get("narrative", ""))


def entry_voided(rows: Rows, pos: int, oid: UUID, e: ev.EntryVoided) -> None:
    rows.update("rm_entries", e.entry_id, voided=True)


def expense(rows: Rows, pos: int, oid: UUID, e: ev.ExpenseLogged) -> None:
    matter = rows.get("rm_wip_matters", oid)
    rows.put("rm_entries", {
        "entry_id": e.entry_id, "matter_id": oid,
        "client_id": matter["client_id"] if matter else None, "kind": "expense",
        "timekeeper_id": None, "work_on": e.effective_on, "raw_minutes": None,
        "minutes": None, "amount_minor": e.amount_minor, "task_code": None,
        "activity_code": None, "expense_code": e.expense_code, "billable": e.billable,
        "voided": False, "billed_invoice_id": None,
        "narrative": e.confidential.get("description", ""), "logged_position": pos})


def _entry_ids(source_ids: tuple[str, ...]) -> list[UUID]:
    """The sources that are entries (a flat-fee instalment's id is not a UUID)."""
    try:  # all of them, parsed at once in C (the usual case)
        return list(msgspec.convert(source_ids, tuple[UUID, ...]))
    except msgspec.ValidationError:
        pass
    found = []
    for source in source_ids:
        try:
            found.append(UUID(source))
        except ValueError:
            continue
    return found


def billed(rows: Rows, pos: int, oid: UUID, e: ev.EntriesBilled) -> None:
    for entry_id in _entry_ids(e.source_ids):
        rows.update("rm_entries", entry_id, billed_invoice_id=e.invoice_id)


WIP = ReadModel(
    "wip", (ENTRIES, WIP_MATTERS),
    {ev.MatterOpened: opened, ev.TimeLogged: time_logged, ev.TimeEntryCorrected: corrected,
     ev.EntryVoided: entry_voided, ev.ExpenseLogged: expense, ev.EntriesBilled: billed},
    weight=4,
)
