"""Handlers for payments received and their allocation to invoices.

A ``trust`` payment is never recorded here: it would mark an invoice paid while the
client's trust ledger still holds the money (see ``commands.trust.handlers``).

A payment and every invoice it is allocated to are saved in one transaction;
what is not allocated stays on the payment as the client's unapplied credit.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from commands import models as m
from commands.auth import Principal, require_grant
from commands.decision import Decision
from commands.ledger_app import Context
from ledger.domain.invoice import Invoice
from ledger.domain.payment import Payment
from ledger.domain.policy import not_found
from ledger.domain.trust.errors import TrustPaymentWithoutTransferError


def _allocate(ctx: Context, who: Principal, payment: Payment,
              allocations: tuple[m.Allocation, ...], on: date) -> list[Aggregate]:
    invoices: dict[UUID, Invoice] = {}
    for allocation in allocations:
        invoice = invoices.get(allocation.invoice_id) or ctx.invoice(allocation.invoice_id)
        invoices[invoice.id] = invoice
        require_grant(who, ctx.access(who.id), "collect", client_id=invoice.client_id,
                      matter_id=invoice.matter_id, hidden=not_found("invoice"))
        payment.allocate(actor=who.id, effective_on=on,
                         invoice=invoice, amount_minor=allocation.amount_minor)
    return list(invoices.values())


def record_payment(ctx: Context, who: Principal, cmd: m.RecordPayment) -> Decision:
    if cmd.method == "trust":
        raise TrustPaymentWithoutTransferError(
            "an invoice is paid from trust only by moving the money: use `ledger trust "
            "to-operating --invoice ...`, which records the trust withdrawal and the payment "
            "together", field="method")
    client = ctx.client(cmd.client_id)
    require_grant(who, ctx.access(who.id), "collect", client_id=client.id)
    payment = Payment.receive(payment_id=uuid4(), actor=who.id, effective_on=cmd.received_on,
                              client_id=client.id, client_currency=client.currency,
                              amount_minor=cmd.amount_minor, currency=cmd.currency,
                              method=cmd.method, reference=cmd.reference)
    invoices = _allocate(ctx, who, payment, cmd.allocations, cmd.received_on)
    return Decision([payment, *invoices], {"payment_id": str(payment.id),
                                           "unapplied_minor": payment.unapplied_minor})


def allocate_payment(ctx: Context, who: Principal, cmd: m.AllocatePayment) -> Decision:
    payment = ctx.payment(cmd.payment_id)
    require_grant(who, ctx.access(who.id), "collect", client_id=payment.client_id,
                  hidden=not_found("payment"))
    invoices = _allocate(ctx, who, payment, cmd.allocations, cmd.allocated_on)
    return Decision([payment, *invoices], {"payment_id": str(payment.id),
                                           "unapplied_minor": payment.unapplied_minor})
