"""Handlers for invoices: drafting, write-downs, issuing, voiding, write-offs, credit notes.

Issuing saves four aggregates in one transaction: the invoice (``InvoiceIssued``),
the invoice series (``InvoiceNumberAssigned``: gapless numbers), the matter
(``EntriesBilled``: nothing billed twice) and the command record. Any
concurrent change to one of them makes the save conflict, and the service
retries the whole decision from fresh loads.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from commands import models as m
from commands.auth import Principal, require_grant
from commands.decision import Decision
from commands.ledger_app import Context
from ledger.domain.client import Client
from ledger.domain.errors import InvalidPeriodError
from ledger.domain.invoice import Invoice, draft_lines
from ledger.domain.policy import not_found


def _invoice_for(ctx: Context, who: Principal, invoice_id: UUID, action: str) -> Invoice:
    invoice = ctx.invoice(invoice_id)
    require_grant(who, ctx.access(who.id), action, client_id=invoice.client_id,
                  matter_id=invoice.matter_id, hidden=not_found("invoice"))
    return invoice


def draft_invoice(ctx: Context, who: Principal, cmd: m.DraftInvoice) -> Decision:
    matter = ctx.matter(cmd.matter_id)
    require_grant(who, ctx.access(who.id), "bill", client_id=matter.client_id,
                  matter_id=matter.id)
    assert matter.client_id is not None
    lines = draft_lines(matter, ctx.firm(), cmd.period_start, cmd.period_end)
    invoice = Invoice.draft(invoice_id=uuid4(), actor=who.id, effective_on=cmd.drafted_on,
                            matter_id=matter.id, client_id=matter.client_id,
                            currency=matter.currency, period_start=cmd.period_start,
                            period_end=cmd.period_end, lines=lines)
    return Decision([invoice], {"invoice_id": str(invoice.id), "lines": len(lines),
                                "total_minor": invoice.lines_total_minor})


def write_down(ctx: Context, who: Principal, cmd: m.WriteDown) -> Decision:
    invoice = _invoice_for(ctx, who, cmd.invoice_id, "bill")
    invoice.write_down(actor=who.id, effective_on=cmd.written_down_on, line_no=cmd.line_no,
                       amount_minor=cmd.amount_minor, reason=cmd.reason)
    return Decision([invoice], {"invoice_id": str(invoice.id),
                                "total_minor": invoice.lines_total_minor})


def _due_on(client: Client, issued_on: date) -> date:
    """The due date, or a refusal when it would not be a representable date."""
    try:
        return client.due_date(issued_on)
    except OverflowError:
        raise InvalidPeriodError("the due date would fall after 9999-12-31",
                                 field="issued_on") from None


def issue_invoice(ctx: Context, who: Principal, cmd: m.IssueInvoice) -> Decision:
    invoice = _invoice_for(ctx, who, cmd.invoice_id, "bill")
    assert invoice.client_id is not None and invoice.matter_id is not None
    client = ctx.client(invoice.client_id)
    matter = ctx.matter(invoice.matter_id)
    series = ctx.series()
    number = series.format(series.next_sequence)
    invoice.issue(actor=who.id, effective_on=cmd.issued_on, number=number,
                  due_on=_due_on(client, cmd.issued_on))
    matter.mark_billed(actor=who.id, effective_on=cmd.issued_on, invoice_id=invoice.id,
                       lines=invoice.lines)
    series.assign(actor=who.id, effective_on=cmd.issued_on, invoice_id=invoice.id)
    assert invoice.total_minor == sum(line.net_minor for line in invoice.lines)
    return Decision([invoice, series, matter], {
        "invoice_id": str(invoice.id), "number": number,
        "total_minor": invoice.total_minor, "due_on": str(invoice.due_on),
    })


def void_invoice(ctx: Context, who: Principal, cmd: m.VoidInvoice) -> Decision:
    invoice = _invoice_for(ctx, who, cmd.invoice_id, "bill")
    invoice.void(actor=who.id, effective_on=cmd.voided_on, reason=cmd.reason)
    return Decision([invoice], {"invoice_id": str(invoice.id)})


def write_off(ctx: Context, who: Principal, cmd: m.WriteOff) -> Decision:
    invoice = _invoice_for(ctx, who, cmd.invoice_id, "bill")
    invoice.write_off(actor=who.id, effective_on=cmd.written_off_on,
                      amount_minor=cmd.amount_minor, reason=cmd.reason,
                      approved_by=cmd.approved_by)
    return Decision([invoice], {"invoice_id": str(invoice.id),
                                "open_balance_minor": invoice.open_balance_minor})


def issue_credit_note(ctx: Context, who: Principal, cmd: m.IssueCreditNote) -> Decision:
    invoice = _invoice_for(ctx, who, cmd.invoice_id, "bill")
    credit_note_id = uuid4()
    invoice.issue_credit_note(actor=who.id, effective_on=cmd.issued_on,
                              credit_note_id=credit_note_id, amount_minor=cmd.amount_minor,
                              reason=cmd.reason)
    return Decision([invoice], {"credit_note_id": str(credit_note_id),
                                "open_balance_minor": invoice.open_balance_minor})
