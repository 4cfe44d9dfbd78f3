"""A month of realistic trust activity, checked against hand-computed figures.

March 2024 on one IOLTA account (all amounts in cents):

    Mar  1  firm funds for bank charges              FF-1        +5,000  (firm ledger)
    Mar  4  Acme A1 retainer                         DEP-A1    +500,000
    Mar  5  Baker B2 flat-fee retainer               DEP-B2    +150,000
    Mar  6  Cole C1 cost advance (cheque)            DEP-C1    +200,000
    Mar  8  B2 first flat-fee instalment earned      TR-B2-1    -75,000
    Mar 11  DEP-C1 returned unpaid (NSF)             DEP-C1    -200,000
    Mar 12  Baker B1 settlement received             DEP-B1  +1,000,000
    Mar 15  B1 client's share, cheque 1001           1001      -650,000
    Mar 15  B1 medical lien, cheque 1002             1002       -50,000  (outstanding)
    Mar 22  A1 invoice (10 h at 300.00) part paid    TR-A1-1   -200,000
    Mar 26  B1 invoice (5 h at 300.00) paid          TR-B1-1   -150,000
    Mar 28  A1 court filing fee, cheque 1003         1003       -35,000  (outstanding)
    Mar 29  A1 evergreen floor 400,000: request to refill to 500,000 (235,000)
    Mar 30  A1 replenishment                         DEP-A1-2  +100,000  (in transit)
    Mar 31  bank service fee                         FEE-0331    -1,500  (firm ledger)

Balances on 31 March: Acme 365,000 (A1), Baker 225,000 (B1 150,000, B2 75,000),
Cole 0; clients 590,000 + firm 3,500 = 593,500 = journal. Bank closes at
578,500; + deposit in transit 100,000 - outstanding cheques 85,000 = 593,500.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from commands import models as m
from commands.service import BillingService
from commands.trust import models as t
from ledger.domain.trust.errors import TrustPeriodClosedError
from ledger.store.firm import FirmStore
from projections.trust import reports as r
from projections.trust.books import load_books
from tests.support.billing import ADMIN, draft, issue, key, log, set_up_firm, timekeeper
from tests.support.trust import (
    bank_charge,
    d,
    deposit,
    disburse,
    firm_funds,
    onboard,
    open_matter,
    open_signed_account,
    statement,
    transfer,
)

MARCH_CSV = """date,description,amount_minor,reference
2024-03-01,Transfer from operating,5000,FF-1
2024-03-04,Deposit,500000,DEP-A1
2024-03-05,Deposit,150000,DEP-B2
2024-03-06,Deposit,200000,DEP-C1
2024-03-08,Transfer to operating,-75000,TR-B2-1
2024-03-11,Returned item NSF,-200000,DEP-C1
2024-03-12,Incoming wire,1000000,DEP-B1
2024-03-18,Cheque paid,-650000,1001
2024-03-22,Transfer to operating,-200000,TR-A1-1
2024-03-26,Transfer to operating,-150000,TR-B1-1
2024-03-31,Service fee,-1500,FEE-0331
"""

APRIL_CSV = """date,description,amount,reference
2024-04-01,Cheque paid,-500.00,1002
2024-04-02,Deposit,"1,000.00",DEP-A1-2
2024-04-02,Deposit,1350.00,DEP-A1-3
2024-04-02,Transfer to operating,-750.00,TR-B2-2
2024-04-03,Cheque paid,-350.00,1003
2024-04-12,Cheque paid,-1500.00,1004
2024-04-30,Service fee,-15.00,FEE-0430
"""


def record_march(svc: BillingService) -> dict[str, Any]:
    set_up_firm(svc)
    timekeeper(svc, "AB", 30_000)
    acme, baker, cole = onboard(svc, "Acme"), onboard(svc, "Baker"), onboard(svc, "Cole")
    a1, b1, c1 = open_matter(svc, acme), open_matter(svc, baker), open_matter(svc, cole)
    b2 = open_matter(svc, baker, m.FlatFeeTerms(amount_minor=150_000, instalments=(
        m.InstalmentTerms(due_on=d(3, 1), amount_minor=75_000),
        m.InstalmentTerms(due_on=d(4, 1), amount_minor=75_000))))
    acc = open_signed_account(svc)
    firm_funds(svc, acc, 5_000, d(3, 1), "FF-1")
    deposit(svc, acc, acme, a1, 500_000, d(3, 4), "DEP-A1")
    deposit(svc, acc, baker, b2, 150_000, d(3, 5), "DEP-B2")
    bounced = deposit(svc, acc, cole, c1, 200_000, d(3, 6), "DEP-C1", purpose="cost_advance")
    transfer(svc, acc, b2, 75_000, d(3, 8), "TR-B2-1", notice_on=d(3, 7))
    svc.reverse_trust_deposit(ADMIN, t.ReverseTrustDeposit(
        idempotency_key=key(), account_id=acc, deposit_id=bounced, reason="returned NSF",
        reversed_on=d(3, 11)))
    deposit(svc, acc, baker, b1, 1_000_000, d(3, 12), "DEP-B1", purpose="settlement")
    disburse(svc, acc, baker, b1, 650_000, d(3, 15), "1001")
    disburse(svc, acc, baker, b1, 50_000, d(3, 15), "1002")
    for day in range(1, 11):
        log(svc, a1, "AB", d(3, day), 60)
    inv_a1 = draft(svc, a1, d(3, 1), d(3, 15))
    issue(svc, inv_a1, d(3, 20))
    transfer(svc, acc, a1, 200_000, d(3, 22), "TR-A1-1", invoice=inv_a1, notice_on=d(3, 21))
    for day in range(16, 21):
        log(svc, b1, "AB", d(3, day), 60)
    inv_b1 = draft(svc, b1, d(3, 16), d(3, 20))
    issue(svc, inv_b1, d(3, 25))
    transfer(svc, acc, b1, 150_000, d(3, 26), "TR-B1-1", invoice=inv_b1)
    disburse(svc, acc, acme, a1, 35_000, d(3, 28), "1003")
    request = svc.request_trust_replenishment(ADMIN, t.RequestTrustReplenishment(
        idempotency_key=key(), account_id=acc, matter_id=a1, floor_minor=400_000,
        target_minor=500_000, due_on=d(4, 12), requested_on=d(3, 29)))
    assert request["requested_minor"] == 235_000
    deposit(svc, acc, acme, a1, 100_000, d(3, 30), "DEP-A1-2")
    bank_charge(svc, acc, 1_500, d(3, 31), "FEE-0331")
    statement(svc, acc, d(3, 1), d(3, 31), 0, 578_500, MARCH_CSV)
    return {"acc": acc, "acme": acme, "baker": baker, "cole": cole, "a1": a1, "b1": b1,
            "b2": b2, "c1": c1, "inv_a1": inv_a1, "inv_b1": inv_b1}


MARCH_FIGURES = {
    "bank_balance_minor": 578_500, "deposits_in_transit_minor": 100_000,
    "outstanding_checks_minor": 85_000, "adjusted_bank_minor": 593_500,
    "journal_minor": 593_500, "client_ledgers_minor": 590_000, "firm_ledger_minor": 3_500,
    "ledgers_total_minor": 593_500, "difference_bank_vs_journal_minor": 0,
    "difference_journal_vs_ledgers_minor": 0, "balanced": True,
}


def check_march(rec: dict[str, Any]) -> None:
    assert {k: rec[k] for k in MARCH_FIGURES} == MARCH_FIGURES
    assert [(i["reference"], i["amount_minor"]) for i in rec["outstanding_checks"]] == [
        ("1002", 50_000), ("1003", 35_000)]
    assert [(i["reference"], i["amount_minor"]) for i in rec["deposits_in_transit"]] == [
        ("DEP-A1-2", 100_000)]
    assert rec["unrecorded_bank_items"] == []


def test_a_month_of_trust_activity(service: BillingService,
                                   firm_store: FirmStore) -> None:
    f = record_march(service)
    books = load_books(firm_store)
    ledgers = r.client_ledgers(books, f["acc"], d(3, 31))
    by_client = {c["client_id"]: c for c in ledgers["clients"]}
    acme = by_client[str(f["acme"])]
    assert [(ln["reference"], ln["amount_minor"], ln["balance_minor"]) for ln in
            acme["lines"]] == [("DEP-A1", 500_000, 500_000), ("TR-A1-1", -200_000, 300_000),
                               ("1003", -35_000, 265_000), ("DEP-A1-2", 100_000, 365_000)]
    assert acme["lines"][0]["party"] == "Payor Person"
    baker = by_client[str(f["baker"])]
    assert baker["balance_minor"] == 225_000
    assert {mt["matter_id"]: mt["balance_minor"] for mt in baker["matters"]} == {
        str(f["b1"]): 150_000, str(f["b2"]): 75_000}
    cole = by_client[str(f["cole"])]
    assert [(ln["kind"], ln["balance_minor"]) for ln in cole["lines"]] == [
        ("deposit", 200_000), ("deposit_reversed", 0)]
    assert not any(c["negative"] for c in ledgers["clients"])

    j = r.journals(books, f["acc"], d(3, 1), d(3, 31))
    assert j["receipts_total_minor"] == 5_000 + 500_000 + 150_000 + 200_000 - 200_000 \
        + 1_000_000 + 100_000 == 1_755_000
    assert j["disbursements_total_minor"] == 75_000 + 650_000 + 50_000 + 200_000 \
        + 150_000 + 35_000 + 1_500 == 1_161_500
    assert j["closing_balance_minor"] == 593_500
    assert [x["amount_minor"] for x in j["firm_ledger"]] == [5_000, -1_500]
    assert j["firm_ledger_balance_minor"] == 3_500

    trial = r.trial_balance(books, f["acc"], d(3, 31))
    assert (trial["client_ledgers_minor"], trial["firm_ledger_minor"],
            trial["journal_minor"], trial["difference_minor"]) == (590_000, 3_500, 593_500, 0)

    check_march(r.three_way(books, f["acc"], d(3, 31)))

    # the two transfers against invoices moved receivables in the same transaction
    a1_invoice = service.invoice_state(ADMIN, f["inv_a1"])
    assert (a1_invoice["total_minor"], a1_invoice["paid_minor"],
            a1_invoice["open_balance_minor"]) == (300_000, 200_000, 100_000)
    assert service.invoice_state(ADMIN, f["inv_b1"])["open_balance_minor"] == 0
    assert [(p.amount_minor, p.unapplied_minor) for p in
            service.payments(ADMIN, f["baker"])] == [(150_000, 0)]
    assert sorted(p.amount_minor for p in books.trust_payments.values()) == [150_000, 200_000]

    green = r.evergreen(books, d(3, 31))["matters"]
    assert [(g["floor_minor"], g["balance_minor"], g["shortfall_minor"],
             g["received_since_minor"], g["request_open"]) for g in green] == [
        (400_000, 365_000, 35_000, 100_000, True)]

    exc = r.exceptions(books, d(3, 31))
    assert exc["negative_balances"] == exc["unidentified_funds"] == []
    assert exc["transfers_without_notice"] == exc["trust_payments_without_transfer"] == []


def test_march_reconciliation_rerun_after_april_gives_march(
        service: BillingService, firm_store: FirmStore) -> None:
    f = record_march(service)
    signed = service.complete_trust_reconciliation(ADMIN, t.CompleteTrustReconciliation(
        idempotency_key=key(), account_id=f["acc"], period_end=d(3, 31), signed_on=d(4, 5)))
    assert (signed["adjusted_bank_minor"], signed["outstanding_items"]) == (593_500, 3)
    after_march = datetime.now(UTC)
    with pytest.raises(TrustPeriodClosedError):
        deposit(service, f["acc"], f["acme"], f["a1"], 1_000, d(3, 31), "LATE")
    deposit(service, f["acc"], f["acme"], f["a1"], 135_000, d(4, 2), "DEP-A1-3")
    transfer(service, f["acc"], f["b2"], 75_000, d(4, 2), "TR-B2-2", notice_on=d(4, 1))
    disburse(service, f["acc"], f["baker"], f["b1"], 150_000, d(4, 10), "1004")
    bank_charge(service, f["acc"], 1_500, d(4, 30), "FEE-0430")
    statement(service, f["acc"], d(4, 1), d(4, 30), 578_500, 502_000, APRIL_CSV)

    live = r.three_way(load_books(firm_store), f["acc"], d(3, 31))
    check_march(live)
    assert live["signed"] is not None and live["signed"]["signed_by"] == ADMIN.id
    as_of = r.three_way(load_books(firm_store, after_march), f["acc"], d(3, 31))
    check_march(as_of)
    assert as_of["position"] < live["position"]

    april = r.three_way(load_books(firm_store), f["acc"], d(4, 30))
    assert (april["bank_balance_minor"], april["adjusted_bank_minor"], april["journal_minor"],
            april["client_ledgers_minor"], april["firm_ledger_minor"], april["balanced"]) == (
        502_000, 502_000, 502_000, 500_000, 2_000, True)
    assert april["outstanding_checks"] == april["deposits_in_transit"] == []
    green = r.evergreen(load_books(firm_store), d(4, 30))["matters"]
    assert (green[0]["received_since_minor"], green[0]["request_open"],
            green[0]["below_floor"]) == (235_000, False, False)
