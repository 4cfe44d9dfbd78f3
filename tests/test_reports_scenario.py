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

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from commands import models as m
from commands.auth import Principal
from commands.service import BillingService
from ledger.store.firm import FirmStore
from projections import query
from tests.billing_fixtures import (
    ADMIN,
    client,
    draft,
    issue,
    key,
    log,
    matter,
    pay,
    service,  # noqa: F401 - fixture
    set_up_firm,
    timekeeper,
)

CLERK = Principal(id="clerk@firm", roles=frozenset({"billing_clerk"}))
PARALEGAL = Principal(id="pl@firm", roles=frozenset({"timekeeper"}))
Q1 = (date(2024, 1, 1), date(2024, 3, 31))


def d(month: int, day: int) -> date:
    return date(2024, month, day)


@dataclass
class Quarter:
    northwind: UUID
    contoso: UUID
    fabrikam: UUID
    nw_matter: UUID
    invoices: dict[str, UUID]


def expense(svc: BillingService, matter_id: UUID, on: date, amount: int, code: str) -> None:
    svc.log_expense(ADMIN, m.LogExpense(idempotency_key=key(), matter_id=matter_id, spent_on=on,
                                        expense_code=code, description="Receipt attached",
                                        amount_minor=amount, currency="USD"))


def record_quarter(svc: BillingService, *, unbilled: bool = True) -> Quarter:
    """The quarter of the domain issue, with business dates set explicitly."""
    set_up_firm(svc)
    for tk, rate, title in (("PA", 50_000, "PARTNR"), ("AS", 30_000, "ASSOC"),
                            ("PL", 15_000, "PARALG")):
        timekeeper(svc, tk, rate, title)
    northwind = client(svc, terms=30)
    nw = matter(svc, northwind)
    for rate, start in ((45_000, d(1, 1)), (48_000, d(2, 1))):
        svc.set_rate(ADMIN, m.SetRate(idempotency_key=key(), matter_id=nw, timekeeper_id="PA",
                                      rate_minor_per_hour=rate, effective_from=start))
    log(svc, nw, "PA", d(1, 15), 50)
    log(svc, nw, "AS", d(1, 20), 7)
    svc.grant_access(ADMIN, m.GrantAccess(idempotency_key=key(), principal_id=PARALEGAL.id,
                                          scope="matter", scope_id=nw, role="timekeeper",
                                          reason="staffed on the matter", granted_on=d(1, 21)))
    log(svc, nw, "PL", d(1, 22), 30, who=PARALEGAL, billable=False)
    expense(svc, nw, d(1, 25), 35_000, "E112")
    log(svc, nw, "PA", d(2, 10), 61)
    slip = log(svc, nw, "AS", d(2, 12), 90)
    svc.correct_time(ADMIN, m.CorrectTime(idempotency_key=key(), matter_id=nw, entry_id=slip,
                                          minutes=100, reason="timer left out the call",
                                          corrected_on=d(2, 13)))
    wrong = log(svc, nw, "PA", d(2, 11), 30)
    svc.void_entry(ADMIN, m.VoidEntry(idempotency_key=key(), matter_id=nw, entry_id=wrong,
                                      reason="logged to the wrong matter", voided_on=d(2, 11)))
    inv: dict[str, UUID] = {}
    inv["INV-00001"] = draft(svc, nw, d(1, 1), d(1, 31))
    svc.write_down(ADMIN, m.WriteDown(idempotency_key=key(), invoice_id=inv["INV-00001"],
                                      line_no=2, amount_minor=1_000,
                                      reason="first-call courtesy", written_down_on=d(1, 31)))
    assert issue(svc, inv["INV-00001"], d(2, 1)) == "INV-00001"
    contoso = client(svc, terms=15)
    instalments = tuple(m.InstalmentTerms(due_on=d(month, 10), amount_minor=400_000)
                        for month in (1, 2, 3))
    ct = matter(svc, contoso, m.FlatFeeTerms(amount_minor=1_200_000, instalments=instalments))
    expense(svc, ct, d(1, 18), 4_500, "E107")
    inv["INV-00002"] = draft(svc, ct, d(1, 1), d(1, 31))
    assert issue(svc, inv["INV-00002"], d(2, 1)) == "INV-00002"
    inv["INV-00003"] = draft(svc, nw, d(2, 1), d(2, 29))
    assert issue(svc, inv["INV-00003"], d(3, 1)) == "INV-00003"
    inv["INV-00004"] = draft(svc, ct, d(2, 1), d(2, 29))
    assert issue(svc, inv["INV-00004"], d(3, 1)) == "INV-00004"
    svc.void_invoice(ADMIN, m.VoidInvoice(idempotency_key=key(), invoice_id=inv["INV-00004"],
                                          reason="issued before the milestone",
                                          voided_on=d(3, 2)))
    fabrikam = client(svc, terms=45)
    fb = matter(svc, fabrikam, m.ContingencyTerms(percentage_bp=3_333))
    expense(svc, fb, d(2, 5), 250_000, "E118")
    svc.record_recovery(ADMIN, m.RecordRecovery(idempotency_key=key(), matter_id=fb,
                                                amount_minor=15_000_000, recovered_on=d(2, 20)))
    inv["INV-00005"] = draft(svc, fb, d(2, 1), d(2, 29))
    assert issue(svc, inv["INV-00005"], d(3, 1)) == "INV-00005"
    pay(svc, northwind, 100_000, d(3, 5), ((inv["INV-00001"], 80_500),
                                           (inv["INV-00003"], 19_500)))
    grant = svc.grant_access(ADMIN, m.GrantAccess(
        idempotency_key=key(), principal_id=CLERK.id, scope="client", scope_id=northwind,
        role="billing_clerk", reason="collections for the account", granted_on=d(3, 10)))
    pay(svc, northwind, 50_000, d(3, 20), ((inv["INV-00003"], 30_000),), who=CLERK)
    svc.issue_credit_note(ADMIN, m.IssueCreditNote(
        idempotency_key=key(), invoice_id=inv["INV-00003"], amount_minor=4_300,
        reason="rate dispute", issued_on=d(3, 21)))
    svc.revoke_access(ADMIN, m.RevokeAccess(idempotency_key=key(), principal_id=CLERK.id,
                                            grant_id=UUID(str(grant["grant_id"])),
                                            reason="reassigned", revoked_on=d(3, 21)))
    pay(svc, contoso, 300_000, d(2, 20), ((inv["INV-00002"], 300_000),))
    svc.write_off(ADMIN, m.WriteOff(idempotency_key=key(), invoice_id=inv["INV-00002"],
                                    amount_minor=4_500, reason="courier charge disputed",
                                    approved_by="pa@firm", written_off_on=d(3, 31)))
    svc.record_payment(ADMIN, m.RecordPayment(
        idempotency_key=key(), client_id=fabrikam, amount_minor=5_000_000, currency="USD",
        method="trust", reference="IOLTA transfer 1", received_on=d(3, 25),
        allocations=(m.Allocation(invoice_id=inv["INV-00005"], amount_minor=5_000_000),)))
    if unbilled:
        log(svc, nw, "PA", d(3, 15), 45)
        log(svc, nw, "AS", d(3, 16), 20)
        expense(svc, nw, d(3, 18), 1_250, "E101")
    return Quarter(northwind, contoso, fabrikam, nw, inv)


def test_northwind_q1_statement(service: BillingService, firm_store: FirmStore) -> None:  # noqa: F811
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


def test_contoso_statement_with_void_and_write_off(service: BillingService,  # noqa: F811
                                                   firm_store: FirmStore) -> None:
    q = record_quarter(service)
    st = query.statement_report(firm_store, q.contoso, *Q1)
    assert [(li["kind"], li["amount_minor"], li["balance_minor"]) for li in st["lines"]] == [
        ("invoice", 404_500, 404_500), ("payment", -300_000, 104_500),
        ("invoice", 400_000, 504_500), ("void", -400_000, 104_500),
        ("write_off", -4_500, 100_000)]
    assert st["aging"]["days_31_60_minor"] == 100_000
    assert st["aging"]["invoices"][0]["days_past_due"] == 44


def test_invoice_balances_and_ar_aging(service: BillingService,  # noqa: F811
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


def test_wip_writeoffs_and_access(service: BillingService,  # noqa: F811
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


def test_verification_summary(service: BillingService, firm_store: FirmStore) -> None:  # noqa: F811
    record_quarter(service, unbilled=False)
    report = query.verification_report(firm_store)
    head = firm_store.head()
    assert report["ok"] and report["events_checked"] == head.position
    assert (report["head_position"], report["head_hash"]) == (head.position, head.hash)
