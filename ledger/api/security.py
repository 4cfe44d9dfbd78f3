"""Who may call what: bearer keys, the role's routes, and the chain's grants.

Two gates, both on every request, nothing cached between requests:

1. the key's role must be in the route's role set (``ledger.domain.roles``): an auditor
   or a client never reaches a write, a timekeeper only its own time;
2. the data must be reachable through ``AccessGranted`` events that are
   neither revoked nor expired today, read fresh from the chain (``Gate``).
   Firm admins need no grant (as on the command side).

Both answers are the access policy's (``ledger.domain.policy``); this module
only reads the key and the grants and hands them to it. Data the grants do
not reach answers like an unknown id (404), never 403.
"""

# No "from __future__ import annotations": FastAPI must resolve the closures' annotations.

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from uuid import UUID

import structlog
from fastapi import Depends, Request

from commands.ledger_app import BillingLedger, Context
from ledger.api.keys import Caller, KeyStore
from ledger.api.problems import RoleForbiddenError, UnauthenticatedError
from ledger.api.state import ApiState
from ledger.domain import policy
from ledger.domain.access import AccessList
from ledger.domain.errors import NotFoundError
from ledger.domain.policy import Scope
from ledger.domain.roles import ADMIN


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
    """The caller's grants as the chain holds them at this request, judged by the policy."""

    def __init__(self, caller: Caller, access: AccessList | None,
                 day: date | None = None) -> None:
        self.caller, self.access = caller, access
        self.today = day or policy.today()

    @property
    def unrestricted(self) -> bool:
        return self.caller.role == ADMIN

    def can_read(self, client_id: UUID | None, matter_id: UUID | None = None) -> bool:
        return policy.can_read(self.caller.role, self.access, client_id=client_id,
                               matter_id=matter_id, day=self.today)

    def require(self, client_id: UUID | None, matter_id: UUID | None = None, *,
                hidden: NotFoundError | None = None) -> None:
        """Refuse, exactly as for an unknown id, what the caller's grants do not reach."""
        policy.require(self.caller.role, self.access, "read", client_id=client_id,
                       matter_id=matter_id, hidden=hidden, day=self.today)

    def scope(self, redacted: bool = False) -> Scope:
        return policy.reach_of(self.caller.role, self.access, redacted=redacted, day=self.today)

    def visible(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows whose client (or matter) the caller may read."""
        return [r for r in rows if self.can_read(_uuid(r.get("client_id")),
                                                 _uuid(r.get("matter_id")))]


def _uuid(value: Any) -> UUID | None:
    return None if value is None else UUID(str(value))


def reauthorize(state: ApiState, caller: Caller, redacted: bool = False) -> Scope | None:
    """The caller's scope read again now (key, then grants), or None if its key was revoked.

    Long-lived connections call this at least once a second and before they
    send anything, so a revocation reaches an open stream, not only the next
    request.
    """
    if state.keys.key_revoked(caller.key_id):
        return None
    access = Context(state.service.app).access(caller.principal.id)
    return policy.reach_of(caller.role, access, redacted=redacted, day=state.config.today())


def key_authorizer(keys: KeyStore, app: BillingLedger,
                   today: Callable[[], date] = policy.today) -> Callable[[UUID], Scope | None]:
    """What an API key may see now, by key id (None when revoked or unknown): for webhooks."""

    def authorize(key_id: UUID) -> Scope | None:
        key = keys.find(key_id)
        if key is None or key.revoked_at is not None:
            return None
        return policy.reach_of(key.role, Context(app).access(key.principal_id), day=today())

    return authorize


def gate_for(roles: frozenset[str]) -> Callable[..., Gate]:
    def gate(request: Request, caller: Annotated[Caller, Depends(allow(roles))]) -> Gate:
        state = state_of(request)
        return Gate(caller, Context(state.service.app).access(caller.principal.id),
                    state.config.today())

    return gate
