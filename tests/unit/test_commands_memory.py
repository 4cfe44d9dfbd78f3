"""Billing commands through ``BillingService``, unchanged, on the library's in-memory
recorders: the command pipeline (refusals record nothing, idempotency, retries on a
conflict) and the billing rules, with no database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError
from eventsourcing.popo import POPOApplicationRecorder

from commands import models as m
from commands.auth import Principal
from commands.errors import AccessDeniedError, IdempotencyConflictError
from commands.service import BillingService
from ledger.domain import errors as e
from ledger.errors import LedgerError
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
from tests.support.threads import run_together

D = date(2024, 2, 1)
CLERK = Principal(id="clerk@firm", roles=frozenset({"billing_clerk"}))


def refused(svc: BillingService, error: type[LedgerError], action: Callable[[], object]) -> None:
    before = svc.event_count()
    with pytest.raises(error) as raised:
        action()
    assert type(raised.value) is error
    assert svc.event_count() == before, "a refused command recorded events"


def firm(svc: BillingService) -> tuple[UUID, UUID]:
    set_up_firm(svc)
    timekeeper(svc, "AB", 30_000)
    c = client(svc)
    return c, matter(svc, c)


def test_the_service_records_in_memory_in_clear(memory_service: BillingService) -> None:
    assert isinstance(memory_service.app.recorder, POPOApplicationRecorder)
    assert memory_service.app.mapper.cipher is None  # no key store to seal with
    c, _ = firm(memory_service)
    [stored] = [n for n in memory_service.app.recorder.select_notifications(1, 100)
                if n.originator_id == c]
    assert b"Acme Holdings" in stored.state


def test_a_matter_billed_paid_and_balanced(memory_service: BillingService) -> None:
    svc = memory_service
    c, mt = firm(svc)
    log(svc, mt, "AB", D, 50)  # 50 minutes bill as 54 (6-minute increments): 270.00
    svc.log_expense(ADMIN, m.LogExpense(idempotency_key=key(), matter_id=mt, spent_on=D,
                                        description="Courier", amount_minor=4_250,
                                        currency="USD"))
    first = draft(svc, mt, D, D)
    assert issue(svc, first, date(2024, 3, 1)) == "INV-00001"
    state = svc.invoice_state(ADMIN, first)
    assert (state["total_minor"], state["due_on"]) == (27_000 + 4_250, "2024-03-31")
    pay(svc, c, 40_000, date(2024, 3, 5), ((first, 31_250),))
    assert svc.invoice_state(ADMIN, first)["open_balance_minor"] == 0
    assert svc.client_unapplied_credit(ADMIN, c) == 40_000 - 31_250
    log(svc, mt, "AB", date(2024, 3, 6), 60)
    second = draft(svc, mt, date(2024, 3, 6), date(2024, 3, 6))
    assert issue(svc, second, date(2024, 3, 7)) == "INV-00002"
    assert svc.client_open_balance(ADMIN, c) == 30_000


def test_billing_rules_refuse_and_record_nothing(memory_service: BillingService) -> None:
    svc = memory_service
    c, mt = firm(svc)
    log(svc, mt, "AB", D, 60)
    a, b = draft(svc, mt, D, D), draft(svc, mt, D, D)
    issue(svc, a, date(2024, 3, 1))
    refused(svc, e.AlreadyBilledError, lambda: issue(svc, b, date(2024, 3, 1)))
    refused(svc, e.AllocationExceedsBalanceError,
            lambda: pay(svc, c, 50_000, D, ((a, 30_001),)))
    refused(svc, e.DailyHoursExceededError, lambda: log(svc, mt, "AB", D, 24 * 60))
    refused(svc, e.CurrencyMismatchError, lambda: pay(svc, c, 100, D, currency="EUR"))
    refused(svc, AccessDeniedError, lambda: log(svc, mt, "AB", D, 30, who=CLERK))
    refused(svc, e.FirmAlreadySetUpError, lambda: set_up_firm(svc))


def test_a_repeated_key_returns_the_first_result(memory_service: BillingService) -> None:
    svc = memory_service
    _, mt = firm(svc)
    command = m.LogTime(idempotency_key="same-key", matter_id=mt, timekeeper_id="AB",
                        work_on=D, minutes=30, narrative="Call")
    first = svc.log_time(ADMIN, command)
    count = svc.event_count()
    assert svc.log_time(ADMIN, command) == first
    assert svc.event_count() == count
    refused(svc, IdempotencyConflictError,
            lambda: svc.log_time(ADMIN, command.model_copy(update={"minutes": 31})))


def test_a_write_that_lands_first_makes_the_command_retry(
        memory_service: BillingService) -> None:
    """Another writer commits between this command's load and its save: the save
    conflicts, the command runs again on fresh state and takes the next number."""
    svc = memory_service
    _, mt = firm(svc)
    log(svc, mt, "AB", date(2024, 1, 10), 60)
    log(svc, mt, "AB", date(2024, 1, 11), 60)
    mine = draft(svc, mt, date(2024, 1, 10), date(2024, 1, 10))
    theirs = draft(svc, mt, date(2024, 1, 11), date(2024, 1, 11))
    save, saves, conflicts = svc.app.save, [0], [0]

    def save_after_another_writer(*aggregates: object) -> object:
        saves[0] += 1
        if saves[0] == 1:
            assert issue(svc, theirs, D) == "INV-00001"
        try:
            return save(*aggregates)
        except IntegrityError:
            conflicts[0] += 1
            raise

    svc.app.save = save_after_another_writer  # type: ignore[method-assign]
    assert issue(svc, mine, D) == "INV-00002"
    assert conflicts == [1]


def test_racing_issues_number_without_gaps(memory_service: BillingService) -> None:
    svc = memory_service
    _, mt = firm(svc)
    invoices = []
    for day in range(1, 7):
        log(svc, mt, "AB", date(2024, 1, day), 60)
        invoices.append(draft(svc, mt, date(2024, 1, day), date(2024, 1, day)))
    numbers = run_together([lambda i=i: issue(svc, i, D) for i in invoices])
    assert sorted(numbers) == [f"INV-{n:05d}" for n in range(1, 7)]
