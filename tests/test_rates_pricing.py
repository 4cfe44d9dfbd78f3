"""Drafting an invoice and the WIP report price the same entries by the one rate rule."""

from __future__ import annotations

from datetime import date

import pytest

from commands import models as m
from commands.service import BillingService
from ledger.domain.errors import RateNotSetError
from projections.query import wip_report
from tests.support.billing import ADMIN, client, draft, key, log, matter, set_up_firm, timekeeper


def test_an_invoice_and_wip_price_the_same_entries_alike(service: BillingService) -> None:
    set_up_firm(service)
    timekeeper(service, "PA", 50_000)
    timekeeper(service, "AS", 30_000)
    usd = matter(service, client(service))
    service.set_rate(ADMIN, m.SetRate(idempotency_key=key(), matter_id=usd, timekeeper_id="PA",
                                      rate_minor_per_hour=45_000,
                                      effective_from=date(2024, 2, 1)))
    for tk, on, minutes in (("PA", date(2024, 1, 15), 60), ("PA", date(2024, 2, 15), 42),
                            ("AS", date(2024, 2, 16), 30)):
        log(service, usd, tk, on, minutes)
    eur = matter(service, client(service, currency="EUR"))
    log(service, eur, "PA", date(2024, 2, 1), 60)

    wip = {(r["matter_id"], r["timekeeper_id"]): r for r in wip_report(service.store)["rows"]}
    # PA: 60 min at the default 500.00 + 42 min at the matter's 450.00 = 500.00 + 315.00.
    assert wip[(str(usd), "PA")]["value_minor"] == 50_000 + 31_500
    assert wip[(str(usd), "AS")]["value_minor"] == 15_000
    assert wip[(str(eur), "PA")]["unpriced_entries"] == 1  # no EUR rate, no default in EUR

    invoice = draft(service, usd, date(2024, 1, 1), date(2024, 2, 29))
    assert service.invoice_state(ADMIN, invoice)["total_minor"] == 50_000 + 31_500 + 15_000
    with pytest.raises(RateNotSetError):
        draft(service, eur, date(2024, 1, 1), date(2024, 2, 29))
