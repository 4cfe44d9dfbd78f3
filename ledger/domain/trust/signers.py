"""Authorised signers of a trust account: who may send client money out of it.

Why on the account: an examiner asks, for every cheque, wire and transfer, whether
the person named on it could sign for that bank account on that day. Keeping the
signer list in the account's own history answers that from the same ordered
journal the money moves in, and a removed signer can sign nothing dated after
the removal is recorded.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.domain.trust.errors import (
    TrustSignerExistsError,
    TrustSignerNotFoundError,
    TrustUnauthorisedSignerError,
)
from ledger.domain.trust.events import TrustSignerAdded, TrustSignerRemoved


class TrustSigners(Aggregate):
    """Mixed into ``TrustAccount``: ``signers`` maps a principal to whether it is a firm admin."""

    def __init__(self) -> None:
        super().__init__()
        self.signers: dict[str, bool] = {}

    def add_signer(self, *, actor: str, effective_on: date, principal_id: str,
                   firm_admin: bool) -> None:
        if self.signers.get(principal_id) == firm_admin:
            raise TrustSignerExistsError("already an authorised signer of this account",
                                         field="principal_id")
        self.trigger_event(TrustSignerAdded, actor=actor, effective_on=effective_on,
                           principal_id=principal_id, firm_admin=firm_admin)

    def remove_signer(self, *, actor: str, effective_on: date, principal_id: str) -> None:
        if principal_id not in self.signers:
            raise TrustSignerNotFoundError("not an authorised signer of this account",
                                           field="principal_id")
        self.trigger_event(TrustSignerRemoved, actor=actor, effective_on=effective_on,
                           principal_id=principal_id)

    def check_signer(self, principal_id: str, field: str) -> None:
        if principal_id not in self.signers:
            raise TrustUnauthorisedSignerError(
                "not a current authorised signer of this trust account "
                "(see `ledger trust signers --account ...`)", field=field)

    def when_signer(self, event: Any) -> None:
        match event:
            case TrustSignerAdded():
                self.signers[event.principal_id] = event.firm_admin
            case TrustSignerRemoved():
                self.signers.pop(event.principal_id, None)
