"""A quarter of a small firm's billing, end to end, checked against hand-computed figures.

Firm in USD; timekeepers PA (partner, 500.00/h default), AS (associate, 300.00/h),
PL (paralegal, 150.00/h). Increments of 6 minutes; line = minutes × rate / 60,
half-up, once per line.

Northwind (30 days), hourly matter; PA's matter rate 450.00 from 1 Jan, 480.00 from 1 Feb
  Jan: PA 15 Jan 50→54 min × 450.00 = 405.00 | AS 20 Jan 7→12 min × 300.00 = 60.00,
       written down 10.00 → 50.00 | filing fee 350.00 | PL 30 min not billable
       INV-00001 = 405.00 + 50.00 + 350.00 = 805.00
  Feb: PA 10 Feb 61→66 min × 480.00 = 528.00 | AS 12 Feb 90 corrected to 100→102 min
       × 300.00 = 510.00 | PA 11 Feb 30 min voided
       INV-00003 = 528.00 + 510.00 = 1,038.00
  wire 1,000.00 → 805.00 to INV-00001, 195.00 to INV-00003
  check 500.00 (by a clerk with a grant) → 300.00 to INV-00003, 200.00 unapplied
  credit note 43.00 on INV-00003 → 1,038.00 − 195.00 − 300.00 − 43.00 = 500.00 open
Contoso (15 days), flat fee 12,000.00 in three instalments of 4,000.00 (10 Jan/Feb/Mar)
  INV-00002 (Jan) = instalment 1 4,000.00 + courier 45.00 = 4,045.00
  INV-00004 (Feb) = instalment 2 4,000.00, then voided
  ACH 3,000.00 → INV-00002; write-off 45.00 → 4,045.00 − 3,000.00 − 45.00 = 1,000.00 open
Fabrikam (45 days), contingency 33.33 %
  recovery 150,000.00 → fee 49,995.00; expert 2,500.00; INV-00005 = 52,495.00
  trust 50,000.00 → INV-00005; open 2,495.00
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from commands import models as m
from commands.errors import AccessDeniedError
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
from tests.support.quarter import CLERK, PARALEGAL, d


def expense(svc: BillingService, matter_id: UUID, on: date, amount: int, code: str) -> None:
    svc.log_expense(ADMIN, m.LogExpense(idempotency_key=key(), matter_id=matter_id, spent_on=on,
                                        expense_code=code, description="Receipt attached",
                                        amount_minor=amount, currency="USD"))


def test_a_quarter_of_billing(service: BillingService) -> None:
    svc = service
    set_up_firm(svc)
    timekeeper(svc, "PA", 50_000, "PARTNR")
    timekeeper(svc, "AS", 30_000, "ASSOC")
    timekeeper(svc, "PL", 15_000, "PARALG")

    # -- Northwind: hourly, with a rate change mid-matter -------------------------------
    northwind = client(svc, terms=30)
    nw = matter(svc, northwind)
    for rate, start in ((45_000, d(1, 1)), (48_000, d(2, 1))):
        svc.set_rate(ADMIN, m.SetRate(idempotency_key=key(), matter_id=nw, timekeeper_id="PA",
                                      rate_minor_per_hour=rate, effective_from=start))
    log(svc, nw, "PA", d(1, 15), 50)
    log(svc, nw, "AS", d(1, 20), 7)
    svc.grant_access(ADMIN, m.GrantAccess(idempotency_key=key(), principal_id=PARALEGAL.id,
                                          scope="matter", scope_id=nw, role="timekeeper",
                                          reason="staffed on the matter"))
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

    nw_jan = draft(svc, nw, d(1, 1), d(1, 31))
    assert svc.invoice_state(ADMIN, nw_jan)["total_minor"] == 40_500 + 6_000 + 35_000
    svc.write_down(ADMIN, m.WriteDown(idempotency_key=key(), invoice_id=nw_jan, line_no=2,
                                      amount_minor=1_000, reason="first-call courtesy",
                                      written_down_on=d(1, 31)))
    assert issue(svc, nw_jan, d(2, 1)) == "INV-00001"

    # -- Contoso: flat fee in instalments ------------------------------------------------
    contoso = client(svc, terms=15)
    instalments = tuple(m.InstalmentTerms(due_on=d(month, 10), amount_minor=400_000)
                        for month in (1, 2, 3))
    ct = matter(svc, contoso, m.FlatFeeTerms(amount_minor=1_200_000, instalments=instalments))
    expense(svc, ct, d(1, 18), 4_500, "E107")
    ct_jan = draft(svc, ct, d(1, 1), d(1, 31))
    assert issue(svc, ct_jan, d(2, 1)) == "INV-00002"

    nw_feb = draft(svc, nw, d(2, 1), d(2, 29))
    assert issue(svc, nw_feb, d(3, 1)) == "INV-00003"
    ct_feb = draft(svc, ct, d(2, 1), d(2, 29))
    assert issue(svc, ct_feb, d(3, 1)) == "INV-00004"
    svc.void_invoice(ADMIN, m.VoidInvoice(idempotency_key=key(), invoice_id=ct_feb,
                                          reason="issued before the milestone", voided_on=d(3, 2)))

    # -- Fabrikam: contingency on a recovery -----------------------------------------------
    fabrikam = client(svc, terms=45)
    fb = matter(svc, fabrikam, m.ContingencyTerms(percentage_bp=3_333))
    expense(svc, fb, d(2, 5), 250_000, "E118")
    svc.record_recovery(ADMIN, m.RecordRecovery(idempotency_key=key(), matter_id=fb,
                                                amount_minor=15_000_000, recovered_on=d(2, 20)))
    fb_feb = draft(svc, fb, d(2, 1), d(2, 29))
    assert issue(svc, fb_feb, d(3, 1)) == "INV-00005"

    # -- payments, credit, write-off, access ------------------------------------------------
    pay(svc, northwind, 100_000, d(3, 5), ((nw_jan, 80_500), (nw_feb, 19_500)))
    grant = svc.grant_access(ADMIN, m.GrantAccess(
        idempotency_key=key(), principal_id=CLERK.id, scope="client", scope_id=northwind,
        role="billing_clerk", reason="collections for the account"))
    pay(svc, northwind, 50_000, d(3, 20), ((nw_feb, 30_000),), who=CLERK)
    svc.issue_credit_note(ADMIN, m.IssueCreditNote(idempotency_key=key(), invoice_id=nw_feb,
                                                   amount_minor=4_300, reason="rate dispute",
                                                   issued_on=d(3, 21)))
    svc.revoke_access(ADMIN, m.RevokeAccess(idempotency_key=key(), principal_id=CLERK.id,
                                            grant_id=UUID(str(grant["grant_id"])),
                                            reason="reassigned"))
    before = svc.event_count()
    try:
        pay(svc, northwind, 1, d(3, 22), who=CLERK)
        raise AssertionError("a revoked grant still allowed a payment")
    except AccessDeniedError:
        assert svc.event_count() == before

    pay(svc, contoso, 300_000, d(2, 20), ((ct_jan, 300_000),))
    svc.write_off(ADMIN, m.WriteOff(idempotency_key=key(), invoice_id=ct_jan, amount_minor=4_500,
                                    reason="courier charge disputed", approved_by="pa@firm",
                                    written_off_on=d(3, 31)))
    svc.record_payment(ADMIN, m.RecordPayment(
        idempotency_key=key(), client_id=fabrikam, amount_minor=5_000_000, currency="USD",
        method="wire", reference="WIRE 9001", received_on=d(3, 25),
        allocations=(m.Allocation(invoice_id=fb_feb, amount_minor=5_000_000),)))

    # -- the figures, by hand (see the module docstring) ------------------------------------
    state = {i: svc.invoice_state(ADMIN, i) for i in (nw_jan, ct_jan, nw_feb, ct_feb, fb_feb)}
    assert [state[i]["total_minor"] for i in (nw_jan, ct_jan, nw_feb, ct_feb, fb_feb)] == [
        80_500, 404_500, 103_800, 400_000, 5_249_500]
    assert state[nw_jan]["open_balance_minor"] == 0
    assert state[nw_jan]["due_on"] == "2024-03-02"
    assert (state[nw_feb]["paid_minor"], state[nw_feb]["credited_minor"]) == (49_500, 4_300)
    assert state[ct_jan]["written_off_minor"] == 4_500
    assert state[ct_jan]["due_on"] == "2024-02-16"
    assert state[ct_feb]["status"] == "voided" and state[ct_feb]["open_balance_minor"] == 0
    assert svc.client_open_balance(ADMIN, northwind) == 50_000
    assert svc.client_unapplied_credit(ADMIN, northwind) == 20_000
    assert svc.client_open_balance(ADMIN, contoso) == 100_000
    assert svc.client_unapplied_credit(ADMIN, contoso) == 0
    assert svc.client_open_balance(ADMIN, fabrikam) == 249_500
    lines = svc.invoice(ADMIN, nw_jan).lines
    assert [(li.kind, li.minutes, li.rate_minor_per_hour, li.net_minor) for li in lines] == [
        ("time", 54, 45_000, 40_500), ("time", 12, 30_000, 5_000),
        ("expense", None, None, 35_000)]
    feb = svc.invoice(ADMIN, nw_feb).lines
    assert [(li.timekeeper_id, li.minutes, li.amount_minor) for li in feb] == [
        ("PA", 66, 52_800), ("AS", 102, 51_000)]
