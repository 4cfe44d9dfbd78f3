"""Helpers shared by the billing tests: record a firm's actions through ``BillingService``."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any
from uuid import UUID

from commands import models as m
from commands.auth import Principal
from commands.service import BillingService

ADMIN = Principal(id="admin@firm", roles=frozenset({"firm_admin"}))
_keys = itertools.count(1)


def key() -> str:
    """A fresh idempotency key."""
    return f"test-key-{next(_keys):08d}"


def set_up_firm(svc: BillingService, *, currency: str = "USD") -> None:
    svc.set_up_firm(ADMIN, m.SetUpFirm(idempotency_key=key(), currency=currency,
                                       invoice_prefix="INV-", number_digits=5,
                                       effective_on=date(2024, 1, 1)))


def timekeeper(svc: BillingService, tk: str, rate: int, title: str = "ASSOC") -> None:
    svc.register_timekeeper(ADMIN, m.RegisterTimekeeper(
        idempotency_key=key(), timekeeper_id=tk, name=f"Person {tk}", title=title,
        default_rate_minor_per_hour=rate, effective_on=date(2024, 1, 1)))


def client(svc: BillingService, *, currency: str = "USD", terms: int = 30) -> UUID:
    result = svc.onboard_client(ADMIN, m.OnboardClient(
        idempotency_key=key(), name="Acme Holdings", billing_contact="ap@acme.example",
        currency=currency, payment_terms_days=terms, effective_on=date(2024, 1, 2)))
    return UUID(str(result["client_id"]))


def matter(svc: BillingService, client_id: UUID, arrangement: Any = None, *,
           utbms: bool = False, who: Principal = ADMIN) -> UUID:
    result = svc.open_matter(who, m.OpenMatter(
        idempotency_key=key(), client_id=client_id, title="Acme v. Widget Co", utbms=utbms,
        arrangement=arrangement or m.HourlyTerms(), opened_on=date(2024, 1, 3)))
    return UUID(str(result["matter_id"]))


def log(svc: BillingService, matter_id: UUID, tk: str, on: date, minutes: int,
        *, who: Principal = ADMIN, billable: bool = True) -> UUID:
    result = svc.log_time(who, m.LogTime(
        idempotency_key=key(), matter_id=matter_id, timekeeper_id=tk, work_on=on,
        minutes=minutes, narrative="Reviewed the privileged memo", billable=billable))
    return UUID(str(result["entry_id"]))


def draft(svc: BillingService, matter_id: UUID, start: date, end: date,
          *, who: Principal = ADMIN) -> UUID:
    result = svc.draft_invoice(who, m.DraftInvoice(
        idempotency_key=key(), matter_id=matter_id, period_start=start, period_end=end,
        drafted_on=end))
    return UUID(str(result["invoice_id"]))


def issue(svc: BillingService, invoice_id: UUID, on: date, *,
          who: Principal = ADMIN) -> str:
    result = svc.issue_invoice(who, m.IssueInvoice(
        idempotency_key=key(), invoice_id=invoice_id, issued_on=on))
    return str(result["number"])


def pay(svc: BillingService, client_id: UUID, amount: int, on: date,
        allocations: tuple[tuple[UUID, int], ...] = (), *, currency: str = "USD",
        who: Principal = ADMIN) -> UUID:
    result = svc.record_payment(who, m.RecordPayment(
        idempotency_key=key(), client_id=client_id, amount_minor=amount, currency=currency,
        method="wire", reference="WIRE-1", received_on=on,
        allocations=tuple(m.Allocation(invoice_id=i, amount_minor=a) for i, a in allocations)))
    return UUID(str(result["payment_id"]))
