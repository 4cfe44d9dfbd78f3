"""Handler for expenses logged on a matter."""

from __future__ import annotations

from uuid import uuid4

from commands import models as m
from commands.auth import Principal
from commands.decision import Decision
from commands.handlers.matters import matter_for
from commands.ledger_app import Context


def log_expense(ctx: Context, who: Principal, cmd: m.LogExpense) -> Decision:
    matter = matter_for(ctx, who, cmd.matter_id, "log_work")
    entry_id = uuid4()
    matter.log_expense(actor=who.id, entry_id=entry_id, spent_on=cmd.spent_on,
                       expense_code=cmd.expense_code, description=cmd.description,
                       amount_minor=cmd.amount_minor, currency=cmd.currency,
                       billable=cmd.billable)
    return Decision([matter], {"entry_id": str(entry_id)})
