"""Principals and authorisation.

A principal (authenticated by the outer shell: API key, command line user) is
an id and its firm-wide roles. Only ``firm_admin`` acts everywhere; everyone
else acts within the clients and matters granted to them by ``AccessGranted``
events, with what the grant's role permits (an auditor or client only reads).
Firm-level actions (set-up, timekeepers, onboarding, access) are admin-only.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from commands.errors import AccessDeniedError
from ledger.domain import policy
from ledger.domain.access import AccessList
from ledger.domain.errors import NotFoundError
from ledger.domain.roles import ADMIN, Role

RoleName = Role  # the name the API keys and older callers import


class Principal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9_.@:-]{1,100}$")
    roles: frozenset[RoleName] = frozenset()

    @property
    def is_firm_admin(self) -> bool:
        return ADMIN in self.roles


def require_admin(principal: Principal, action: str) -> None:
    if not principal.is_firm_admin:
        raise AccessDeniedError(f"only a firm admin may {action}", field="principal")


def require_grant(
    principal: Principal, access: AccessList | None, action: str, *,
    client_id: UUID | None, matter_id: UUID | None = None,
    hidden: NotFoundError | None = None,
) -> None:
    """Refuse unless the principal is a firm admin or holds an active, fitting grant.

    The one grant check is the access policy's (``ledger.domain.policy.require``):
    a principal that may not read the client or matter at all is answered
    with ``hidden`` (what an unknown id of the kind the caller named raises).
    """
    policy.require(ADMIN if principal.is_firm_admin else "", access, action,
                   client_id=client_id, matter_id=matter_id, hidden=hidden)
