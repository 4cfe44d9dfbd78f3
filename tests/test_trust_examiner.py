"""Findings of an examiner's check of the trust books (issue #18), each refused with its
own error type and nothing recorded, or reported where the examiner looks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from uuid import UUID

import pytest

from commands import models as m
from commands.service import BillingService
from commands.trust import models as t
from ledger.domain.trust import errors as te
from ledger.errors import LedgerError
from ledger.store.firm import FirmStore
from projections.trust import reports as r
from projections.trust.books import load_books
from tests.support.billing import ADMIN, draft, issue, key, log
from tests.support.trust import d, deposit, disburse, firm_with_trust


@pytest.fixture
def f(service: BillingService) -> Iterator[dict[str, Any]]:
    books = firm_with_trust(service)
    deposit(service, books["account"], books["acme"], books["a1"], 100_000, d(3, 4), "DEP-A1")
    yield books


def refused(svc: BillingService, error: type[LedgerError], action: Callable[[], object],
            field: str) -> LedgerError:
    before = svc.event_count()
    with pytest.raises(error) as raised:
        action()
    assert type(raised.value) is error, f"{type(raised.value).__name__} is not {error}"
    assert raised.value.field == field
    assert svc.event_count() == before, "a refused command recorded events"
    return raised.value


def between(f: dict[str, Any], source: UUID, target: UUID, amount: int, **extra: Any) -> Any:
    return f["svc"].transfer_trust_between_matters(ADMIN, t.TransferTrustBetweenMatters(
        idempotency_key=key(), account_id=f["account"], from_matter_id=source,
        to_matter_id=target, amount_minor=amount, client_consent_ref="C-1",
        consent_on=d(5, 1), transferred_on=d(5, 2), **extra))


def test_one_clients_money_goes_to_another_only_on_direction_and_admin_approval(
        f: dict[str, Any], firm_store: FirmStore) -> None:
    svc, acme, baker = f["svc"], f["acme"], f["baker"]
    refused(svc, te.TrustCrossClientTransferError,
            lambda: between(f, f["a1"], f["b1"], 1_000), "direction_ref")
    refused(svc, te.TrustCrossClientTransferError, lambda: between(
        f, f["a1"], f["b1"], 1_000, direction_ref="DIR-1", direction_on=d(5, 3),
        approved_by=ADMIN.id), "direction_ref")  # directed after the transfer
    for approver in (None, "partner@firm", "NOBODY"):  # none, a signer not admin, unknown
        refused(svc, te.TrustCrossClientTransferError, lambda a=approver: between(
            f, f["a1"], f["b1"], 1_000, direction_ref="DIR-1", direction_on=d(5, 1),
            approved_by=a), "approved_by")
    done = between(f, f["a1"], f["b1"], 1_000, direction_ref="DIR-1", direction_on=d(5, 1),
                   approved_by=ADMIN.id)
    assert (done["from_matter_balance_minor"], done["to_matter_balance_minor"]) == (
        99_000, 1_000)
    between(f, f["a1"], f["a2"], 500)  # the same client's matters: consent is enough

    books = load_books(firm_store)
    ledgers = {c["client_id"]: c for c in r.client_ledgers(books, f["account"], d(5, 31))[
        "clients"]}
    assert (ledgers[str(acme)]["client_name"], ledgers[str(baker)]["client_name"]) == (
        "Acme", "Baker")
    out = [ln for ln in ledgers[str(acme)]["lines"] if ln.get("cross_client")]
    into = [ln for ln in ledgers[str(baker)]["lines"] if ln.get("cross_client")]
    assert [(ln["kind"], ln["amount_minor"], ln["direction_ref"], ln["approved_by"])
            for ln in out + into] == [("transfer_out", -1_000, "DIR-1", ADMIN.id),
                                      ("transfer_in", 1_000, "DIR-1", ADMIN.id)]
    assert out[0]["to_client_id"] == str(baker) and into[0]["from_client_id"] == str(acme)
    listed = r.exceptions(books, d(5, 31))["transfers_between_clients"]
    assert [(x["client_id"], x["amount_minor"]) for x in listed] == [(str(acme), -1_000)]


def test_an_invoice_is_paid_from_trust_only_by_moving_trust_money(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    log(svc, f["a1"], "AB", d(3, 5), 60)
    invoice = draft(svc, f["a1"], d(3, 1), d(3, 9))
    issue(svc, invoice, d(3, 10))
    error = refused(svc, te.TrustPaymentWithoutTransferError,
                    lambda: svc.record_payment(ADMIN, m.RecordPayment(
                        idempotency_key=key(), client_id=f["acme"], amount_minor=30_000,
                        currency="USD", method="trust", reference="IOLTA 1",
                        received_on=d(3, 11), allocations=(m.Allocation(
                            invoice_id=invoice, amount_minor=30_000),))), "method")
    assert "trust to-operating" in error.message
    paid = svc.transfer_trust_to_operating(ADMIN, t.TransferTrustToOperating(
        idempotency_key=key(), account_id=acc, matter_id=f["a1"], amount_minor=30_000,
        invoice_id=invoice, reference="TR-1", client_notice_sent_on=d(3, 10),
        notice_reference="N-1", transferred_on=d(3, 11)))
    assert paid["matter_balance_minor"] == 70_000 and paid["invoice_open_minor"] == 0
    assert svc.invoice_state(ADMIN, invoice)["open_balance_minor"] == 0


def test_money_out_and_signing_need_a_current_authorised_signer(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    refused(svc, te.TrustUnauthorisedSignerError, lambda: svc.record_trust_disbursement(
        ADMIN, t.RecordTrustDisbursement(
            idempotency_key=key(), account_id=acc, client_id=f["acme"], matter_id=f["a1"],
            amount_minor=1_000, currency="USD", payee="Payee Person", purpose="fees",
            method="check", reference="CHK-1001", authorised_by="NOBODY",
            paid_on=d(3, 5))), "authorised_by")
    disburse(svc, acc, f["acme"], f["a1"], 1_000, d(3, 5), "CHK-1001")  # partner@firm signs
    svc.remove_trust_signer(ADMIN, t.RemoveTrustSigner(
        idempotency_key=key(), account_id=acc, principal_id="partner@firm",
        removed_on=d(3, 6)))
    refused(svc, te.TrustUnauthorisedSignerError,
            lambda: disburse(svc, acc, f["acme"], f["a1"], 1_000, d(3, 7), "CHK-1002"),
            "authorised_by")
    refused(svc, te.TrustSignerNotFoundError, lambda: svc.remove_trust_signer(
        ADMIN, t.RemoveTrustSigner(idempotency_key=key(), account_id=acc,
                                   principal_id="partner@firm", removed_on=d(3, 8))),
            "principal_id")
    refused(svc, te.TrustUnauthorisedSignerError, lambda: svc.transfer_trust_between_matters(
        ADMIN, t.TransferTrustBetweenMatters(
            idempotency_key=key(), account_id=acc, from_matter_id=f["a1"],
            to_matter_id=f["a2"], amount_minor=1_000, client_consent_ref="C-1",
            consent_on=d(3, 8), authorised_by="partner@firm", transferred_on=d(3, 8))),
            "authorised_by")
    refused(svc, te.TrustUnauthorisedSignerError, lambda: svc.transfer_trust_to_operating(
        ADMIN, t.TransferTrustToOperating(
            idempotency_key=key(), account_id=acc, matter_id=f["a1"], amount_minor=1_000,
            reference="TR-1", client_notice_sent_on=d(3, 8), notice_reference="N-1",
            authorised_by="NOBODY", transferred_on=d(3, 8))), "authorised_by")
    outsider = ADMIN.model_copy(update={"id": "other-admin@firm"})
    refused(svc, te.TrustUnauthorisedSignerError, lambda: svc.complete_trust_reconciliation(
        outsider, t.CompleteTrustReconciliation(
            idempotency_key=key(), account_id=acc, period_end=d(3, 31), signed_on=d(4, 2))),
            "signed_by")


def test_cheque_numbers_and_deposit_references_are_used_once(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    disburse(svc, acc, f["acme"], f["a1"], 1_000, d(3, 5), "CHK-1002")
    refused(svc, te.TrustDuplicateCheckError,
            lambda: disburse(svc, acc, f["acme"], f["a1"], 2_000, d(3, 6), "CHK-1002"),
            "reference")
    refused(svc, te.TrustDuplicateDepositError,
            lambda: deposit(svc, acc, f["baker"], f["b1"], 5_000, d(3, 6), "DEP-A1"),
            "reference")
    disburse(svc, acc, f["acme"], f["a1"], 2_000, d(3, 6), "WIRE-1", method="wire",
             memo="MEMO-1")


def test_a_dispute_hold_is_bounded_by_the_matters_balance_on_its_date(
        f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]

    def hold(amount: int, on: date) -> Any:
        return svc.dispute_trust_funds(ADMIN, t.DisputeTrustFunds(
            idempotency_key=key(), account_id=acc, matter_id=f["a1"], amount_minor=amount,
            reason="fee dispute", disputed_on=on))

    refused(svc, te.TrustDisputeExceedsBalanceError, lambda: hold(1, d(3, 3)), "amount_minor")
    refused(svc, te.TrustDisputeExceedsBalanceError, lambda: hold(100_001, d(3, 5)),
            "amount_minor")
    assert hold(60_000, d(3, 5))["held_minor"] == 60_000
    refused(svc, te.TrustDisputeExceedsBalanceError, lambda: hold(40_001, d(3, 6)),
            "amount_minor")


def test_a_deposit_returned_after_use_shows_the_shortfall_until_the_firm_covers_it(
        f: dict[str, Any], firm_store: FirmStore) -> None:
    svc, acc = f["svc"], f["account"]
    dep = UUID(str(r.client_ledgers(load_books(firm_store), acc, d(3, 31))["clients"][0][
        "lines"][0]["entry_id"]))
    disburse(svc, acc, f["acme"], f["a1"], 60_000, d(3, 5), "CHK-2001")

    def reverse(after_use: bool) -> Any:
        return svc.reverse_trust_deposit(ADMIN, t.ReverseTrustDeposit(
            idempotency_key=key(), account_id=acc, deposit_id=dep, reason="returned NSF",
            after_use=after_use, reversed_on=d(3, 8)))

    def cover(amount: int) -> Any:
        return svc.cover_trust_shortfall(ADMIN, t.CoverTrustShortfall(
            idempotency_key=key(), account_id=acc, matter_id=f["a1"], amount_minor=amount,
            reference="FIRM-COVER-1", covered_on=d(3, 9)))

    refused(svc, te.TrustCoverExceedsShortfallError, lambda: cover(1), "amount_minor")
    refused(svc, te.TrustOverdraftError, lambda: reverse(False), "amount_minor")
    assert reverse(True)["matter_balance_minor"] == -60_000
    refused(svc, te.TrustOverdraftError,
            lambda: disburse(svc, acc, f["acme"], f["a1"], 1, d(3, 9), "CHK-2002"),
            "amount_minor")
    flagged = r.exceptions(load_books(firm_store), d(3, 31))["negative_balances"]
    assert [(x["kind"], x["balance_minor"]) for x in flagged] == [("deposit_reversed", -60_000)]
    refused(svc, te.TrustCoverExceedsShortfallError, lambda: cover(60_001), "amount_minor")
    assert cover(60_000)["client_balance_minor"] == 0
    books = load_books(firm_store)
    ledger = r.client_ledgers(books, acc, d(3, 31))["clients"][0]
    assert [(ln["kind"], ln["balance_minor"]) for ln in ledger["lines"]] == [
        ("deposit", 100_000), ("disbursement", 40_000), ("deposit_reversed", -60_000),
        ("firm_cover", 0)]
    assert r.trial_balance(books, acc, d(3, 31))["difference_minor"] == 0
