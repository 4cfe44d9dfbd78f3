"""The domain issue's quarter of billing (see tests/test_commands_scenario.py), recorded
once per test, and every report checked against figures computed by hand.

Hand figures (USD, minor units in the assertions):
Northwind (30 days)  INV-00001 805.00 issued 1 Feb, due 2 Mar; INV-00003 1,038.00 issued 1 Mar,
  due 31 Mar; wire 1,000.00 on 5 Mar (805.00 + 195.00), check 500.00 on 20 Mar (300.00 to
  INV-00003, 200.00 unapplied), credit note 43.00 on 21 Mar.
  Q1 statement: 0 → +805.00 = 805.00 → +1,038.00 = 1,843.00 → −1,000.00 = 843.00
  → −500.00 = 343.00 → −43.00 = 300.00 closing; open INV-00003 500.00, current on 31 Mar;
  unapplied 200.00 (500.00 − 200.00 = 300.00).
Contoso (15 days)  INV-00002 4,045.00 issued 1 Feb, due 16 Feb; ACH 3,000.00 on 20 Feb;
  INV-00004 4,000.00 issued 1 Mar, voided 2 Mar; write-off 45.00 on 31 Mar → 1,000.00 open,
  44 days past due on 31 Mar (31–60).
Fabrikam (45 days)  INV-00005 52,495.00 issued 1 Mar, due 15 Apr; trust 50,000.00 on 25 Mar
  → 2,495.00 open, current on 31 Mar.
Unbilled at the end: Northwind PA 15 Mar 45→48 min × 480.00 = 384.00, AS 16 Mar 20→24 min
  × 300.00 (default rate) = 120.00, copying 12.50 on 18 Mar: WIP 516.50.
"""

from __future__ import annotations

from commands.service import BillingService
from ledger.store.firm import FirmStore
from projections import query
from tests.support.billing import ADMIN
from tests.support.quarter import CLERK, PARALEGAL, Q1, d, record_quarter


def test_northwind_q1_statement(service: BillingService, firm_store: FirmStore) -> None:
    q = record_quarter(service)
    st = query.statement_report(firm_store, q.northwind, *Q1)
    assert st["opening_balance_minor"] == 0
    assert [(li["date"], li["kind"], li["amount_minor"], li["balance_minor"])
            for li in st["lines"]] == [
        ("2024-02-01", "invoice", 80_500, 80_500), ("2024-03-01", "invoice", 103_800, 184_300),
        ("2024-03-05", "payment", -100_000, 84_300), ("2024-03-20", "payment", -50_000, 34_300),
        ("2024-03-21", "credit", -4_300, 30_000)]
    assert [li["number"] for li in st["lines"][:2]] == ["INV-00001", "INV-00003"]
    assert st["closing_balance_minor"] == 30_000
    aging = st["aging"]
    assert (aging["current_minor"], aging["days_1_30_minor"], aging["total_open_minor"],
            aging["unapplied_credit_minor"]) == (50_000, 0, 50_000, 20_000)
    assert [(i["number"], i["open_minor"]) for i in aging["invoices"]] == [("INV-00003", 50_000)]
    march = query.statement_report(firm_store, q.northwind, d(3, 1), d(3, 31))
    assert march["opening_balance_minor"] == 80_500
    assert march["closing_balance_minor"] == 30_000


def test_contoso_statement_with_void_and_write_off(service: BillingService,
                                                   firm_store: FirmStore) -> None:
    q = record_quarter(service)
    st = query.statement_report(firm_store, q.contoso, *Q1)
    assert [(li["kind"], li["amount_minor"], li["balance_minor"]) for li in st["lines"]] == [
        ("invoice", 404_500, 404_500), ("payment", -300_000, 104_500),
        ("invoice", 400_000, 504_500), ("void", -400_000, 104_500),
        ("write_off", -4_500, 100_000)]
    assert st["aging"]["days_31_60_minor"] == 100_000
    assert st["aging"]["invoices"][0]["days_past_due"] == 44


def test_invoice_balances_and_ar_aging(service: BillingService,
                                       firm_store: FirmStore) -> None:
    record_quarter(service)
    inv = query.invoices_report(firm_store, on=d(4, 20))["invoices"]
    assert [(i["number"], i["status"], i["total_minor"], i["paid_minor"], i["credited_minor"],
             i["written_off_minor"], i["open_minor"], i["days_overdue"]) for i in inv] == [
        ("INV-00001", "issued", 80_500, 80_500, 0, 0, 0, 0),
        ("INV-00002", "issued", 404_500, 300_000, 0, 4_500, 100_000, 64),
        ("INV-00003", "issued", 103_800, 49_500, 4_300, 0, 50_000, 20),
        ("INV-00004", "voided", 400_000, 0, 0, 0, 0, 0),
        ("INV-00005", "issued", 5_249_500, 5_000_000, 0, 0, 249_500, 5)]
    march = query.aging_report(firm_store, on=d(3, 31))
    assert march["totals"]["USD"] == {
        "current_minor": 299_500, "days_1_30_minor": 0, "days_31_60_minor": 100_000,
        "days_61_90_minor": 0, "days_over_90_minor": 0, "total_open_minor": 399_500}
    may = query.aging_report(firm_store, on=d(5, 1))
    assert may["totals"]["USD"] == {
        "current_minor": 0, "days_1_30_minor": 249_500, "days_31_60_minor": 50_000,
        "days_61_90_minor": 100_000, "days_over_90_minor": 0, "total_open_minor": 399_500}


def test_wip_writeoffs_and_access(service: BillingService,
                                  firm_store: FirmStore) -> None:
    q = record_quarter(service)
    wip = query.wip_report(firm_store)
    assert [(r["timekeeper_id"], r["kind"], r["entries"], r["minutes"], r["value_minor"])
            for r in wip["rows"]] == [
        (None, "expense", 1, 0, 1_250), ("AS", "time", 1, 24, 12_000),
        ("PA", "time", 1, 48, 38_400)]
    assert wip["totals"] == {"USD": 51_650}
    adj = query.writeoffs_report(firm_store)
    assert [(a["kind"], a["number"], a["timekeeper_id"], a["approver"], a["amount_minor"])
            for a in adj["adjustments"]] == [
        ("write_down", "INV-00001", "AS", ADMIN.id, 1_000),
        ("write_off", "INV-00002", None, "pa@firm", 4_500)]
    assert [(r["approver"], r["kind"], r["amount_minor"]) for r in adj["by_approver"]] == [
        (ADMIN.id, "write_down", 1_000), ("pa@firm", "write_off", 4_500)]
    mid = query.access_report(firm_store, on=d(3, 15))
    assert sorted(r["principal_id"] for r in mid["could_see"]) == [CLERK.id, PARALEGAL.id]
    assert {r["client_id"] for r in mid["could_see"]} == {str(q.northwind)}
    late = query.access_report(firm_store, on=d(3, 25))
    assert [r["principal_id"] for r in late["could_see"]] == [PARALEGAL.id]
    assert [g["revoked_on"] for g in late["grants"]] == [None, "2024-03-21"]


def test_verification_summary(service: BillingService, firm_store: FirmStore) -> None:
    record_quarter(service, unbilled=False)
    report = query.verification_report(firm_store)
    head = firm_store.head()
    assert report["ok"] and report["events_checked"] == head.position
    assert (report["head_position"], report["head_hash"]) == (head.position, head.hash)
