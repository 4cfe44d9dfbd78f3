"""LEDES 1998B export of an issued invoice, and a strict parser of the format.

Written from the LEDES 1998B text (Rev 7/2014, see DOMAIN.md §1): line 1 is
``LEDES1998B[]``; line 2 the 24 field names joined by ``|`` and ending ``[]``;
then one line per line item, 24 fields, ``|``-separated, ending ``[]``. Dates
are ``YYYYMMDD``; amounts carry two decimals and are formatted from integer
minor units with ``divmod`` (never a float).

Where each field comes from (read models ``rm_invoices``, ``rm_invoice_lines``,
``rm_clients``, ``rm_matters``, ``rm_timekeepers``, ``rm_entries``):

 1 INVOICE_DATE            invoice's issue date (InvoiceIssued.effective_on)
 2 INVOICE_NUMBER          invoice number (InvoiceIssued.number)
 3 CLIENT_ID               first 20 hex digits of the client id (IDs are ≤ 20 chars)
 4 LAW_FIRM_MATTER_ID      first 20 hex digits of the matter id
 5 INVOICE_TOTAL           invoice total as issued (= Σ LINE_ITEM_TOTAL)
 6 BILLING_START_DATE      invoice period start;  7 BILLING_END_DATE  period end
 8 INVOICE_DESCRIPTION     the matter's title (same on every line)
 9 LINE_ITEM_NUMBER        the invoice line's number
10 EXP/FEE/INV_ADJ_TYPE    ``E`` for an expense line, ``F`` for time, flat fee, contingency fee
11 LINE_ITEM_NUMBER_OF_UNITS  time: billed hours to 4 decimals (``money.billed_hours``,
                           the hours the line's amount was computed from); else 1
12 LINE_ITEM_ADJUSTMENT_AMOUNT  minus the pre-bill write-down, and nothing else: a time
                           line's amount is its stated hours × its rate (``money.time_amount``)
                           so units × unit cost + adjustment = total, to the cent
13 LINE_ITEM_TOTAL         the line's net amount (amount − write-down)
14 LINE_ITEM_DATE          work date / expense date / instalment due date / recovery date
15 LINE_ITEM_TASK_CODE, 16 LINE_ITEM_EXPENSE_CODE, 17 LINE_ITEM_ACTIVITY_CODE  UTBMS codes
18 TIMEKEEPER_ID           the timekeeper id
19 LINE_ITEM_DESCRIPTION   the entry's narrative (expense description), else the line kind

Every text field is ASCII by transliteration and within the standard's limits
(``projections.ledes_text``): a field over its limit refuses the export with the
list of lines and fields (``LedesFieldError``), unless the caller asks to truncate,
and then each cut is reported.
20 LAW_FIRM_ID             the firm's tax id, given by the operator (not in the ledger)
21 LINE_ITEM_UNIT_COST     time: the hourly rate; else the amount
22 TIMEKEEPER_NAME         "Last, First" from the registered name
23 TIMEKEEPER_CLASSIFICATION  the timekeeper's title (PARTNR, ASSOC, PARALG…)
24 CLIENT_MATTER_ID        empty (the ledger holds no client-side matter id)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from ledger.domain.money import CURRENCY_EXPONENTS, billed_hours, time_amount
from ledger.errors import LedgerError
from projections.ledes_text import FieldProblem, ascii_text, field_problems, truncated
from projections.rows import Reader, Row

MARKER = "LEDES1998B[]"
FIELDS = (
    "INVOICE_DATE", "INVOICE_NUMBER", "CLIENT_ID", "LAW_FIRM_MATTER_ID", "INVOICE_TOTAL",
    "BILLING_START_DATE", "BILLING_END_DATE", "INVOICE_DESCRIPTION", "LINE_ITEM_NUMBER",
    "EXP/FEE/INV_ADJ_TYPE", "LINE_ITEM_NUMBER_OF_UNITS", "LINE_ITEM_ADJUSTMENT_AMOUNT",
    "LINE_ITEM_TOTAL", "LINE_ITEM_DATE", "LINE_ITEM_TASK_CODE", "LINE_ITEM_EXPENSE_CODE",
    "LINE_ITEM_ACTIVITY_CODE", "TIMEKEEPER_ID", "LINE_ITEM_DESCRIPTION", "LAW_FIRM_ID",
    "LINE_ITEM_UNIT_COST", "TIMEKEEPER_NAME", "TIMEKEEPER_CLASSIFICATION", "CLIENT_MATTER_ID",
)
ID_LENGTH = 20
UNIT_SCALE = 10_000  # units are written with up to four decimals


class LedesExportError(LedgerError):
    """The invoice cannot be exported (not issued, unknown, or not in 2-decimal money)."""


class LedesFieldError(LedesExportError):
    """Fields the standard does not allow as they stand (over a limit, outside a type).

    The message lists each line and field (never a value: values may be confidential).
    """

    type = "ledes-field-invalid"

    def __init__(self, problems: list[FieldProblem]) -> None:
        shown = "; ".join(str(p) for p in problems[:20])
        more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        hint = "" if any(not p.fixable for p in problems) else " (--truncate cuts them)"
        super().__init__(f"the LEDES file would break the standard: {shown}{more}{hint}",
                         field="invoice_id")
        self.problems = problems


@dataclass(frozen=True)
class LedesFile:
    """An exported file and the fields that were cut to fit (only with ``truncate``)."""

    text: str
    truncations: list[FieldProblem] = field(default_factory=list)


def money(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def units(scaled: int) -> str:
    """Units ×10 000 as a decimal with 1–4 decimals (``9000`` → ``0.9``)."""
    whole, frac = divmod(scaled, UNIT_SCALE)
    digits = f"{frac:04d}".rstrip("0") or "0"
    return f"{whole}.{digits}"


def ledes_id(value: UUID) -> str:
    return value.hex[:ID_LENGTH]


def last_first(name: str) -> str:
    parts = name.split()
    return ascii_text(f"{parts[-1]}, {' '.join(parts[:-1])}" if len(parts) > 1 else name)


def _line_fields(line: Row, entry: Row | None, keeper: Row | None) -> dict[str, str]:
    net = line["amount_minor"] - line["written_down_minor"]
    if line["kind"] == "time":
        scaled, cost = billed_hours(line["minutes"]), line["rate_minor_per_hour"]
        base = time_amount(line["minutes"], cost)
    else:
        scaled, cost, base = UNIT_SCALE, line["amount_minor"], line["amount_minor"]
    description = entry["narrative"] if entry and entry["narrative"] else {
        "time": "Professional services", "expense": "Expense",
        "flat_fee": "Flat fee instalment", "contingency_fee": "Contingency fee"}[line["kind"]]
    return {
        "LINE_ITEM_NUMBER": str(line["line_no"]),
        "EXP/FEE/INV_ADJ_TYPE": "E" if line["kind"] == "expense" else "F",
        "LINE_ITEM_NUMBER_OF_UNITS": units(scaled),
        "LINE_ITEM_ADJUSTMENT_AMOUNT": money(net - base),
        "LINE_ITEM_TOTAL": money(net), "LINE_ITEM_DATE": line["work_on"].strftime("%Y%m%d"),
        "LINE_ITEM_TASK_CODE": line["task_code"] or "",
        "LINE_ITEM_EXPENSE_CODE": line["expense_code"] or "",
        "LINE_ITEM_ACTIVITY_CODE": line["activity_code"] or "",
        "TIMEKEEPER_ID": ascii_text(line["timekeeper_id"] or ""),
        "LINE_ITEM_DESCRIPTION": ascii_text(description),
        "LINE_ITEM_UNIT_COST": money(cost),
        "TIMEKEEPER_NAME": last_first(keeper["name"]) if keeper else "",
        "TIMEKEEPER_CLASSIFICATION": ascii_text(keeper["title"]) if keeper else "",
    }


def export(reader: Reader, invoice_id: UUID, law_firm_id: str, *,
           truncate: bool = False) -> LedesFile:
    """The invoice as a LEDES 1998B file (``\\n`` line breaks, trailing newline).

    Refuses (``LedesFieldError``, nothing written) when a field breaks the standard,
    unless ``truncate`` and every such field only needs cutting to its limit.
    """
    return export_many(reader, [invoice_id], law_firm_id, truncate=truncate)


def export_many(reader: Reader, invoice_ids: list[UUID], law_firm_id: str, *,
                truncate: bool = False) -> LedesFile:
    """Several invoices in one file (one header; each line repeats its invoice's fields).

    Problems name the invoice's number as well when the file holds more than one.
    """
    rows: list[dict[str, str]] = []
    problems: list[FieldProblem] = []
    keepers = {r["timekeeper_id"]: r for r in reader.select("rm_timekeepers")}
    for invoice_id in invoice_ids:
        invoice = _issued(reader, invoice_id)
        head = _invoice_fields(reader, invoice, law_firm_id)
        named = invoice["number"] if len(invoice_ids) > 1 else ""
        lines = sorted(reader.select("rm_invoice_lines", invoice_id=invoice_id),
                       key=lambda r: r["line_no"])
        for line in lines:
            entry = _entry(reader, line["source_id"])
            fields = {**head, **_line_fields(line, entry, keepers.get(line["timekeeper_id"]))}
            problems += field_problems(line["line_no"], fields, invoice=named)
            rows.append(fields)
    if problems and (not truncate or any(not p.fixable for p in problems)):
        raise LedesFieldError(problems)
    out = [MARKER, "|".join(FIELDS) + "[]"]
    out += ["|".join(truncated(fields)[f] for f in FIELDS) + "[]" for fields in rows]
    return LedesFile("\n".join(out) + "\n", problems)


def _issued(reader: Reader, invoice_id: UUID) -> Row:
    invoice = next(iter(reader.select("rm_invoices", invoice_id=invoice_id)), None)
    if invoice is None:
        raise LedesExportError("no such invoice", field="invoice_id")
    if invoice["status"] != "issued":
        raise LedesExportError(f"the invoice is {invoice['status']}; only an issued invoice "
                               "can be exported", field="invoice_id")
    if CURRENCY_EXPONENTS.get(invoice["currency"], 2) != 2:
        raise LedesExportError("LEDES 1998B amounts have two decimals", field="currency")
    return invoice


def _invoice_fields(reader: Reader, invoice: Row, law_firm_id: str) -> dict[str, str]:
    """The invoice-level fields, repeated on each of its lines."""
    matter = next(iter(reader.select("rm_matters", matter_id=invoice["matter_id"])), None)
    return {
        "INVOICE_DATE": invoice["issued_on"].strftime("%Y%m%d"),
        "INVOICE_NUMBER": ascii_text(invoice["number"]),
        "CLIENT_ID": ledes_id(invoice["client_id"]),
        "LAW_FIRM_MATTER_ID": ledes_id(invoice["matter_id"]),
        "INVOICE_TOTAL": money(invoice["total_minor"]),
        "BILLING_START_DATE": invoice["period_start"].strftime("%Y%m%d"),
        "BILLING_END_DATE": invoice["period_end"].strftime("%Y%m%d"),
        "INVOICE_DESCRIPTION": ascii_text(matter["title"] if matter else ""),
        "LAW_FIRM_ID": ascii_text(law_firm_id), "CLIENT_MATTER_ID": "",
    }


def issued_in_period(reader: Reader, client_id: UUID, start: date, end: date) -> list[UUID]:
    """A client's issued invoices with an issue date in ``start..end``, in number order."""
    found = [r for r in reader.select("rm_invoices", client_id=client_id, status="issued")
             if start <= r["issued_on"] <= end]
    return [r["invoice_id"] for r in sorted(found, key=lambda r: (r["issued_on"], r["number"]))]


def _entry(reader: Reader, source_id: str) -> Row | None:
    try:
        entry_id = UUID(source_id)
    except ValueError:
        return None
    return next(iter(reader.select("rm_entries", entry_id=entry_id)), None)
