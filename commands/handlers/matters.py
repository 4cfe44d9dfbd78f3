"""Handlers for matters: opening (with the billing arrangement), closing, rates, recoveries.

``matter_for`` (load a matter and check the principal's grant on it) is shared
with the time and expense handlers, which record work on a matter.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from commands import models as m
from commands.auth import Principal, require_grant
from commands.decision import Decision
from commands.ledger_app import Context
from ledger.domain.events import Arrangement, Instalment
from ledger.domain.matter import Matter


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


def matter_for(ctx: Context, who: Principal, matter_id: UUID, action: str) -> Matter:
    matter = ctx.matter(matter_id)
    require_grant(who, ctx.access(who.id), action, client_id=matter.client_id,
                  matter_id=matter.id)
    return matter


def close_matter(ctx: Context, who: Principal, cmd: m.CloseMatter) -> Decision:
    matter = matter_for(ctx, who, cmd.matter_id, "manage_matter")
    matter.close(actor=who.id, effective_on=cmd.closed_on, reason=cmd.reason)
    return Decision([matter], {"matter_id": str(matter.id)})


def set_rate(ctx: Context, who: Principal, cmd: m.SetRate) -> Decision:
    matter = matter_for(ctx, who, cmd.matter_id, "manage_matter")
    ctx.firm().timekeeper(cmd.timekeeper_id)
    matter.set_rate(actor=who.id, effective_on=cmd.effective_from,
                    timekeeper_id=cmd.timekeeper_id,
                    rate_minor_per_hour=cmd.rate_minor_per_hour)
    return Decision([matter], {"matter_id": str(matter.id)})


def record_recovery(ctx: Context, who: Principal, cmd: m.RecordRecovery) -> Decision:
    matter = matter_for(ctx, who, cmd.matter_id, "manage_matter")
    recovery_id = uuid4()
    matter.record_recovery(actor=who.id, effective_on=cmd.recovered_on,
                           recovery_id=recovery_id, amount_minor=cmd.amount_minor)
    return Decision([matter], {"recovery_id": str(recovery_id)})
