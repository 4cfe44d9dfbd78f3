"""Every trust rule refused with its own error type, and nothing recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import pytest

from commands import models as m
from commands.auth import Principal
from commands.errors import AccessDeniedError, InvalidCommandError
from commands.service import BillingService
from commands.trust import models as t
from ledger.domain import errors as e
from ledger.domain.trust import errors as te
from ledger.errors import LedgerError
from tests.support.billing import ADMIN, draft, issue, key, log
from tests.support.trust import (
    bank_charge,
    d,
    deposit,
    disburse,
    firm_funds,
    firm_with_trust,
    open_matter,
    statement,
    transfer,
)

CLERK = Principal(id="clerk@firm", roles=frozenset({"billing_clerk"}))


@pytest.fixture
def f(service: BillingService) -> Iterator[dict[str, Any]]:
    books = firm_with_trust(service)
    deposit(service, books["account"], books["acme"], books["a1"], 100_000, d(3, 4), "DEP-1")
    yield books


def refused(svc: BillingService, error: type[LedgerError], action: Callable[[], object],
            field: str | None = None) -> LedgerError:
    before = svc.event_count()
    with pytest.raises(error) as raised:
        action()
    assert type(raised.value) is error, f"{type(raised.value).__name__} is not {error}"
    assert raised.value.type and raised.value.message
    assert "Payor Person" not in raised.value.message
    assert "Payee Person" not in raised.value.message
    if field:
        assert raised.value.field == field
    assert svc.event_count() == before, "a refused command recorded events"
    return raised.value


def test_every_error_type_has_its_own_slug() -> None:
    classes = [c for c in vars(te).values() if isinstance(c, type)
               and issubclass(c, LedgerError) and c.__module__ == te.__name__]
    slugs = [c.type for c in classes]
    assert len(slugs) == len(set(slugs)) >= 20
    assert all(s.startswith("trust-") for s in slugs if s != "unauthorised-signer")


def test_overdrafts_of_matter_and_client_are_refused(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    refused(svc, te.TrustOverdraftError, lambda: disburse(
        svc, acc, f["acme"], f["a1"], 100_001, d(3, 5), "1001"), "amount_minor")
    # the client holds money on a1 only: a2 cannot spend it
    refused(svc, te.TrustOverdraftError, lambda: disburse(
        svc, acc, f["acme"], f["a2"], 1, d(3, 5), "1002"))
    # a back-dated cheque may not overdraw a day before the money arrived
    refused(svc, te.TrustOverdraftError, lambda: disburse(
        svc, acc, f["acme"], f["a1"], 10, d(3, 3), "1003"))
    disburse(svc, acc, f["acme"], f["a1"], 100_000, d(3, 5), "1004")


def test_a_deposit_reversal_that_would_overdraw_is_refused(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    dep = deposit(svc, acc, f["baker"], f["b1"], 50_000, d(3, 6), "DEP-2")
    disburse(svc, acc, f["baker"], f["b1"], 30_000, d(3, 7), "1001")
    reverse = t.ReverseTrustDeposit(idempotency_key=key(), account_id=acc, deposit_id=dep,
                                    reason="returned NSF", reversed_on=d(3, 8))
    refused(svc, te.TrustOverdraftError, lambda: svc.reverse_trust_deposit(ADMIN, reverse))
    refused(svc, te.TrustDepositNotFoundError, lambda: svc.reverse_trust_deposit(
        ADMIN, t.ReverseTrustDeposit(idempotency_key=key(), account_id=acc,
                                     deposit_id=uuid4(), reason="returned NSF",
                                     reversed_on=d(3, 8))))
    ok = deposit(svc, acc, f["baker"], f["b1"], 5_000, d(3, 9), "DEP-3")
    undo = {"account_id": acc, "deposit_id": ok, "reason": "returned NSF",
            "reversed_on": d(3, 10)}
    svc.reverse_trust_deposit(ADMIN, t.ReverseTrustDeposit(idempotency_key=key(), **undo))
    refused(svc, te.TrustDepositReversedError, lambda: svc.reverse_trust_deposit(
        ADMIN, t.ReverseTrustDeposit(idempotency_key=key(), **undo)))


def test_commingling_and_bank_charges(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    refused(svc, te.TrustFirmFundsInsufficientError,
            lambda: bank_charge(svc, acc, 1_500, d(3, 31), "FEE"))
    refused(svc, te.TrustComminglingError,
            lambda: firm_funds(svc, acc, 10_001, d(3, 1), "FF-1"))
    firm_funds(svc, acc, 10_000, d(3, 1), "FF-1")
    refused(svc, te.TrustComminglingError, lambda: firm_funds(svc, acc, 1, d(3, 2), "FF-2"))
    bank_charge(svc, acc, 1_500, d(3, 31), "FEE")
    refused(svc, AccessDeniedError, lambda: svc.deposit_firm_funds(CLERK, t.DepositFirmFunds(
        idempotency_key=key(), account_id=acc, amount_minor=1, reference="FF-3",
        deposited_on=d(4, 1))))


def test_transfers_to_operating_need_an_invoice_or_an_earned_fee_and_notice(
        f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    refused(svc, te.TrustFeeNotEarnedError,
            lambda: transfer(svc, acc, f["a1"], 10_000, d(3, 10), "TR-1"), "amount_minor")
    log(svc, f["a1"], "AB", d(3, 5), 60)
    invoice = draft(svc, f["a1"], d(3, 1), d(3, 9))
    refused(svc, te.TrustTransferBasisError, lambda: transfer(
        svc, acc, f["a1"], 10_000, d(3, 10), "TR-1", invoice=invoice), "invoice_id")
    issue(svc, invoice, d(3, 10))
    refused(svc, te.TrustTransferBasisError, lambda: transfer(
        svc, acc, f["a2"], 10_000, d(3, 11), "TR-1", invoice=invoice), "invoice_id")
    refused(svc, e.AllocationExceedsBalanceError, lambda: transfer(
        svc, acc, f["a1"], 30_001, d(3, 11), "TR-1", invoice=invoice))
    refused(svc, te.TrustNoticeMissingError, lambda: transfer(
        svc, acc, f["a1"], 10_000, d(3, 11), "TR-1", invoice=invoice, notice_on=d(3, 12)),
        "client_notice_sent_on")
    no_notice = t.TransferTrustToOperating(
        idempotency_key=key(), account_id=acc, matter_id=f["a1"], amount_minor=10_000,
        invoice_id=invoice, reference="TR-1", transferred_on=d(3, 11))
    refused(svc, te.TrustNoticeReferenceMissingError,
            lambda: svc.transfer_trust_to_operating(ADMIN, no_notice), "notice_reference")
    no_reference = no_notice.model_copy(update={"client_notice_sent_on": d(3, 10)})
    refused(svc, te.TrustNoticeReferenceMissingError,
            lambda: svc.transfer_trust_to_operating(ADMIN, no_reference), "notice_reference")
    transfer(svc, acc, f["a1"], 30_000, d(3, 11), "TR-1", invoice=invoice)
    assert svc.invoice_state(ADMIN, invoice)["open_balance_minor"] == 0


def test_flat_fee_transfers_take_only_what_is_earned(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    flat = open_matter(svc, f["acme"], m.FlatFeeTerms(amount_minor=60_000, instalments=(
        m.InstalmentTerms(due_on=d(3, 10), amount_minor=20_000),
        m.InstalmentTerms(due_on=d(4, 10), amount_minor=40_000))))
    deposit(svc, acc, f["acme"], flat, 60_000, d(3, 5), "DEP-F")
    refused(svc, te.TrustFeeNotEarnedError,
            lambda: transfer(svc, acc, flat, 1, d(3, 9), "TR-F0"))
    transfer(svc, acc, flat, 15_000, d(3, 10), "TR-F1")
    refused(svc, te.TrustFeeNotEarnedError,
            lambda: transfer(svc, acc, flat, 5_001, d(3, 11), "TR-F2"))
    transfer(svc, acc, flat, 45_000, d(4, 10), "TR-F3")


def test_disputed_funds_stay_in_trust(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    dispute = svc.dispute_trust_funds(ADMIN, t.DisputeTrustFunds(
        idempotency_key=key(), account_id=acc, matter_id=f["a1"], amount_minor=60_000,
        reason="client disputes the fee", disputed_on=d(3, 6)))
    refused(svc, te.TrustDisputeExceedsBalanceError, lambda: svc.dispute_trust_funds(
        ADMIN, t.DisputeTrustFunds(idempotency_key=key(), account_id=acc, matter_id=f["a1"],
                                   amount_minor=40_001, reason="second claim",
                                   disputed_on=d(3, 6))))
    refused(svc, te.TrustFundsDisputedError,
            lambda: disburse(svc, acc, f["acme"], f["a1"], 40_001, d(3, 7), "1001"))
    disburse(svc, acc, f["acme"], f["a1"], 40_000, d(3, 7), "1001")
    resolve = {"account_id": acc, "dispute_id": dispute["dispute_id"],
               "resolution": "settled with the client", "resolved_on": d(3, 8)}
    svc.resolve_trust_dispute(ADMIN, t.ResolveTrustDispute(idempotency_key=key(), **resolve))
    refused(svc, te.TrustDisputeNotFoundError, lambda: svc.resolve_trust_dispute(
        ADMIN, t.ResolveTrustDispute(idempotency_key=key(), **resolve)))
    disburse(svc, acc, f["acme"], f["a1"], 60_000, d(3, 9), "1002")


def test_transfers_between_matters_need_consent(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]

    def move(amount: int, to: Any, consent: str | None, on: Any = None) -> Any:
        return svc.transfer_trust_between_matters(ADMIN, t.TransferTrustBetweenMatters(
            idempotency_key=key(), account_id=acc, from_matter_id=f["a1"], to_matter_id=to,
            amount_minor=amount, client_consent_ref=consent, consent_on=on or d(3, 9),
            transferred_on=d(3, 10)))

    refused(svc, te.TrustConsentMissingError, lambda: move(1_000, f["a2"], None),
            "client_consent_ref")
    refused(svc, te.TrustConsentMissingError, lambda: move(1_000, f["a2"], "LTR-1", d(3, 11)))
    refused(svc, te.TrustSameMatterError, lambda: move(1_000, f["a1"], "LTR-1"))
    refused(svc, te.TrustOverdraftError, lambda: move(100_001, f["a2"], "LTR-1"))
    result = move(40_000, f["a2"], "LTR-1")
    assert (result["from_matter_balance_minor"], result["to_matter_balance_minor"]) == (
        60_000, 40_000)


def test_wires_need_an_authorisation_memo(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    refused(svc, te.TrustWireUnauthorisedError, lambda: disburse(
        svc, acc, f["acme"], f["a1"], 1_000, d(3, 5), "W-1", method="wire"),
        "authorisation_memo")
    disburse(svc, acc, f["acme"], f["a1"], 1_000, d(3, 5), "W-1", method="wire", memo="M-1")


def test_replenishment_only_below_the_floor(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]

    def ask(floor: int) -> Any:
        return svc.request_trust_replenishment(ADMIN, t.RequestTrustReplenishment(
            idempotency_key=key(), account_id=acc, matter_id=f["a1"], floor_minor=floor,
            due_on=d(3, 20), requested_on=d(3, 10)))

    refused(svc, te.TrustReplenishmentNotDueError, lambda: ask(100_000), "floor_minor")
    assert ask(150_000)["requested_minor"] == 50_000


def test_statements_and_reconciliation_rules(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    good = "date,description,amount_minor,reference\n2024-03-04,Deposit,100000,DEP-1\n"
    refused(svc, te.TrustStatementUnbalancedError, lambda: statement(
        svc, acc, d(3, 1), d(3, 31), 0, 99_999, good), "closing_balance_minor")
    refused(svc, te.TrustStatementFormatError, lambda: statement(
        svc, acc, d(3, 1), d(3, 31), 0, 1, "date,amount_minor,reference\n2024-03-04,1.5,X\n"),
        "csv")
    refused(svc, te.TrustStatementFormatError, lambda: statement(
        svc, acc, d(3, 1), d(3, 31), 0, 1, "date,amount,reference\n2024-03-04,0.001,X\n"))
    refused(svc, te.TrustStatementFormatError, lambda: statement(
        svc, acc, d(3, 1), d(3, 31), 0, 1, "date,amount_minor,reference\n2024-04-04,1,X\n"))

    def sign(end: Any) -> Any:
        return svc.complete_trust_reconciliation(ADMIN, t.CompleteTrustReconciliation(
            idempotency_key=key(), account_id=acc, period_end=end, signed_on=d(4, 2)))

    refused(svc, te.TrustStatementNotFoundError, lambda: sign(d(3, 31)), "period_end")
    unidentified = good + "2024-03-20,Unknown credit,2500,XX\n"
    statement(svc, acc, d(3, 1), d(3, 31), 0, 102_500, unidentified)
    refused(svc, te.TrustReconciliationUnbalancedError, lambda: sign(d(3, 31)))
    statement(svc, acc, d(3, 1), d(3, 31), 0, 100_000, good)
    sign(d(3, 31))
    refused(svc, te.TrustPeriodClosedError, lambda: sign(d(3, 31)))
    refused(svc, te.TrustPeriodClosedError, lambda: disburse(
        svc, acc, f["acme"], f["a1"], 1, d(3, 30), "1009"))
    refused(svc, te.TrustPeriodClosedError, lambda: statement(
        svc, acc, d(3, 1), d(3, 31), 0, 100_000, good))


def test_grants_and_validation(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    refused(svc, AccessDeniedError, lambda: deposit(
        svc, acc, f["acme"], f["a1"], 1_000, d(3, 5), "DEP-9", who=CLERK))
    svc.grant_access(ADMIN, m.GrantAccess(
        idempotency_key=key(), principal_id=CLERK.id, scope="client", scope_id=f["acme"],
        role="billing_clerk", reason="trust clerk for Acme"))
    deposit(svc, acc, f["acme"], f["a1"], 1_000, d(3, 5), "DEP-9", who=CLERK)
    refused(svc, AccessDeniedError, lambda: disburse(
        svc, acc, f["baker"], f["b1"], 1, d(3, 5), "1001", who=CLERK))
    refused(svc, e.ClientMismatchError, lambda: deposit(
        svc, acc, f["baker"], f["a1"], 1_000, d(3, 5), "DEP-10"))
    refused(svc, te.TrustAccountNotFoundError, lambda: deposit(
        svc, uuid4(), f["acme"], f["a1"], 1_000, d(3, 5), "DEP-11"))
    with pytest.raises(InvalidCommandError):
        t_parse = {"idempotency_key": key(), "account_id": str(acc),
                   "client_id": str(f["acme"]), "matter_id": str(f["a1"]),
                   "amount_minor": 10.5, "currency": "USD", "payor": "P",
                   "purpose": "retainer", "reference": "R", "received_on": "2024-03-05"}
        m.parse(t.RecordTrustDeposit, t_parse)
    with pytest.raises(InvalidCommandError):
        m.parse(t.RecordTrustDeposit, {**t_parse, "amount_minor": 1, "purpose": "fees"})
    refused(svc, e.CurrencyMismatchError, lambda: svc.record_trust_deposit(
        ADMIN, t.RecordTrustDeposit(**{**t_parse, "amount_minor": 1, "currency": "EUR"})))
