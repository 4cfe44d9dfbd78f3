"""Who may act on which client or matter: grants and revocations as events.

A principal's grants live on one ``AccessList`` aggregate per principal. A
grant names a scope (a client, which covers all its matters, or one matter), a
role, who granted it and why, and an optional expiry date (the grant holds up
to and including the day before ``expires_on``). Firm admins need no grant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.domain import ids
from ledger.domain.errors import GrantNotFoundError
from ledger.domain.events import LedgerCreated, LedgerEvent
from ledger.domain.roles import AUDITOR, CLERK, CLIENT, TK, Role

ScopeKind = Literal["client", "matter"]
Action = Literal["read", "log_work", "manage_matter", "bill", "collect"]

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    CLERK: frozenset({"read", "log_work", "manage_matter", "bill", "collect"}),
    TK: frozenset({"read", "log_work"}),
    AUDITOR: frozenset({"read"}),
    CLIENT: frozenset({"read"}),
}


class AccessListOpened(LedgerCreated):
    principal_id: str


class AccessGranted(LedgerEvent):
    """``actor`` is the granting principal; ``effective_on`` the grant date."""

    grant_id: UUID
    principal_id: str
    scope: ScopeKind
    scope_id: UUID
    role: Role
    reason: str
    expires_on: date | None


class AccessRevoked(LedgerEvent):
    grant_id: UUID
    reason: str


@dataclass(frozen=True)
class Grant:
    grant_id: UUID
    scope: ScopeKind
    scope_id: UUID
    role: Role
    expires_on: date | None

    def active_on(self, day: date) -> bool:
        return self.expires_on is None or day < self.expires_on


class AccessList(Aggregate):
    def __init__(self) -> None:
        self.principal_id = ""
        self.grants: dict[UUID, Grant] = {}

    @classmethod
    def open(cls, *, actor: str, effective_on: date, principal_id: str) -> AccessList:
        return cls._create(AccessListOpened, id=ids.access_list_id(principal_id), actor=actor,
                           effective_on=effective_on, principal_id=principal_id)

    def grant(self, *, actor: str, effective_on: date, grant_id: UUID, scope: ScopeKind,
              scope_id: UUID, role: Role, reason: str, expires_on: date | None) -> None:
        self.trigger_event(AccessGranted, actor=actor, effective_on=effective_on,
                           grant_id=grant_id, principal_id=self.principal_id, scope=scope,
                           scope_id=scope_id, role=role, reason=reason, expires_on=expires_on)

    def revoke(self, *, actor: str, effective_on: date, grant_id: UUID, reason: str) -> None:
        if grant_id not in self.grants:
            raise GrantNotFoundError("no such active grant for this principal",
                                     field="grant_id")
        self.trigger_event(AccessRevoked, actor=actor, effective_on=effective_on,
                           grant_id=grant_id, reason=reason)

    def allows(self, action: str, *, client_id: UUID | None, matter_id: UUID | None,
               today: date) -> bool:
        """Whether an active grant on the client or the matter permits the action."""
        for grant in self.grants.values():
            in_scope = (grant.scope == "client" and grant.scope_id == client_id) or (
                grant.scope == "matter" and grant.scope_id == matter_id
            )
            if in_scope and grant.active_on(today) and action in ROLE_ACTIONS.get(
                grant.role, frozenset()
            ):
                return True
        return False

    def when(self, event: Any) -> None:
        match event:
            case AccessListOpened():
                self.principal_id = event.principal_id
            case AccessGranted():
                self.grants[event.grant_id] = Grant(event.grant_id, event.scope,
                                                    event.scope_id, event.role,
                                                    event.expires_on)
            case AccessRevoked():
                self.grants.pop(event.grant_id, None)
