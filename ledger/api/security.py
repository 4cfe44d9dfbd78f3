"""Who may call what: bearer keys, the role's routes, and the chain's grants.

Two gates, both on every request, nothing cached between requests:

1. the key's role must be allowed on the route (``ROUTE_ROLES``): an auditor
   or a client never reaches a write, a timekeeper only its own time;
2. the data must be reachable through ``AccessGranted`` events that are
   neither revoked nor expired today, read fresh from the chain (``Gate``).
   Firm admins need no grant (as on the command side).
"""

# No "from __future__ import annotations": FastAPI must resolve the closures' annotations.

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import Depends, Request

from commands.errors import AccessDeniedError
from commands.ledger_app import Context
from ledger.api.keys import Caller
from ledger.api.problems import RoleForbiddenError, UnauthenticatedError
from ledger.api.state import ApiState
from ledger.domain.access import AccessList
from ledger.domain.roles import (  # role names and sets live in one module, re-exported here
    ADMIN,
    ADMIN_ONLY,
    AUDIT,
    AUDITOR,
    BILLING,
    CLERK,
    CLIENT,
    ME,
    MONEY_READ,
    STAFF_READ,
    TIME,
    TK,
)

__all__ = ["ADMIN", "ADMIN_ONLY", "AUDIT", "AUDITOR", "BILLING", "CLERK", "CLIENT", "ME",
           "MONEY_READ", "STAFF_READ", "TIME", "TK", "Gate", "allow", "authenticate",
           "gate_for", "state_of"]


def state_of(request: Request) -> ApiState:
    found: ApiState = request.app.state.ledger
    return found


def authenticate(request: Request) -> Caller:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthenticatedError("a bearer API key is required", field="Authorization")
    caller = state_of(request).keys.authenticate(token.strip())
    if caller is None:
        raise UnauthenticatedError("the API key is unknown or revoked", field="Authorization")
    request.state.principal = caller.principal.id
    structlog.contextvars.bind_contextvars(principal=caller.principal.id)
    return caller


def allow(roles: frozenset[str]) -> Callable[..., Caller]:
    """A dependency: the authenticated caller, if its role may use the route."""

    def guard(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
        if caller.role not in roles:
            raise RoleForbiddenError(f"the role {caller.role} may not use this route",
                                     field="role")
        return caller

    return guard


class Gate:
    """The caller's grants as the chain holds them at this request."""

    def __init__(self, caller: Caller, access: AccessList | None) -> None:
        self.caller, self.access = caller, access
        self.today = datetime.now(UTC).date()

    @property
    def unrestricted(self) -> bool:
        return self.caller.role == ADMIN

    def can_read(self, client_id: UUID | None, matter_id: UUID | None = None) -> bool:
        if self.unrestricted:
            return True
        return self.access is not None and self.access.allows(
            "read", client_id=client_id, matter_id=matter_id, today=self.today)

    def require(self, client_id: UUID | None, matter_id: UUID | None = None) -> None:
        if not self.can_read(client_id, matter_id):
            field = "matter_id" if matter_id is not None else "client_id"
            raise AccessDeniedError("the principal holds no active grant for this data",
                                    field=field)

    def visible(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows whose client (or matter) the caller may read."""
        return [r for r in rows if self.can_read(_uuid(r.get("client_id")),
                                                 _uuid(r.get("matter_id")))]


def _uuid(value: Any) -> UUID | None:
    return None if value is None else UUID(str(value))


def gate_for(roles: frozenset[str]) -> Callable[..., Gate]:
    def gate(request: Request, caller: Annotated[Caller, Depends(allow(roles))]) -> Gate:
        service = state_of(request).service
        return Gate(caller, Context(service.app).access(caller.principal.id))

    return gate
