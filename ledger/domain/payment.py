"""Payments received from a client, and how they are allocated to invoices.

What is not allocated stays on the payment as the client's unapplied credit.
An allocation is recorded twice in one transaction, ``PaymentAllocated`` here
and ``PaymentApplied`` on the invoice, so neither side can be over-drawn by a
concurrent allocation.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.domain.errors import (
    AllocationExceedsPaymentError,
    ClientMismatchError,
    CurrencyMismatchError,
    InvalidAmountError,
)
from ledger.domain.events import LedgerCreated, LedgerEvent
from ledger.domain.invoice import Invoice

PaymentMethod = Literal["card", "ach", "wire", "check", "trust"]


class PaymentReceived(LedgerCreated):
    """``effective_on`` is the date the money was received."""

    client_id: UUID
    amount_minor: int
    currency: str
    method: PaymentMethod
    reference: str

    SEALED_TEXT = ("reference",)


class PaymentAllocated(LedgerEvent):
    invoice_id: UUID
    amount_minor: int


class Payment(Aggregate):
    def __init__(self) -> None:
        self.client_id: UUID | None = None
        self.amount_minor = 0
        self.currency = ""
        self.allocations: dict[UUID, int] = {}

    @classmethod
    def receive(
        cls, *, payment_id: UUID, actor: str, effective_on: date, client_id: UUID,
        client_currency: str, amount_minor: int, currency: str, method: PaymentMethod,
        reference: str,
    ) -> Payment:
        if amount_minor <= 0:
            raise InvalidAmountError("a payment must be positive", field="amount_minor")
        if currency != client_currency:
            raise CurrencyMismatchError("the payment's currency is not the client's",
                                        field="currency")
        return cls._create(
            PaymentReceived, id=payment_id, actor=actor, effective_on=effective_on,
            client_id=client_id, amount_minor=amount_minor, currency=currency, method=method,
            reference=reference,
        )

    @property
    def allocated_minor(self) -> int:
        return sum(self.allocations.values())

    @property
    def unapplied_minor(self) -> int:
        return self.amount_minor - self.allocated_minor

    def allocate(self, *, actor: str, effective_on: date, invoice: Invoice,
                 amount_minor: int) -> None:
        """Allocate part of this payment to an invoice (both aggregates change)."""
        if invoice.client_id != self.client_id:
            raise ClientMismatchError("the invoice is not the paying client's",
                                      field="invoice_id")
        if amount_minor > self.unapplied_minor:
            raise AllocationExceedsPaymentError(
                f"the allocation of {amount_minor} exceeds the {self.unapplied_minor} "
                "left on the payment", field="amount_minor",
            )
        invoice.apply_payment(actor=actor, effective_on=effective_on, payment_id=self.id,
                              amount_minor=amount_minor, currency=self.currency)
        self.trigger_event(PaymentAllocated, actor=actor, effective_on=effective_on,
                           invoice_id=invoice.id, amount_minor=amount_minor)

    def when(self, event: Any) -> None:
        match event:
            case PaymentReceived():
                self.client_id, self.amount_minor = event.client_id, event.amount_minor
                self.currency = event.currency
            case PaymentAllocated():
                self.allocations[event.invoice_id] = (
                    self.allocations.get(event.invoice_id, 0) + event.amount_minor
                )
