"""LEDES 1998B: the export of an issued invoice parses back with our own reader,
matches a golden file, and its totals equal the invoice's (the format alone, with no
database, is in tests/unit/test_ledes_format.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from commands.service import BillingService
from ledger.store.firm import FirmStore
from projections import query
from projections.ledes import LedesExportError
from projections.ledes_parse import parse
from tests.support.billing import ADMIN
from tests.support.quarter import record_quarter

GOLDEN = Path(__file__).parent / "golden"
LAW_FIRM_ID = "24-6789012"


def normalised(text: str, client_hex: str, matter_hex: str) -> str:
    return text.replace(client_hex, "<CLIENT_ID>").replace(matter_hex, "<MATTER_ID>")


def test_issued_invoice_export_matches_golden_and_totals(
        service: BillingService, firm_store: FirmStore) -> None:
    q = record_quarter(service)
    for number, golden in (("INV-00001", "ledes_inv00001.txt"),
                           ("INV-00005", "ledes_inv00005.txt")):
        invoice_id = q.invoices[number]
        text = query.ledes_export(firm_store, invoice_id, LAW_FIRM_ID)
        state = service.invoice_state(ADMIN, invoice_id)
        [parsed] = parse(text)
        assert parsed.number == number
        assert parsed.total_minor == parsed.lines_total_minor == state["total_minor"]
        assert all(re.fullmatch(r"\d{8}", li["LINE_ITEM_DATE"]) for li in parsed.lines)
        matter_hex = parsed.lines[0]["LAW_FIRM_MATTER_ID"]
        client_hex = parsed.lines[0]["CLIENT_ID"]
        assert len(matter_hex) == len(client_hex) == 20
        expected = (GOLDEN / golden).read_text()
        assert normalised(text, client_hex, matter_hex) == expected


def test_the_lines_of_inv_00001(service: BillingService,
                                firm_store: FirmStore) -> None:
    q = record_quarter(service)
    [parsed] = parse(query.ledes_export(firm_store, q.invoices["INV-00001"], LAW_FIRM_ID))
    assert [(li["EXP/FEE/INV_ADJ_TYPE"], li["LINE_ITEM_NUMBER_OF_UNITS"],
             li["LINE_ITEM_UNIT_COST"], li["LINE_ITEM_ADJUSTMENT_AMOUNT"],
             li["LINE_ITEM_TOTAL"], li["TIMEKEEPER_NAME"], li["TIMEKEEPER_CLASSIFICATION"],
             li["LINE_ITEM_EXPENSE_CODE"]) for li in parsed.lines] == [
        ("F", "0.9", "450.00", "0.00", "405.00", "PA, Person", "PARTNR", ""),
        ("F", "0.2", "300.00", "-10.00", "50.00", "AS, Person", "ASSOC", ""),
        ("E", "1.0", "350.00", "0.00", "350.00", "", "", "E112")]


def test_only_issued_invoices_export(service: BillingService,
                                     firm_store: FirmStore) -> None:
    q = record_quarter(service, unbilled=False)
    with pytest.raises(LedesExportError):
        query.ledes_export(firm_store, q.invoices["INV-00004"], LAW_FIRM_ID)  # voided
