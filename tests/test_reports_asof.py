"""As-of reports: the books as they stood at a moment of the database clock.

The clock cannot be faked, so each test records some events, reads the
``recorded_at`` of the last one from the table (T), records more, and asks for
reports as of T and as of a later moment.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from commands import models as m
from commands.service import BillingService
from ledger.store.firm import FirmStore
from projections import query
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
from tests.support.quarter import Q1, record_quarter

Q1_2026 = (date(2026, 1, 1), date(2026, 3, 31))


def head_time(store: FirmStore) -> datetime:
    at = store.head().recorded_at
    assert at is not None
    return at


def test_payment_recorded_later_is_absent_before_and_present_after(
        service: BillingService, firm_store: FirmStore) -> None:
    svc = service
    set_up_firm(svc)
    timekeeper(svc, "PA", 60_000)
    acme = client(svc, terms=30)
    work = matter(svc, acme)
    log(svc, work, "PA", date(2026, 3, 2), 60)
    invoice = draft(svc, work, date(2026, 3, 1), date(2026, 3, 31))
    issue(svc, invoice, date(2026, 3, 20))
    known_on_5_april = head_time(firm_store)
    # Entered on "10 April" for a payment received in March.
    pay(svc, acme, 60_000, date(2026, 3, 28), ((invoice, 60_000),))
    known_on_15_april = head_time(firm_store) + timedelta(microseconds=1)

    before = query.statement_report(firm_store, acme, *Q1_2026, as_of=known_on_5_april)
    assert [li["kind"] for li in before["lines"]] == ["invoice"]
    assert before["closing_balance_minor"] == 60_000
    assert before["aging"]["current_minor"] == 60_000
    after = query.statement_report(firm_store, acme, *Q1_2026, as_of=known_on_15_april)
    assert [li["kind"] for li in after["lines"]] == ["invoice", "payment"]
    assert after["closing_balance_minor"] == 0
    assert after["aging"]["total_open_minor"] == 0
    assert after["position"] == firm_store.head().position
    balances = query.invoices_report(firm_store, as_of=known_on_5_april)["invoices"]
    assert [(i["paid_minor"], i["open_minor"]) for i in balances] == [(0, 60_000)]


def test_backdated_time_appears_only_after_its_recording(
        service: BillingService, firm_store: FirmStore) -> None:
    svc = service
    set_up_firm(svc)
    timekeeper(svc, "AS", 30_000)
    acme = client(svc)
    work = matter(svc, acme)
    log(svc, work, "AS", date(2026, 2, 2), 60)
    t = head_time(firm_store)
    log(svc, work, "AS", date(2026, 1, 15), 30)  # backdated: worked in January
    then = query.wip_report(firm_store, as_of=t)
    now = query.wip_report(firm_store, as_of=head_time(firm_store))
    assert [(r["entries"], r["minutes"], r["value_minor"]) for r in then["rows"]] == [
        (1, 60, 30_000)]
    assert [(r["entries"], r["minutes"], r["value_minor"], r["oldest_work_on"])
            for r in now["rows"]] == [(2, 90, 45_000, "2026-01-15")]
    per_client = query.wip_report(firm_store, as_of=t, client_id=acme)
    assert per_client["rows"] == then["rows"]


def strip(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "as_of"}


def test_as_of_now_equals_live_for_every_report(service: BillingService,
                                                firm_store: FirmStore) -> None:
    q = record_quarter(service)
    now = head_time(firm_store)
    on = date(2024, 4, 20)
    pairs = [
        (lambda **a: query.statement_report(firm_store, q.northwind, *Q1, **a)),
        (lambda **a: query.statement_report(firm_store, q.contoso, *Q1, **a)),
        (lambda **a: query.invoices_report(firm_store, on=on, **a)),
        (lambda **a: query.invoices_report(firm_store, on=on, client_id=q.fabrikam, **a)),
        (lambda **a: query.aging_report(firm_store, on=on, **a)),
        (lambda **a: query.wip_report(firm_store, **a)),
        (lambda **a: query.wip_report(firm_store, client_id=q.northwind, **a)),
        (lambda **a: query.writeoffs_report(firm_store, **a)),
        (lambda **a: query.access_report(firm_store, on=on, **a)),
    ]
    for report in pairs:
        assert strip(report(as_of=now)) == strip(report())


def test_as_of_before_anything_is_empty(service: BillingService,
                                        firm_store: FirmStore) -> None:
    q = record_quarter(service, unbilled=False)
    early = datetime(2000, 1, 1, tzinfo=head_time(firm_store).tzinfo)
    st = query.statement_report(firm_store, q.northwind, *Q1, as_of=early)
    assert (st["position"], st["lines"], st["closing_balance_minor"]) == (0, [], 0)
    assert query.invoices_report(firm_store, as_of=early)["invoices"] == []


def test_client_replay_reads_only_its_own_aggregates(service: BillingService,
                                                     firm_store: FirmStore) -> None:
    q = record_quarter(service, unbilled=False)
    query.invoices_report(firm_store)  # brings the directory (originator index) up to date
    # An event recorded after the directory's position is still found (read from the tail).
    service.issue_credit_note(ADMIN, m.IssueCreditNote(
        idempotency_key=key(), invoice_id=q.invoices["INV-00005"], amount_minor=495,
        reason="rounding", issued_on=date(2024, 3, 31)))
    st = query.statement_report(firm_store, q.fabrikam, *Q1, as_of=head_time(firm_store))
    assert st["closing_balance_minor"] == 249_500 - 495
    assert {li["invoice_id"] for li in st["lines"]} <= {str(q.invoices["INV-00005"]), None}
    assert isinstance(UUID(st["client_id"]), UUID)
