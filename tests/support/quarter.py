"""The domain issue's quarter of billing, recorded through ``BillingService`` with its
business dates set explicitly (hand figures in tests/test_reports_scenario.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from commands import models as m
from commands.auth import Principal
from commands.service import BillingService
from tests.support.billing import (
    ADMIN,
    client,
    draft,
    issue,
    key,
    log,
    matter,
    pay,
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
        method="wire", reference="WIRE 9001", received_on=d(3, 25),
        allocations=(m.Allocation(invoice_id=inv["INV-00005"], amount_minor=5_000_000),)))
    if unbilled:
        log(svc, nw, "PA", d(3, 15), 45)
        log(svc, nw, "AS", d(3, 16), 20)
        expense(svc, nw, d(3, 18), 1_250, "E101")
    return Quarter(northwind, contoso, fabrikam, nw, inv)
