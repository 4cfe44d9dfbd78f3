"""Handlers for the firm itself: its set-up (currency, invoice series) and its timekeepers.

A handler loads what it needs through the context, checks authorisation and
the rules (the aggregates' methods raise on a breach), and returns the changed
aggregates; the service saves them in one transaction. Nothing here writes.
"""

from __future__ import annotations

from commands import models as m
from commands.auth import Principal, require_admin
from commands.decision import Decision
from commands.ledger_app import Context
from ledger.domain import ids
from ledger.domain.errors import FirmAlreadySetUpError
from ledger.domain.firm import Firm, InvoiceSeries


def set_up_firm(ctx: Context, who: Principal, cmd: m.SetUpFirm) -> Decision:
    require_admin(who, "set up the firm")
    if ctx.find(ids.firm_id(), Firm) is not None:
        raise FirmAlreadySetUpError("the firm is already set up", field="firm")
    on = cmd.effective_on
    firm = Firm.set_up(actor=who.id, effective_on=on, currency=cmd.currency)
    series = InvoiceSeries.start(actor=who.id, effective_on=on, prefix=cmd.invoice_prefix,
                                 first_number=cmd.first_invoice_number,
                                 digits=cmd.number_digits)
    return Decision([firm, series], {"currency": cmd.currency,
                                     "next_invoice_number": series.format(series.next_sequence)})


def register_timekeeper(ctx: Context, who: Principal, cmd: m.RegisterTimekeeper) -> Decision:
    require_admin(who, "register timekeepers")
    firm = ctx.firm()
    firm.register_timekeeper(actor=who.id, effective_on=cmd.effective_on,
                             timekeeper_id=cmd.timekeeper_id, name=cmd.name, title=cmd.title,
                             default_rate_minor_per_hour=cmd.default_rate_minor_per_hour)
    return Decision([firm], {"timekeeper_id": cmd.timekeeper_id})
