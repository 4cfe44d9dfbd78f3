"""Concurrent trust commands: together they never overdraw a client.

Each racer has its own ``BillingService`` (its own connection pool), as two
clerks at two terminals would; every disbursement and transfer serialises on
the trust account aggregate's version, and the loser re-checks and is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

import pytest

from commands.service import BillingService
from ledger.domain.trust.errors import TrustOverdraftError
from ledger.store.firm import FirmStore
from projections.trust import reports as r
from projections.trust.books import load_books
from tests.support.billing import ADMIN, draft, issue, log
from tests.support.threads import run_together
from tests.support.trust import d, deposit, disburse, firm_with_trust, transfer

THREADS = 6


@pytest.fixture
def racers(firm_store: FirmStore) -> Iterator[list[BillingService]]:
    services = [BillingService(firm_store) for _ in range(THREADS)]
    try:
        yield services
    finally:
        for svc in services:
            svc.close()


def _balance(store: FirmStore, f: dict[str, Any]) -> int:
    ledgers = r.client_ledgers(load_books(store), f["account"], d(12, 31), f["acme"])
    assert not ledgers["clients"][0]["negative"]
    return int(ledgers["clients"][0]["balance_minor"])


def test_two_disbursements_that_together_overdraw_one_is_refused(
        service: BillingService, firm_store: FirmStore,
        racers: list[BillingService]) -> None:
    f = firm_with_trust(service)
    deposit(service, f["account"], f["acme"], f["a1"], 100_000, d(3, 4), "DEP-1")
    for attempt in range(3):
        actions: list[Callable[[], Any]] = [
            (lambda svc=svc, n=n, a=attempt: disburse(svc, f["account"], f["acme"], f["a1"],
                                                      60_000, d(3, 10 + a), f"C-{a}-{n}"))
            for n, svc in enumerate(racers[:2])]
        results = run_together(actions)
        accepted = [x for x in results if not isinstance(x, Exception)]
        assert len(accepted) == 1, results
        assert all(isinstance(x, TrustOverdraftError) for x in results if x not in accepted)
        assert _balance(firm_store, f) == 40_000
        deposit(service, f["account"], f["acme"], f["a1"], 60_000, d(3, 10 + attempt),
                f"DEP-R{attempt}")


def test_many_racing_outflows_take_at_most_the_balance(
        service: BillingService, firm_store: FirmStore,
        racers: list[BillingService]) -> None:
    f = firm_with_trust(service)
    deposit(service, f["account"], f["acme"], f["a1"], 100_000, d(3, 4), "DEP-1")
    log(service, f["a1"], "AB", d(3, 4), 600)
    invoice = draft(service, f["a1"], d(3, 1), d(3, 4))
    issue(service, invoice, d(3, 5))
    actions: list[Callable[[], Any]] = []
    for n, svc in enumerate(racers):
        if n % 2:
            actions.append(lambda svc=svc, n=n: disburse(
                svc, f["account"], f["acme"], f["a1"], 30_000, d(3, 6), f"C-{n}"))
        else:
            actions.append(lambda svc=svc, n=n: transfer(
                svc, f["account"], f["a1"], 30_000, d(3, 6), f"TR-{n}", invoice=invoice))
    results = run_together(actions)
    accepted = [x for x in results if not isinstance(x, Exception)]
    assert len(accepted) == 3, results
    assert all(isinstance(x, TrustOverdraftError) for x in results if x not in accepted)
    assert _balance(firm_store, f) == 10_000
    paid = service.invoice_state(ADMIN, invoice)["paid_minor"]
    transfers = sum(1 for x in accepted if not isinstance(x, UUID))
    assert paid == 30_000 * transfers
