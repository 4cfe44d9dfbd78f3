"""A client of the firm: billing currency and payment terms.

The client's name and billing contact are confidential and kept only in the
event's ``confidential`` field.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.domain.errors import UnknownCurrencyError
from ledger.domain.events import LedgerCreated, LedgerEvent
from ledger.domain.money import is_currency


class ClientOnboarded(LedgerCreated):
    currency: str
    payment_terms_days: int
    confidential: dict[str, str]


class ClientDataErased(LedgerEvent):
    """The client's data keys were destroyed (crypto-shredding): its confidential
    fields read as erased from now on, everywhere. The financial record is kept
    (amounts, dates, ids stay in clear) on the stated ``legal_basis``."""

    client_id: UUID
    reason: str
    legal_basis: str
    key_versions: tuple[int, ...]


class Client(Aggregate):
    def __init__(self) -> None:
        self.currency = ""
        self.payment_terms_days = 0
        self.confidential: dict[str, str] = {}
        self.erased = False

    @classmethod
    def onboard(
        cls, *, client_id: UUID, actor: str, effective_on: date, name: str,
        billing_contact: str, currency: str, payment_terms_days: int,
    ) -> Client:
        if not is_currency(currency):
            raise UnknownCurrencyError("not an accepted ISO 4217 code", field="currency")
        return cls._create(
            ClientOnboarded, id=client_id, actor=actor, effective_on=effective_on,
            currency=currency, payment_terms_days=payment_terms_days,
            confidential={"name": name, "billing_contact": billing_contact},
        )

    def due_date(self, issued_on: date) -> date:
        """An invoice's due date: the issue date plus the client's payment terms."""
        return issued_on + timedelta(days=self.payment_terms_days)

    def erase(self, *, actor: str, effective_on: date, reason: str, legal_basis: str,
              key_versions: tuple[int, ...]) -> None:
        """Record the erasure (once); the key store destroys the keys after it is saved."""
        if not self.erased:
            self.trigger_event(ClientDataErased, actor=actor, effective_on=effective_on,
                               client_id=self.id, reason=reason, legal_basis=legal_basis,
                               key_versions=key_versions)

    def when(self, event: Any) -> None:
        if isinstance(event, ClientOnboarded):
            self.currency = event.currency
            self.payment_terms_days = event.payment_terms_days
            self.confidential = dict(event.confidential)
        elif isinstance(event, ClientDataErased):
            self.erased = True
