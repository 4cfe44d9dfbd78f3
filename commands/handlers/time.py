"""Handlers for time entries: logging, correcting and voiding them.

A time entry also books its minutes on the timekeeper's day (``TimesheetDay``),
saved in the same transaction, so a day never holds more than 24 hours.
"""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.domain import Aggregate

from commands import models as m
from commands.auth import Principal
from commands.decision import Decision
from commands.handlers.matters import matter_for
from commands.ledger_app import Context


def log_time(ctx: Context, who: Principal, cmd: m.LogTime) -> Decision:
    matter = matter_for(ctx, who, cmd.matter_id, "log_work")
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
    matter = matter_for(ctx, who, cmd.matter_id, "log_work")
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
    matter = matter_for(ctx, who, cmd.matter_id, "log_work")
    entry = matter.void_entry(actor=who.id, effective_on=cmd.voided_on, entry_id=cmd.entry_id,
                              reason=cmd.reason)
    changed: list[Aggregate] = [matter]
    if entry.kind == "time" and entry.timekeeper_id:
        day = ctx.day(actor=who.id, timekeeper_id=entry.timekeeper_id, work_on=entry.work_on)
        day.release(actor=who.id, entry_id=entry.entry_id)
        changed.append(day)
    return Decision(changed, {"entry_id": str(entry.entry_id)})
