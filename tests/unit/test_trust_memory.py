"""Trust accounting commands on the library's in-memory recorders: a client's money is
spent only from its own matter, never below zero, and firm money stays a cushion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from commands.service import BillingService
from commands.trust import models as t
from ledger.domain.trust import errors as te
from ledger.errors import LedgerError
from tests.support.billing import ADMIN, key
from tests.support.trust import bank_charge, d, deposit, disburse, firm_funds, firm_with_trust


def refused(svc: BillingService, error: type[LedgerError], action: Callable[[], object]) -> None:
    before = svc.event_count()
    with pytest.raises(error):
        action()
    assert svc.event_count() == before, "a refused command recorded events"


@pytest.fixture
def f(memory_service: BillingService) -> dict[str, Any]:
    books = firm_with_trust(memory_service)
    deposit(memory_service, books["account"], books["acme"], books["a1"], 100_000, d(3, 4),
            "DEP-1")
    return books


def test_money_is_spent_only_from_the_matter_that_holds_it(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    refused(svc, te.TrustOverdraftError,
            lambda: disburse(svc, acc, f["acme"], f["a1"], 100_001, d(3, 5), "1001"))
    refused(svc, te.TrustOverdraftError,
            lambda: disburse(svc, acc, f["acme"], f["a2"], 1, d(3, 5), "1002"))
    refused(svc, te.TrustOverdraftError,
            lambda: disburse(svc, acc, f["acme"], f["a1"], 10, d(3, 3), "1003"))
    disburse(svc, acc, f["acme"], f["a1"], 100_000, d(3, 5), "1004")
    refused(svc, te.TrustOverdraftError,
            lambda: disburse(svc, acc, f["acme"], f["a1"], 1, d(3, 6), "1005"))


def test_a_transfer_between_matters_moves_the_balance(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    result = svc.transfer_trust_between_matters(ADMIN, t.TransferTrustBetweenMatters(
        idempotency_key=key(), account_id=acc, from_matter_id=f["a1"], to_matter_id=f["a2"],
        amount_minor=40_000, client_consent_ref="LTR-1", consent_on=d(3, 9),
        transferred_on=d(3, 10)))
    assert (result["from_matter_balance_minor"], result["to_matter_balance_minor"]) == (
        60_000, 40_000)
    disburse(svc, acc, f["acme"], f["a2"], 40_000, d(3, 11), "1006")


def test_firm_money_only_up_to_the_cushion(f: dict[str, Any]) -> None:
    svc, acc = f["svc"], f["account"]
    refused(svc, te.TrustFirmFundsInsufficientError,
            lambda: bank_charge(svc, acc, 1_500, d(3, 31), "FEE"))
    refused(svc, te.TrustComminglingError, lambda: firm_funds(svc, acc, 10_001, d(3, 1), "FF"))
    firm_funds(svc, acc, 10_000, d(3, 1), "FF-1")
    bank_charge(svc, acc, 1_500, d(3, 31), "FEE")
