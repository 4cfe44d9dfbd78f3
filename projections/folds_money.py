"""Invoice balances and the client statement ledger.

``balances`` keeps one row per invoice (issued, paid, credited, written off,
open) and its lines. ``statements`` keeps one row per money fact, dated by its
business date, with two signed amounts:

* ``amount_minor``: the effect on what the client owes (invoice +, payment,
  credit note, write-off and void −; an allocation 0);
* ``applied_minor``: the effect on that invoice's open balance (invoice +,
  allocation, credit note, write-off and void −; a payment received 0).

A statement's running balance sums the first; aging sums the second per
invoice up to a date, so both are answered for any business date from the
same rows.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ledger.domain.invoice import open_balance
from projections import events as ev
from projections.model import ReadModel, table
from projections.rows import Row, Rows

INVOICES = table(
    "rm_invoices", ("invoice_id",), ("invoice_id", "uuid"), ("number", "text"),
    ("client_id", "uuid"), ("matter_id", "uuid"), ("status", "text"), ("currency", "text"),
    ("drafted_on", "date"), ("period_start", "date"), ("period_end", "date"),
    ("issued_on", "date"), ("due_on", "date"), ("voided_on", "date"),
    ("total_minor", "bigint"), ("paid_minor", "bigint"), ("credited_minor", "bigint"),
    ("written_off_minor", "bigint"), ("open_minor", "bigint"), indexes=("client_id",))
LINES = table(
    "rm_invoice_lines", ("invoice_id", "line_no"), ("invoice_id", "uuid"),
    ("line_no", "integer"), ("kind", "text"), ("source_id", "text"), ("work_on", "date"),
    ("timekeeper_id", "text"), ("minutes", "integer"), ("rate_minor_per_hour", "bigint"),
    ("amount_minor", "bigint"), ("written_down_minor", "bigint"), ("task_code", "text"),
    ("activity_code", "text"), ("expense_code", "text"))


def _open(row: Row) -> int:
    return open_balance(row["status"], int(row["total_minor"]), int(row["paid_minor"]),
                        int(row["credited_minor"]), int(row["written_off_minor"]))


def _save_invoice(rows: Rows, row: Row) -> None:
    rows.put("rm_invoices", {**row, "open_minor": _open(row)})


def _put_lines(rows: Rows, oid: UUID, lines: tuple[Any, ...]) -> int:
    for li in lines:
        rows.put("rm_invoice_lines", {
            "invoice_id": oid, "line_no": li.line_no, "kind": li.kind,
            "source_id": li.source_id, "work_on": li.work_on,
            "timekeeper_id": li.timekeeper_id, "minutes": li.minutes,
            "rate_minor_per_hour": li.rate_minor_per_hour, "amount_minor": li.amount_minor,
            "written_down_minor": li.written_down_minor, "task_code": li.task_code,
            "activity_code": li.activity_code, "expense_code": li.expense_code})
    return sum(li.amount_minor - li.written_down_minor for li in lines)


def drafted(rows: Rows, pos: int, oid: UUID, e: ev.InvoiceDrafted) -> None:
    total = _put_lines(rows, oid, e.lines)
    _save_invoice(rows, {
        "invoice_id": oid, "number": None, "client_id": e.client_id, "matter_id": e.matter_id,
        "status": "draft", "currency": e.currency, "drafted_on": e.effective_on,
        "period_start": e.period_start, "period_end": e.period_end, "issued_on": None,
        "due_on": None, "voided_on": None, "total_minor": total, "paid_minor": 0,
        "credited_minor": 0, "written_off_minor": 0})


def written_down(rows: Rows, pos: int, oid: UUID, e: ev.WrittenDown) -> None:
    line = rows.get("rm_invoice_lines", oid, e.line_no)
    invoice = rows.get("rm_invoices", oid)
    if line is None or invoice is None:
        return
    rows.put("rm_invoice_lines", {
        **line, "written_down_minor": line["written_down_minor"] + e.amount_minor})
    _save_invoice(rows, {**invoice, "total_minor": invoice["total_minor"] - e.amount_minor})


def issued(rows: Rows, pos: int, oid: UUID, e: ev.InvoiceIssued) -> None:
    invoice = rows.get("rm_invoices", oid)
    if invoice is None:
        return
    # The issued lines are the draft's lines with their write-downs, which the rows
    # already hold; rewrite them only if they differ (they never do in this domain).
    if invoice["total_minor"] != e.total_minor:
        _put_lines(rows, oid, e.lines)
    _save_invoice(rows, {**invoice, "status": "issued", "number": e.number,
                         "issued_on": e.effective_on, "due_on": e.due_on,
                         "total_minor": e.total_minor})


def voided(rows: Rows, pos: int, oid: UUID, e: ev.InvoiceVoided) -> None:
    invoice = rows.get("rm_invoices", oid)
    if invoice is not None:
        _save_invoice(rows, {**invoice, "status": "voided", "voided_on": e.effective_on})


def _settled(column: str) -> Any:
    def fold(rows: Rows, pos: int, oid: UUID, e: Any) -> None:
        invoice = rows.get("rm_invoices", oid)
        if invoice is not None:
            _save_invoice(rows, {**invoice, column: invoice[column] + e.amount_minor})

    return fold


BALANCES = ReadModel(
    "balances", (INVOICES, LINES),
    {ev.InvoiceDrafted: drafted, ev.WrittenDown: written_down, ev.InvoiceIssued: issued,
     ev.InvoiceVoided: voided, ev.PaymentApplied: _settled("paid_minor"),
     ev.WrittenOff: _settled("written_off_minor"),
     ev.CreditNoteIssued: _settled("credited_minor")},
    weight=3,
)

# -- the statement ledger ---------------------------------------------------------------

STATEMENT_LINES = table(
    "rm_statement_lines", ("position",), ("position", "bigint"), ("client_id", "uuid"),
    ("on_date", "date"), ("kind", "text"), ("invoice_id", "uuid"), ("number", "text"),
    ("matter_id", "uuid"), ("due_on", "date"), ("reference", "text"),
    ("amount_minor", "bigint"), ("applied_minor", "bigint"), ("currency", "text"),
    final=lambda _: True, indexes=("client_id",))
STATEMENT_INVOICES = table(
    "rm_statement_invoices", ("invoice_id",), ("invoice_id", "uuid"), ("client_id", "uuid"),
    ("matter_id", "uuid"), ("currency", "text"), ("number", "text"), ("due_on", "date"),
    ("total_minor", "bigint"), ("status", "text"),
    final=lambda r: r["status"] == "voided")


def _line(rows: Rows, pos: int, inv: Row | None, e: Any, kind: str, *, amount: int,
          applied: int, reference: str = "") -> None:
    rows.put("rm_statement_lines", {
        "position": pos, "client_id": inv["client_id"] if inv else None,
        "on_date": e.effective_on, "kind": kind,
        "invoice_id": inv["invoice_id"] if inv else None,
        "number": inv["number"] if inv else None,
        "matter_id": inv["matter_id"] if inv else None,
        "due_on": inv["due_on"] if inv else None, "reference": reference,
        "amount_minor": amount, "applied_minor": applied,
        "currency": inv["currency"] if inv else None})


def st_drafted(rows: Rows, pos: int, oid: UUID, e: ev.InvoiceDrafted) -> None:
    rows.put("rm_statement_invoices", {
        "invoice_id": oid, "client_id": e.client_id, "matter_id": e.matter_id,
        "currency": e.currency, "number": None, "due_on": None, "total_minor": 0,
        "status": "draft"})


def st_issued(rows: Rows, pos: int, oid: UUID, e: ev.InvoiceIssued) -> None:
    inv = rows.update("rm_statement_invoices", oid, number=e.number, due_on=e.due_on,
                      total_minor=e.total_minor, status="issued")
    if inv is not None:
        _line(rows, pos, inv, e, "invoice", amount=e.total_minor, applied=e.total_minor,
              reference=e.number)


def st_voided(rows: Rows, pos: int, oid: UUID, e: ev.InvoiceVoided) -> None:
    inv = rows.get("rm_statement_invoices", oid)
    if inv is not None and inv["status"] == "issued":
        total = inv["total_minor"]
        _line(rows, pos, inv, e, "void", amount=-total, applied=-total, reference=e.reason)
    rows.update("rm_statement_invoices", oid, status="voided")


def _settlement(kind: str, on_balance: bool) -> Any:
    def fold(rows: Rows, pos: int, oid: UUID, e: Any) -> None:
        inv = rows.get("rm_statement_invoices", oid)
        if inv is not None:
            amount = -e.amount_minor
            _line(rows, pos, inv, e, kind, amount=amount if on_balance else 0, applied=amount,
                  reference=getattr(e, "reason", ""))

    return fold


def st_payment(rows: Rows, pos: int, oid: UUID, e: ev.PaymentReceived) -> None:
    rows.put("rm_statement_lines", {
        "position": pos, "client_id": e.client_id, "on_date": e.effective_on,
        "kind": "payment", "invoice_id": None, "number": None, "matter_id": None,
        "due_on": None, "reference": f"{e.method} {e.reference}".strip(),
        "amount_minor": -e.amount_minor, "applied_minor": 0, "currency": e.currency})


STATEMENTS = ReadModel(
    "statements", (STATEMENT_LINES, STATEMENT_INVOICES),
    {ev.InvoiceDrafted: st_drafted, ev.InvoiceIssued: st_issued, ev.InvoiceVoided: st_voided,
     ev.PaymentApplied: _settlement("allocation", on_balance=False),
     ev.CreditNoteIssued: _settlement("credit", on_balance=True),
     ev.WrittenOff: _settlement("write_off", on_balance=True),
     ev.PaymentReceived: st_payment},
)
