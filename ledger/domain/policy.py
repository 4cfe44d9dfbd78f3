"""The one access policy: who may see which event, row or route, and in what form.

Why one module: the REST routes, the pull feed, the live stream, webhooks and
the relay used to decide visibility each in their own way, and they
disagreed (a client key read narratives and write-off reasons through the
feed that the REST routes refused it). Every surface now asks this module;
nothing else decides. It reads nothing itself: the caller hands it the
principal's role, the grants it holds on the chain (``AccessList``) and the
day, so the answer is the same wherever it is asked.

The answers:

* **reach** (``reach_of``): the clients and matters a principal may read at
  all: everything for a firm admin, else the active grants that permit
  ``read`` (``require`` and ``can_read`` are the one grant check, used by the
  command side and the HTTP gate alike);
* **form** of an event (``event_form``): ``full``, ``redacted`` (confidential
  and internal fields replaced by ``{"redacted": true}``) or ``withheld``
  (a stub: position, time and the chain hashes). Out of reach is withheld for
  every role; within reach the role decides by event type (``ROLE_FORMS``);
* **rows** (``visible_row``, ``shown_invoice``, ``statement_line``): the same
  rules for the read models' rows the REST routes return;
* **routes**: which roles may call a group of routes at all is one of the role sets
  of ``ledger.domain.roles`` (``BILLING``, ``MONEY_READ``, ...).

An id the principal may not read answers exactly like an unknown id
(``hidden``): the same not-found error, so a refusal never confirms that
another client's invoice exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from ledger.domain.access import ROLE_ACTIONS, AccessList
from ledger.domain.errors import NotFoundError
from ledger.domain.roles import (
    ADMIN,
    AUDITOR,
    CLERK,
    CLIENT,
    TK,
)
from ledger.errors import LedgerError

Form = Literal["full", "redacted", "withheld"]
FULL: Form = "full"
REDACTED: Form = "redacted"
WITHHELD: Form = "withheld"

REDACTED_VALUE: dict[str, bool] = {"redacted": True}


class AccessDeniedError(LedgerError):
    """The principal holds no grant that permits this action on this client or matter.

    ``hidden`` is set when the principal may not even read the client or
    matter: it is the error an unknown id of the kind the caller named
    raises, and it is what the HTTP API answers (the same 404), so that a
    refusal never confirms that another client's record exists. Inside the
    process (command line, tests) the refusal keeps its own type.
    """

    type = "access-denied"

    def __init__(self, message: str, *, field: str | None = None,
                 hidden: NotFoundError | None = None) -> None:
        super().__init__(message, field=field)
        self.hidden = hidden


def today() -> date:
    """The day grants are judged on: grants expire at midnight UTC."""
    return datetime.now(UTC).date()


# ---------------------------------------------------------------- grants

def can_read(role: str, access: AccessList | None, *, client_id: UUID | None,
             matter_id: UUID | None = None, day: date | None = None) -> bool:
    """Firm admin, or an active grant on the client (or the matter) that permits reading."""
    return role == ADMIN or (access is not None and access.allows(
        "read", client_id=client_id, matter_id=matter_id, today=day or today()))


def require(role: str, access: AccessList | None, action: str, *, client_id: UUID | None,
            matter_id: UUID | None = None, hidden: NotFoundError | None = None,
            day: date | None = None) -> None:
    """Refuse unless the principal is a firm admin or holds an active grant permitting ``action``.

    A principal that may not even read the client or matter is refused with
    ``hidden`` attached (the error an unknown id raises; by default the
    matter's or client's not-found), which the HTTP API answers instead.
    """
    if role == ADMIN:
        return
    on = day or today()
    field = "matter_id" if matter_id is not None else "client_id"
    if not can_read(role, access, client_id=client_id, matter_id=matter_id, day=on):
        raise AccessDeniedError(
            f"the principal may not {action.replace('_', ' ')} here", field=field,
            hidden=hidden or not_found("matter" if matter_id is not None else "client"))
    assert access is not None
    if not access.allows(action, client_id=client_id, matter_id=matter_id, today=on):
        raise AccessDeniedError(f"the principal may not {action.replace('_', ' ')} here",
                                field=field)


def not_found(kind: Literal["client", "matter", "invoice", "payment"]) -> NotFoundError:
    """The error an unknown id of this kind raises (the same words and field)."""
    from ledger.domain import errors

    cls: type[NotFoundError] = {
        "client": errors.ClientNotFoundError, "matter": errors.MatterNotFoundError,
        "invoice": errors.InvoiceNotFoundError, "payment": errors.PaymentNotFoundError}[kind]
    return cls(f"no such {kind}", field=f"{kind}_id")


# ---------------------------------------------------------------- reach

class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """What a viewer reaches: firm-wide or some clients and matters; its role; clear or redacted.

    A scope set by an operator (a webhook or relay registered with
    ``--scope``, ``events tail``) is firm-admin business: ``role`` defaults
    to ``firm_admin``, so within its reach every event is shown in full.
    """

    firm: bool = False
    clients: frozenset[UUID] = frozenset()
    matters: frozenset[UUID] = frozenset()
    confidential: bool = True
    role: str = ADMIN

    def visible(self, client_id: UUID | None, matter_id: UUID | None) -> bool:
        if self.firm:
            return True
        return (client_id is not None and client_id in self.clients) or (
            matter_id is not None and matter_id in self.matters)

    def shows_confidential(self, client_id: UUID | None, matter_id: UUID | None) -> bool:
        return self.confidential and self.visible(client_id, matter_id)

    def covers(self, other: Scope) -> bool:
        """Whether this (current) scope still allows everything ``other`` (an earlier one) did."""
        if self.role != other.role or (other.confidential and not self.confidential):
            return False
        if self.firm:
            return True
        return (not other.firm and other.clients <= self.clients
                and other.matters <= self.matters)

    def narrowed(self, to: Scope) -> Scope:
        """This scope cut down to ``to`` as well (both must admit an event)."""
        if to.firm:
            return msgspec.structs.replace(self, confidential=self.confidential and to.confidential)
        if self.firm:
            return Scope(clients=to.clients, matters=to.matters, role=self.role,
                         confidential=self.confidential and to.confidential)
        return Scope(clients=self.clients & to.clients, matters=self.matters & to.matters,
                     role=self.role, confidential=self.confidential and to.confidential)

    def describe(self) -> str:
        """The scope in the text form ``parse_scope`` reads (without the role)."""
        parts = ["firm"] if self.firm else []
        parts += [f"client:{c}" for c in sorted(self.clients, key=str)]
        parts += [f"matter:{m}" for m in sorted(self.matters, key=str)]
        if not self.confidential:
            parts.append("redacted")
        return ",".join(parts) or "none"


def reach_of(role: str, access: AccessList | None, *, redacted: bool = False,
             day: date | None = None) -> Scope:
    """A principal's scope: the firm for a firm admin, else its active read grants."""
    if role == ADMIN:
        return Scope(firm=True, confidential=not redacted, role=role)
    on = day or today()
    clients: set[UUID] = set()
    matters: set[UUID] = set()
    for grant in access.grants.values() if access is not None else ():
        if grant.active_on(on) and "read" in ROLE_ACTIONS.get(grant.role, frozenset()):
            (clients if grant.scope == "client" else matters).add(grant.scope_id)
    return Scope(clients=frozenset(clients), matters=frozenset(matters),
                 confidential=not redacted, role=role)


# ---------------------------------------------------------------- events

MONEY_EVENTS = frozenset({
    "InvoiceDrafted", "WrittenDown", "InvoiceIssued", "InvoiceVoided", "PaymentApplied",
    "WrittenOff", "CreditNoteIssued", "PaymentReceived", "PaymentAllocated"})
"""Invoices and payments: the money routes' events (a timekeeper's key reads none)."""

CLIENT_FORMS: dict[str, Form] = {
    "ClientOnboarded": FULL, "InvoiceIssued": FULL, "PaymentApplied": FULL,
    "CreditNoteIssued": FULL, "PaymentReceived": FULL, "PaymentAllocated": FULL,
    "WrittenOff": REDACTED, "InvoiceVoided": REDACTED,
}
"""A client sees its issued invoices and their lines, payments, credits and its own
record; write-offs and voids without their internal reasons; nothing else
(work in progress, time and expense entries, drafts, write-downs, rates, matters)."""

INTERNAL_FIELDS: dict[str, tuple[str, ...]] = {
    "WrittenOff": ("reason", "approved_by"),
    "InvoiceVoided": ("reason",),
}
"""Fields of an event that are the firm's internal notes, hidden in the redacted form."""


def role_form(role: str, event_type: str) -> Form:
    """How a role sees an event of this type that is within its reach."""
    if role in (ADMIN, CLERK, AUDITOR):
        return FULL
    if role == TK:
        return WITHHELD if event_type in MONEY_EVENTS else FULL
    if role == CLIENT:
        return CLIENT_FORMS.get(event_type, WITHHELD)
    return WITHHELD


def event_form(scope: Scope, event_type: str, client_id: UUID | None,
               matter_id: UUID | None) -> Form:
    """The form in which ``scope`` sees an event of ``event_type`` (a class name) and owner.

    (A scope that asked for redacted confidential fields gets ``full`` events
    with those replaced: ``apply_form`` says which form a payload ends up in.)
    """
    if not scope.visible(client_id, matter_id):
        return WITHHELD
    return role_form(scope.role, event_type)


def apply_form(scope: Scope, event_type: str, payload: dict[str, Any]) -> Form:
    """Shape, in place, the payload of an event within reach; returns the form it is sent in.

    ``redacted`` replaces the confidential field and the event type's internal
    fields with ``{"redacted": true}``; a scope without confidential access
    gets the confidential field replaced on every event.
    """
    form = role_form(scope.role, event_type)
    if form == REDACTED:
        for name in INTERNAL_FIELDS.get(event_type, ()):
            if name in payload:
                payload[name] = dict(REDACTED_VALUE)
    if "confidential" in payload and (form == REDACTED or not scope.confidential):
        payload["confidential"] = dict(REDACTED_VALUE)
        form = REDACTED
    return form


def type_name(topic: str) -> str:
    """``ledger.domain.invoice:InvoiceIssued`` → ``InvoiceIssued``."""
    return topic.rpartition(":")[2]


# ---------------------------------------------------------------- rows

def _uuid(value: Any) -> UUID | None:
    return None if value is None else UUID(str(value))


def visible_row(scope: Scope, row: Mapping[str, Any]) -> bool:
    """Whether a read-model row (with ``client_id``/``matter_id``) is within reach."""
    return scope.visible(_uuid(row.get("client_id")), _uuid(row.get("matter_id")))


def shown_invoice(role: str, row: Mapping[str, Any]) -> bool:
    """A client sees an invoice once it was issued (it has a number); staff see drafts too."""
    return role != CLIENT or row.get("number") is not None


STATEMENT_INTERNAL = {"write_off": "WrittenOff", "void": "InvoiceVoided"}


def statement_line(role: str, line: dict[str, Any]) -> dict[str, Any]:
    """A statement line as the role sees it: a client gets no internal reason."""
    event_type = STATEMENT_INTERNAL.get(str(line.get("kind")))
    if event_type is not None and role_form(role, event_type) == REDACTED:
        return {**line, "reference": dict(REDACTED_VALUE)}
    return line
