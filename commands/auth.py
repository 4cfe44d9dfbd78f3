"""Principals and authorisation.

A principal (authenticated by the outer shell: API key, command line user) is
an id and its firm-wide roles. Only ``firm_admin`` acts everywhere; everyone
else acts within the clients and matters granted to them by ``AccessGranted``
events, with what the grant's role permits (an auditor or client only reads).
Firm-level actions (set-up, timekeepers, onboarding, access) are admin-only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from commands.errors import AccessDeniedError
from ledger.domain.access import AccessList
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
) -> None:
    """Refuse unless the principal is a firm admin or holds an active, fitting grant."""
    if principal.is_firm_admin:
        return
    now = datetime.now(UTC).date()
    if access is None or not access.allows(
        action, client_id=client_id, matter_id=matter_id, today=now
    ):
        field = "matter_id" if matter_id is not None else "client_id"
        raise AccessDeniedError(
            f"the principal may not {action.replace('_', ' ')} here", field=field
        )
