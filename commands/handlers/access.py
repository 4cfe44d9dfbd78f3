"""Handlers for access: grants and revocations on a client or a matter (admin-only)."""

from __future__ import annotations

from uuid import uuid4

from commands import models as m
from commands.auth import Principal, require_admin
from commands.decision import Decision
from commands.ledger_app import Context
from ledger.domain.access import AccessList
from ledger.domain.errors import GrantNotFoundError


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
