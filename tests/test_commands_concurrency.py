"""Concurrent commands: gapless invoice numbers, nothing billed twice, one result per key."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from commands import models as m
from commands.service import BillingService
from ledger.domain import ids
from ledger.domain.errors import AlreadyBilledError
from ledger.domain.firm import InvoiceSeries
from tests.support.billing import ADMIN, client, draft, issue, log, matter, set_up_firm, timekeeper
from tests.support.threads import run_together

THREADS = 6


def test_concurrent_issuing_gives_gapless_unique_numbers(service: BillingService) -> None:
    set_up_firm(service)
    timekeeper(service, "AB", 30_000)
    c = client(service)
    matters = [matter(service, c) for _ in range(3)]
    drafts: list[UUID] = []
    for n in range(THREADS * 3):
        day = date(2024, 2, 1) + timedelta(days=n)
        log(service, matters[n % 3], "AB", day, 30)
        drafts.append(draft(service, matters[n % 3], day, day))

    def issue_share(share: list[UUID]) -> list[str]:
        return [issue(service, invoice, date(2024, 3, 1)) for invoice in share]

    results = run_together([
        (lambda share=drafts[i::THREADS]: issue_share(share)) for i in range(THREADS)
    ])
    numbers = [number for result in results for number in result]
    assert sorted(numbers) == [f"INV-{n:05d}" for n in range(1, THREADS * 3 + 1)]
    series = service.app.repository.get(ids.invoice_series_id())
    assert isinstance(series, InvoiceSeries)
    assert sorted(series.assigned) == list(range(1, THREADS * 3 + 1))
    assert len(set(series.assigned.values())) == THREADS * 3


def test_two_invoices_racing_for_the_same_entry(service: BillingService) -> None:
    set_up_firm(service)
    timekeeper(service, "AB", 30_000)
    c = client(service)
    mt = matter(service, c)
    day = date(2024, 2, 1)
    log(service, mt, "AB", day, 60)
    drafts = [draft(service, mt, day, day) for _ in range(THREADS)]
    results = run_together([
        (lambda invoice=invoice: issue(service, invoice, date(2024, 3, 1)))
        for invoice in drafts
    ])
    issued = [r for r in results if isinstance(r, str)]
    assert issued == ["INV-00001"]
    assert all(isinstance(r, AlreadyBilledError) for r in results if not isinstance(r, str))


def test_a_concurrent_duplicate_records_once(service: BillingService) -> None:
    set_up_firm(service)
    timekeeper(service, "AB", 30_000)
    mt = matter(service, client(service))
    command = m.LogTime(idempotency_key="dup-key-0001", matter_id=mt, timekeeper_id="AB",
                        work_on=date(2024, 2, 1), minutes=45, narrative="Hearing prep")
    before = service.event_count()
    results = run_together([lambda: service.log_time(ADMIN, command)] * THREADS)
    assert all(r == results[0] for r in results)
    # TimeLogged + TimesheetDayOpened + TimeBooked + CommandAccepted, once.
    assert service.event_count() == before + 4
