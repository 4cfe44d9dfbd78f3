"""Handlers for firm set-up, clients, matters, time and expenses, and access.

A handler loads what it needs through the context, checks authorisation and
the rules (the aggregates' methods raise on a breach), and returns the changed
aggregates; the service saves them in one transaction. Nothing here writes.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from commands import models as m
from commands.auth import Principal, require_admin, require_grant
from commands.decision import Decision
from commands.ledger_app import Context
from ledger.domain import ids
from ledger.domain.access import AccessList
from ledger.domain.client import Client
from ledger.domain.errors import FirmAlreadySetUpError, GrantNotFoundError
from ledger.domain.events import Arrangement, Instalment
from ledger.domain.firm import Firm, InvoiceSeries
from ledger.domain.matter import Matter


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


def onboard_client(ctx: Context, who: Principal, cmd: m.OnboardClient) -> Decision:
    require_admin(who, "onboard clients")
    ctx.firm()
    client = Client.onboard(client_id=uuid4(), actor=who.id, effective_on=cmd.effective_on,
                            name=cmd.name, billing_contact=cmd.billing_contact,
                            currency=cmd.currency, payment_terms_days=cmd.payment_terms_days)
    return Decision([client], {"client_id": str(client.id)})


def _arrangement(terms: m.HourlyTerms | m.FlatFeeTerms | m.ContingencyTerms) -> Arrangement:
    if isinstance(terms, m.FlatFeeTerms):
        instalments = tuple(Instalment(str(n), i.due_on, i.amount_minor)
                            for n, i in enumerate(terms.instalments, start=1))
        return Arrangement(kind="flat_fee", increment_minutes=6,
                           flat_fee_minor=terms.amount_minor, instalments=instalments)
    if isinstance(terms, m.ContingencyTerms):
        return Arrangement(kind="contingency", increment_minutes=6,
                           contingency_bp=terms.percentage_bp)
    return Arrangement(kind="hourly", increment_minutes=terms.increment_minutes)


def open_matter(ctx: Context, who: Principal, cmd: m.OpenMatter) -> Decision:
    client = ctx.client(cmd.client_id)
    access = ctx.access(who.id)
    require_grant(who, access, "manage_matter", client_id=client.id)
    matter = Matter.open(matter_id=uuid4(), actor=who.id, effective_on=cmd.opened_on,
                         client_id=client.id, currency=client.currency, utbms=cmd.utbms,
                         arrangement=_arrangement(cmd.arrangement), title=cmd.title)
    return Decision([matter], {"matter_id": str(matter.id), "client_id": str(client.id)})


def _matter_for(ctx: Context, who: Principal, matter_id: UUID, action: str) -> Matter:
    matter = ctx.matter(matter_id)
    require_grant(who, ctx.access(who.id), action, client_id=matter.client_id,
                  matter_id=matter.id)
    return matter


def close_matter(ctx: Context, who: Principal, cmd: m.CloseMatter) -> Decision:
    matter = _matter_for(ctx, who, cmd.matter_id, "manage_matter")
    matter.close(actor=who.id, effective_on=cmd.closed_on, reason=cmd.reason)
    return Decision([matter], {"matter_id": str(matter.id)})


def set_rate(ctx: Context, who: Principal, cmd: m.SetRate) -> Decision:
    matter = _matter_for(ctx, who, cmd.matter_id, "manage_matter")
    ctx.firm().timekeeper(cmd.timekeeper_id)
    matter.set_rate(actor=who.id, effective_on=cmd.effective_from,
                    timekeeper_id=cmd.timekeeper_id,
                    rate_minor_per_hour=cmd.rate_minor_per_hour)
    return Decision([matter], {"matter_id": str(matter.id)})


def log_time(ctx: Context, who: Principal, cmd: m.LogTime) -> Decision:
    matter = _matter_for(ctx, who, cmd.matter_id, "log_work")
    ctx.firm().timekeeper(cmd.timekeeper_id)
    entry = matter.log_time(actor=who.id, entry_id=uuid4(), timekeeper_id=cmd.timekeeper_id,
                            work_on=cmd.work_on, minutes=cmd.minutes, task_code=cmd.task_code,
                            activity_code=cmd.activity_code, billable=cmd.billable,
                            narrative=cmd.narrative)
    day = ctx.day(actor=who.id, timekeeper_id=cmd.timekeeper_id, work_on=cmd.work_on)
    day.book(actor=who.id, entry_id=entry.entry_id, matter_id=matter.id, minutes=cmd.minutes)
    return Decision([matter, day], {"entry_id": str(entry.entry_id),
                                    "billed_minutes": entry.minutes})


def correct_time(ctx: Context, who: Principal, cmd: m.CorrectTime) -> Decision:
    matter = _matter_for(ctx, who, cmd.matter_id, "log_work")
    old = matter.entry(cmd.entry_id)
    timekeeper_id = cmd.timekeeper_id or old.timekeeper_id or ""
    ctx.firm().timekeeper(timekeeper_id)
    new = matter.correct_time(
        actor=who.id, effective_on=cmd.corrected_on, entry_id=cmd.entry_id,
        work_on=cmd.work_on or old.work_on, timekeeper_id=timekeeper_id,
        minutes=cmd.minutes or old.raw_minutes, task_code=cmd.task_code or old.task_code,
        activity_code=cmd.activity_code or old.activity_code,
        billable=old.billable if cmd.billable is None else cmd.billable,
        narrative=cmd.narrative or old.narrative, reason=cmd.reason,
    )
    old_day = ctx.day(actor=who.id, timekeeper_id=old.timekeeper_id or "", work_on=old.work_on)
    changed: list[Aggregate] = [matter]
    if (new.timekeeper_id, new.work_on) != (old.timekeeper_id, old.work_on):
        old_day.release(actor=who.id, entry_id=old.entry_id)
        changed.append(old_day)
        new_day = ctx.day(actor=who.id, timekeeper_id=timekeeper_id, work_on=new.work_on)
    else:
        new_day = old_day
    new_day.book(actor=who.id, entry_id=new.entry_id, matter_id=matter.id,
                 minutes=new.raw_minutes)
    changed.append(new_day)
    return Decision(changed, {"entry_id": str(new.entry_id),
                              "billed_minutes": new.minutes})


def void_entry(ctx: Context, who: Principal, cmd: m.VoidEntry) -> Decision:
    matter = _matter_for(ctx, who, cmd.matter_id, "log_work")
    entry = matter.void_entry(actor=who.id, effective_on=cmd.voided_on, entry_id=cmd.entry_id,
                              reason=cmd.reason)
    changed: list[Aggregate] = [matter]
    if entry.kind == "time" and entry.timekeeper_id:
        day = ctx.day(actor=who.id, timekeeper_id=entry.timekeeper_id, work_on=entry.work_on)
        day.release(actor=who.id, entry_id=entry.entry_id)
        changed.append(day)
    return Decision(changed, {"entry_id": str(entry.entry_id)})


def log_expense(ctx: Context, who: Principal, cmd: m.LogExpense) -> Decision:
    matter = _matter_for(ctx, who, cmd.matter_id, "log_work")
    entry_id = uuid4()
    matter.log_expense(actor=who.id, entry_id=entry_id, spent_on=cmd.spent_on,
                       expense_code=cmd.expense_code, description=cmd.description,
                       amount_minor=cmd.amount_minor, currency=cmd.currency,
                       billable=cmd.billable)
    return Decision([matter], {"entry_id": str(entry_id)})


def record_recovery(ctx: Context, who: Principal, cmd: m.RecordRecovery) -> Decision:
    matter = _matter_for(ctx, who, cmd.matter_id, "manage_matter")
    recovery_id = uuid4()
    matter.record_recovery(actor=who.id, effective_on=cmd.recovered_on,
                           recovery_id=recovery_id, amount_minor=cmd.amount_minor)
    return Decision([matter], {"recovery_id": str(recovery_id)})


def grant_access(ctx: Context, who: Principal, cmd: m.GrantAccess) -> Decision:
    require_admin(who, "grant access")
    if cmd.scope == "client":
        ctx.client(cmd.scope_id)
    else:
        ctx.matter(cmd.scope_id)
    access = ctx.access(cmd.principal_id) or AccessList.open(
        actor=who.id, effective_on=cmd.granted_on, principal_id=cmd.principal_id)
    grant_id = uuid4()
    access.grant(actor=who.id, effective_on=cmd.granted_on, grant_id=grant_id,
                 scope=cmd.scope, scope_id=cmd.scope_id, role=cmd.role, reason=cmd.reason,
                 expires_on=cmd.expires_on)
    return Decision([access], {"grant_id": str(grant_id)})


def revoke_access(ctx: Context, who: Principal, cmd: m.RevokeAccess) -> Decision:
    require_admin(who, "revoke access")
    access = ctx.access(cmd.principal_id)
    if access is None:
        raise GrantNotFoundError("no such active grant for this principal", field="grant_id")
    access.revoke(actor=who.id, effective_on=cmd.revoked_on, grant_id=cmd.grant_id,
                  reason=cmd.reason)
    return Decision([access], {"grant_id": str(cmd.grant_id)})
