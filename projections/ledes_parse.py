"""A strict LEDES 1998B reader, written from the standard's text, not from our writer.

It checks the marker and header lines, the ``[]`` line ends, 24 fields per
line, the required fields, dates, the type codes, the line arithmetic
(``units × unit cost + adjustment = line total``, to the half cent) and that
each invoice's INVOICE_TOTAL is the sum of its line totals. Amounts are read
into integer minor units, units into integer ten-thousandths: no floats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from projections.ledes import FIELDS, MARKER

REQUIRED = ("INVOICE_DATE", "INVOICE_NUMBER", "CLIENT_ID", "LAW_FIRM_MATTER_ID",
            "INVOICE_TOTAL", "BILLING_START_DATE", "BILLING_END_DATE", "LINE_ITEM_NUMBER",
            "EXP/FEE/INV_ADJ_TYPE", "LINE_ITEM_TOTAL", "LINE_ITEM_DATE", "LAW_FIRM_ID")
DATES = ("INVOICE_DATE", "BILLING_START_DATE", "BILLING_END_DATE", "LINE_ITEM_DATE")
TYPES = ("F", "E", "IF", "IE")
DECIMAL = re.compile(r"^(-?)(\d+)(?:\.(\d{1,4}))?$")


class LedesFormatError(ValueError):
    """The text is not valid LEDES 1998B (the message names the line and why)."""


def scaled(text: str, digits: int, where: str) -> int:
    """A decimal string as an integer of ``10**digits`` units (half-up beyond them)."""
    match = DECIMAL.match(text)
    if not match:
        raise LedesFormatError(f"{where}: {text!r} is not a decimal number")
    sign, whole, frac = match.group(1), match.group(2), match.group(3) or ""
    frac4 = (frac + "0000")[:4]
    value = int(whole) * 10_000 + int(frac4)
    value = (value * {2: 100, 4: 10_000}[digits] + 5_000) // 10_000
    return -value if sign else value


@dataclass
class LedesInvoice:
    number: str
    total_minor: int
    lines: list[dict[str, str]] = field(default_factory=list)

    @property
    def lines_total_minor(self) -> int:
        return sum(scaled(li["LINE_ITEM_TOTAL"], 2, "total") for li in self.lines)


def parse(text: str) -> list[LedesInvoice]:
    raw = text.replace("\r\n", "\n").rstrip("\n").split("\n")
    if len(raw) < 3:
        raise LedesFormatError("a LEDES file has a marker, a header and at least one line")
    if raw[0] != MARKER:
        raise LedesFormatError(f"line 1 must be {MARKER!r}")
    if raw[1] != "|".join(FIELDS) + "[]":
        raise LedesFormatError("line 2 must name the 24 LEDES 1998B fields in order")
    invoices: dict[str, LedesInvoice] = {}
    for number, line in enumerate(raw[2:], start=3):
        item = _item(line, number)
        inv = invoices.setdefault(item["INVOICE_NUMBER"], LedesInvoice(
            item["INVOICE_NUMBER"], scaled(item["INVOICE_TOTAL"], 2, f"line {number}")))
        inv.lines.append(item)
    for inv in invoices.values():
        if inv.lines_total_minor != inv.total_minor:
            raise LedesFormatError(f"invoice {inv.number}: INVOICE_TOTAL is not the sum of "
                                   "its LINE_ITEM_TOTALs")
    return list(invoices.values())


def _item(line: str, number: int) -> dict[str, str]:
    where = f"line {number}"
    if not line.endswith("[]"):
        raise LedesFormatError(f"{where} does not end with []")
    values = line[:-2].split("|")
    if len(values) != len(FIELDS):
        raise LedesFormatError(f"{where} has {len(values)} fields, not {len(FIELDS)}")
    item = dict(zip(FIELDS, values, strict=True))
    for name in REQUIRED:
        if not item[name]:
            raise LedesFormatError(f"{where}: {name} is required")
    for name in DATES:
        try:
            datetime.strptime(item[name], "%Y%m%d")
        except ValueError:
            raise LedesFormatError(f"{where}: {name} is not YYYYMMDD") from None
    kind = item["EXP/FEE/INV_ADJ_TYPE"]
    if kind not in TYPES:
        raise LedesFormatError(f"{where}: type {kind!r} is not one of {', '.join(TYPES)}")
    total = scaled(item["LINE_ITEM_TOTAL"], 2, where)
    adjustment = scaled(item["LINE_ITEM_ADJUSTMENT_AMOUNT"] or "0", 2, where)
    if kind in ("F", "E"):
        if not item["LINE_ITEM_NUMBER_OF_UNITS"] or not item["LINE_ITEM_UNIT_COST"]:
            raise LedesFormatError(f"{where}: units and unit cost are required for {kind}")
        qty = scaled(item["LINE_ITEM_NUMBER_OF_UNITS"], 4, where)
        if qty < 0:
            raise LedesFormatError(f"{where}: units are never negative")
        cost = scaled(item["LINE_ITEM_UNIT_COST"], 2, where)
        if abs(qty * cost + adjustment * 10_000 - total * 10_000) > 5_000:
            raise LedesFormatError(f"{where}: units × unit cost + adjustment ≠ line total")
    return item
