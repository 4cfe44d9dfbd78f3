"""Every billing rule refused with its own error, and nothing recorded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from commands import models as m
from commands.auth import Principal
from commands.errors import AccessDeniedError, IdempotencyConflictError, InvalidCommandError
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

D = date(2024, 2, 1)
CLERK = Principal(id="clerk@firm", roles=frozenset({"billing_clerk"}))


@pytest.fixture
def firm(service: BillingService) -> Iterator[dict[str, Any]]:
    set_up_firm(service)
    timekeeper(service, "AB", 30_000)
    timekeeper(service, "CD", 20_000)
    c = client(service)
    mt = matter(service, c)
    yield {"svc": service, "client": c, "matter": mt}


def refused(svc: BillingService, error: type[LedgerError], action: Callable[[], object],
            field: str | None = None) -> LedgerError:
    before = svc.event_count()
    with pytest.raises(error) as raised:
        action()
    assert type(raised.value) is error, f"{type(raised.value).__name__} is not {error}"
    assert raised.value.type and raised.value.message
    if field:
        assert raised.value.field == field
    assert svc.event_count() == before, "a refused command recorded events"
    return raised.value


def issued_invoice(f: dict[str, Any], minutes: int = 60) -> UUID:
    svc = f["svc"]
    log(svc, f["matter"], "AB", D, minutes)
    invoice = draft(svc, f["matter"], D, D)
    issue(svc, invoice, date(2024, 3, 1))
    return invoice


def test_time_on_a_closed_matter(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    svc.close_matter(ADMIN, m.CloseMatter(idempotency_key=key(), matter_id=firm["matter"],
                                          reason="concluded", closed_on=D))
    refused(svc, e.MatterClosedError, lambda: log(svc, firm["matter"], "AB", D, 30))
    refused(svc, e.MatterClosedError, lambda: svc.log_expense(ADMIN, m.LogExpense(
        idempotency_key=key(), matter_id=firm["matter"], spent_on=D, description="Courier",
        amount_minor=1_000, currency="USD")))


@pytest.mark.parametrize("minutes", [0, -5, 24 * 60 + 1])
def test_entry_duration_out_of_bounds(firm: dict[str, Any], minutes: int) -> None:
    svc = firm["svc"]
    # The command model refuses it before any handler runs...
    with pytest.raises(InvalidCommandError) as raised:
        m.parse(m.LogTime, {"idempotency_key": key(), "matter_id": str(firm["matter"]),
                            "timekeeper_id": "AB", "work_on": "2024-02-01",
                            "minutes": minutes, "narrative": "x"})
    assert raised.value.field == "minutes"
    # ...and the domain refuses it with its own error even if a model is built unchecked.
    unchecked = m.LogTime.model_construct(
        idempotency_key=key(), matter_id=firm["matter"], timekeeper_id="AB", work_on=D,
        minutes=minutes, narrative="x", billable=True, task_code=None, activity_code=None)
    refused(svc, e.InvalidDurationError, lambda: svc.log_time(ADMIN, unchecked), "minutes")


def test_more_than_24_hours_per_timekeeper_per_day(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    other = matter(svc, firm["client"])
    log(svc, firm["matter"], "AB", D, 14 * 60)
    log(svc, other, "AB", D, 10 * 60)  # exactly 24 h across two matters: fine
    refused(svc, e.DailyHoursExceededError, lambda: log(svc, other, "AB", D, 1), "minutes")
    log(svc, other, "CD", D, 60)  # another timekeeper, same day: fine
    log(svc, other, "AB", date(2024, 2, 2), 60)  # same timekeeper, next day: fine


def test_correcting_time_counts_towards_the_daily_cap(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    entry = log(svc, firm["matter"], "AB", D, 20 * 60)
    log(svc, firm["matter"], "AB", D, 3 * 60)
    refused(svc, e.DailyHoursExceededError, lambda: svc.correct_time(ADMIN, m.CorrectTime(
        idempotency_key=key(), matter_id=firm["matter"], entry_id=entry, minutes=22 * 60,
        reason="typo in hours", corrected_on=D)))
    svc.correct_time(ADMIN, m.CorrectTime(idempotency_key=key(), matter_id=firm["matter"],
                                          entry_id=entry, minutes=21 * 60,
                                          reason="typo in hours", corrected_on=D))


def test_an_entry_is_billed_on_at_most_one_issued_invoice(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    log(svc, firm["matter"], "AB", D, 60)
    first, second = draft(svc, firm["matter"], D, D), draft(svc, firm["matter"], D, D)
    issue(svc, first, date(2024, 3, 1))
    refused(svc, e.AlreadyBilledError, lambda: issue(svc, second, date(2024, 3, 1)), "lines")
    # Nothing left to draft, and a voided invoice does not return its entries to WIP.
    svc.void_invoice(ADMIN, m.VoidInvoice(idempotency_key=key(), invoice_id=first,
                                          reason="sent to the wrong address", voided_on=D))
    refused(svc, e.NothingToBillError, lambda: draft(svc, firm["matter"], D, D))
    refused(svc, e.AlreadyBilledError, lambda: issue(svc, second, date(2024, 3, 2)))


def test_billed_entries_cannot_be_corrected_or_voided(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    entry = log(svc, firm["matter"], "AB", D, 60)
    issue(svc, draft(svc, firm["matter"], D, D), date(2024, 3, 1))
    refused(svc, e.AlreadyBilledError, lambda: svc.void_entry(ADMIN, m.VoidEntry(
        idempotency_key=key(), matter_id=firm["matter"], entry_id=entry,
        reason="duplicate", voided_on=D)))


def test_a_draft_outdated_by_a_correction_is_refused(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    entry = log(svc, firm["matter"], "AB", D, 60)
    invoice = draft(svc, firm["matter"], D, D)
    svc.correct_time(ADMIN, m.CorrectTime(idempotency_key=key(), matter_id=firm["matter"],
                                          entry_id=entry, minutes=30, reason="over-recorded",
                                          corrected_on=D))
    refused(svc, e.DraftOutdatedError, lambda: issue(svc, invoice, date(2024, 3, 1)))


def test_write_down_limits(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    log(svc, firm["matter"], "AB", D, 60)  # one line of 300.00
    invoice = draft(svc, firm["matter"], D, D)

    def down(amount: int, invoice_id: UUID = invoice) -> object:
        return svc.write_down(ADMIN, m.WriteDown(
            idempotency_key=key(), invoice_id=invoice_id, line_no=1, amount_minor=amount,
            reason="partner review", written_down_on=D))

    down(10_000)
    refused(svc, e.WriteDownExceedsLineError, lambda: down(20_001), "amount_minor")
    issue(svc, invoice, date(2024, 3, 1))
    refused(svc, e.InvoiceNotDraftError, lambda: down(1))
    assert svc.invoice_state(ADMIN, invoice)["total_minor"] == 20_000


def test_allocation_limits(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    invoice = issued_invoice(firm)  # 300.00
    payment = pay(svc, firm["client"], 50_000, D)

    def allocate(amount: int) -> object:
        return svc.allocate_payment(ADMIN, m.AllocatePayment(
            idempotency_key=key(), payment_id=payment, allocated_on=D,
            allocations=(m.Allocation(invoice_id=invoice, amount_minor=amount),)))

    refused(svc, e.AllocationExceedsBalanceError, lambda: allocate(30_001), "amount_minor")
    allocate(30_000)
    refused(svc, e.AllocationExceedsBalanceError, lambda: allocate(1))
    small = pay(svc, firm["client"], 100, D)
    refused(svc, e.AllocationExceedsPaymentError, lambda: svc.allocate_payment(
        ADMIN, m.AllocatePayment(idempotency_key=key(), payment_id=small, allocated_on=D,
                                 allocations=(m.Allocation(invoice_id=invoice,
                                                           amount_minor=101),))))
    assert svc.client_unapplied_credit(ADMIN, firm["client"]) == 20_000 + 100


def test_one_payment_over_several_invoices_is_all_or_nothing(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    a = issued_invoice(firm)
    log(svc, firm["matter"], "AB", date(2024, 2, 5), 60)
    b = draft(svc, firm["matter"], date(2024, 2, 5), date(2024, 2, 5))
    issue(svc, b, date(2024, 3, 1))
    refused(svc, e.AllocationExceedsPaymentError, lambda: pay(
        svc, firm["client"], 40_000, D, ((a, 30_000), (b, 10_001))))
    refused(svc, e.AllocationExceedsBalanceError, lambda: pay(
        svc, firm["client"], 90_000, D, ((a, 30_000), (b, 30_001))))


def test_write_offs_and_credit_notes_never_exceed_the_open_balance(
    firm: dict[str, Any],
) -> None:
    svc = firm["svc"]
    invoice = issued_invoice(firm)  # 300.00
    pay(svc, firm["client"], 10_000, D, ((invoice, 10_000),))
    refused(svc, e.WriteOffExceedsBalanceError, lambda: svc.write_off(ADMIN, m.WriteOff(
        idempotency_key=key(), invoice_id=invoice, amount_minor=20_001, reason="bad debt",
        approved_by="partner@firm", written_off_on=D)), "amount_minor")
    svc.issue_credit_note(ADMIN, m.IssueCreditNote(idempotency_key=key(), invoice_id=invoice,
                                                   amount_minor=5_000, reason="goodwill",
                                                   issued_on=D))
    refused(svc, e.CreditExceedsBalanceError, lambda: svc.issue_credit_note(
        ADMIN, m.IssueCreditNote(idempotency_key=key(), invoice_id=invoice,
                                 amount_minor=15_001, reason="goodwill", issued_on=D)))


def test_void_only_while_nothing_is_paid(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    invoice = issued_invoice(firm)
    pay(svc, firm["client"], 100, D, ((invoice, 100),))
    refused(svc, e.InvoiceHasPaymentsError, lambda: svc.void_invoice(ADMIN, m.VoidInvoice(
        idempotency_key=key(), invoice_id=invoice, reason="wrong client", voided_on=D)))


def test_no_currency_mixing(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    invoice = issued_invoice(firm)
    refused(svc, e.CurrencyMismatchError,
            lambda: pay(svc, firm["client"], 100, D, currency="EUR"), "currency")
    refused(svc, e.CurrencyMismatchError, lambda: svc.log_expense(ADMIN, m.LogExpense(
        idempotency_key=key(), matter_id=firm["matter"], spent_on=D, description="Hotel",
        amount_minor=100, currency="EUR")), "currency")
    euro_client = client(svc, currency="EUR")
    euro_matter = matter(svc, euro_client)
    log(svc, euro_matter, "AB", D, 60)
    # The firm's default rates are in USD: a EUR matter needs its own rate.
    refused(svc, e.RateNotSetError, lambda: draft(svc, euro_matter, D, D), "timekeeper_id")
    euro_payment = pay(svc, euro_client, 100, D, currency="EUR")
    refused(svc, e.ClientMismatchError, lambda: svc.allocate_payment(ADMIN, m.AllocatePayment(
        idempotency_key=key(), payment_id=euro_payment, allocated_on=D,
        allocations=(m.Allocation(invoice_id=invoice, amount_minor=100),))))
    refused(svc, e.UnknownCurrencyError, lambda: client(svc, currency="XXX"))


def test_principals_act_only_where_granted(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    other_client = client(svc)
    refused(svc, AccessDeniedError, lambda: log(svc, firm["matter"], "AB", D, 30, who=CLERK))
    grant = svc.grant_access(ADMIN, m.GrantAccess(
        idempotency_key=key(), principal_id=CLERK.id, scope="client",
        scope_id=firm["client"], role="billing_clerk", reason="assigned to the account"))
    log(svc, firm["matter"], "AB", D, 30, who=CLERK)
    refused(svc, AccessDeniedError, lambda: matter(svc, other_client, who=CLERK))
    refused(svc, AccessDeniedError, lambda: svc.onboard_client(
        CLERK, m.OnboardClient(idempotency_key=key(), name="N", billing_contact="C",
                               currency="USD", payment_terms_days=30)))
    svc.revoke_access(ADMIN, m.RevokeAccess(idempotency_key=key(), principal_id=CLERK.id,
                                            grant_id=UUID(str(grant["grant_id"])),
                                            reason="left the team"))
    refused(svc, AccessDeniedError, lambda: log(svc, firm["matter"], "AB", D, 30, who=CLERK))


def test_readers_and_expired_grants_cannot_write(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    auditor = Principal(id="auditor@bar", roles=frozenset({"auditor"}))
    svc.grant_access(ADMIN, m.GrantAccess(
        idempotency_key=key(), principal_id=auditor.id, scope="client",
        scope_id=firm["client"], role="auditor", reason="annual audit"))
    assert svc.client_open_balance(auditor, firm["client"]) == 0  # reading is allowed
    refused(svc, AccessDeniedError, lambda: log(svc, firm["matter"], "AB", D, 30, who=auditor))
    late = Principal(id="temp@firm", roles=frozenset({"timekeeper"}))
    svc.grant_access(ADMIN, m.GrantAccess(
        idempotency_key=key(), principal_id=late.id, scope="matter", scope_id=firm["matter"],
        role="timekeeper", reason="cover", expires_on=date(2020, 1, 1)))
    refused(svc, AccessDeniedError, lambda: log(svc, firm["matter"], "AB", D, 30, who=late))


def test_idempotency(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    command = m.LogTime(idempotency_key="same-key-001", matter_id=firm["matter"],
                        timekeeper_id="AB", work_on=D, minutes=30, narrative="Call")
    first = svc.log_time(ADMIN, command)
    count = svc.event_count()
    assert svc.log_time(ADMIN, command) == first
    assert svc.event_count() == count
    changed = command.model_copy(update={"minutes": 31})
    refused(svc, IdempotencyConflictError, lambda: svc.log_time(ADMIN, changed),
            "idempotency_key")
    other_command = m.LogExpense(idempotency_key="same-key-001", matter_id=firm["matter"],
                                 spent_on=D, description="Taxi", amount_minor=1, currency="USD")
    refused(svc, IdempotencyConflictError, lambda: svc.log_expense(ADMIN, other_command))


def test_utbms_codes_when_the_matter_uses_them(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    coded = matter(svc, firm["client"], utbms=True)
    refused(svc, e.UtbmsCodeError, lambda: log(svc, coded, "AB", D, 30), "task_code")
    svc.log_time(ADMIN, m.LogTime(idempotency_key=key(), matter_id=coded, timekeeper_id="AB",
                                  work_on=D, minutes=30, narrative="Drafted motion",
                                  task_code="L210", activity_code="A103"))


def test_other_refusals(firm: dict[str, Any]) -> None:
    svc = firm["svc"]
    refused(svc, e.UnknownTimekeeperError, lambda: log(svc, firm["matter"], "ZZ", D, 30))
    refused(svc, e.MatterNotFoundError, lambda: log(svc, uuid4(), "AB", D, 30))
    refused(svc, e.NothingToBillError, lambda: draft(svc, firm["matter"], D, D))
    refused(svc, e.InvalidPeriodError,
            lambda: draft(svc, firm["matter"], date(2024, 3, 1), date(2024, 2, 1)))
    refused(svc, e.FirmAlreadySetUpError, lambda: set_up_firm(svc))
    refused(svc, e.DuplicateTimekeeperError, lambda: timekeeper(svc, "AB", 1))
    refused(svc, e.WrongArrangementError, lambda: svc.record_recovery(ADMIN, m.RecordRecovery(
        idempotency_key=key(), matter_id=firm["matter"], amount_minor=1, recovered_on=D)))
    with pytest.raises(InvalidCommandError):
        m.parse(m.RecordPayment, {"idempotency_key": key(), "client_id": str(uuid4()),
                                  "amount_minor": 10.5, "currency": "USD", "method": "wire",
                                  "reference": "r", "received_on": "2024-01-01"})
