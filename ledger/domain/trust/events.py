"""The trust-accounting event catalog (DOMAIN.md §2 and the catalog's Trust rows).

Every event belongs to one ``TrustAccount`` aggregate (one bank account).
Amounts are positive integers of minor units in the account's currency; the
direction is the event's meaning. Payor, payee, bank and statement-line
descriptions are confidential and travel only in ``confidential`` (the field
the per-client encryption seals); events that concern one client name it in
``client_id`` so that sealing can find the client's key.
"""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

import msgspec

from ledger.domain.events import LedgerCreated, LedgerEvent

TrustPurpose = Literal["retainer", "settlement", "cost_advance"]
DisbursementMethod = Literal["check", "wire"]
TransferBasis = Literal["invoice", "flat_fee"]


class TrustAccountOpened(LedgerCreated):
    """``confidential``: ``bank`` (bank name) and ``account`` (account number)."""

    currency: str
    iolta: bool
    jurisdiction: str
    bank_charge_cushion_minor: int
    confidential: dict[str, str]


class TrustDepositRecorded(LedgerEvent):
    """Money received into trust for a client's matter; ``confidential``: ``payor``."""

    deposit_id: UUID
    client_id: UUID
    matter_id: UUID
    amount_minor: int
    purpose: TrustPurpose
    reference: str
    confidential: dict[str, str]


class TrustDepositReversed(LedgerEvent):
    """A deposit returned unpaid by the bank (bounced cheque, NSF, recalled wire)."""

    deposit_id: UUID
    client_id: UUID
    matter_id: UUID
    amount_minor: int
    reason: str
    reference: str


class TrustDisbursementRecorded(LedgerEvent):
    """Money paid out of trust for a client; ``confidential``: ``payee``.

    ``reference`` is the cheque number or the wire reference; a wire also names
    its written authorisation memo.
    """

    disbursement_id: UUID
    client_id: UUID
    matter_id: UUID
    amount_minor: int
    purpose: str
    method: DisbursementMethod
    reference: str
    authorised_by: str
    authorisation_memo: str | None
    confidential: dict[str, str]


class TrustTransferredToOperating(LedgerEvent):
    """Earned money moved to the firm's operating account.

    With ``basis="invoice"`` the same transaction records ``payment_id`` (method
    ``trust``) allocated to ``invoice_id``. ``client_notice_sent_on`` is never
    after ``effective_on``.
    """

    transfer_id: UUID
    client_id: UUID
    matter_id: UUID
    amount_minor: int
    basis: TransferBasis
    invoice_id: UUID | None
    payment_id: UUID | None
    reference: str
    client_notice_sent_on: date
    notice_reference: str


class TrustTransferredBetweenMatters(LedgerEvent):
    """Client money moved between matter ledgers, with the client's written consent."""

    transfer_id: UUID
    from_client_id: UUID
    from_matter_id: UUID
    to_client_id: UUID
    to_matter_id: UUID
    amount_minor: int
    client_consent_ref: str
    consent_on: date


class TrustReplenishmentRequested(LedgerEvent):
    """An evergreen retainer fell below its floor: the client is asked to top it up."""

    request_id: UUID
    client_id: UUID
    matter_id: UUID
    floor_minor: int
    balance_minor: int
    requested_minor: int
    due_on: date


class TrustFundsDisputed(LedgerEvent):
    """Part of a matter's trust balance is claimed by the firm and disputed."""

    dispute_id: UUID
    client_id: UUID
    matter_id: UUID
    amount_minor: int
    reason: str


class TrustDisputeResolved(LedgerEvent):
    dispute_id: UUID
    resolution: str


class FirmFundsDeposited(LedgerEvent):
    """The firm's own money put in trust to cover bank charges (firm ledger)."""

    entry_id: UUID
    amount_minor: int
    reference: str


class BankChargeRecorded(LedgerEvent):
    """A bank fee taken from the account, charged to the firm ledger."""

    entry_id: UUID
    amount_minor: int
    reference: str
    description: str


class StatementLine(msgspec.Struct, frozen=True):
    """One line of a bank statement: signed amount (credit > 0, debit < 0)."""

    line_no: int
    on: date
    amount_minor: int
    reference: str


class BankStatementImported(LedgerEvent):
    """A bank statement; ``effective_on`` is its closing date.

    ``confidential`` holds each line's description under ``line:<line_no>``.
    """

    statement_id: UUID
    period_start: date
    opening_balance_minor: int
    closing_balance_minor: int
    lines: tuple[StatementLine, ...]
    source_sha256: str
    confidential: dict[str, str]


class TrustReconciliationCompleted(LedgerEvent):
    """A balanced three-way reconciliation for ``period_end``, signed by ``actor``."""

    reconciliation_id: UUID
    period_end: date
    statement_id: UUID
    bank_balance_minor: int
    deposits_in_transit_minor: int
    outstanding_checks_minor: int
    adjusted_bank_minor: int
    journal_minor: int
    client_ledgers_minor: int
    firm_ledger_minor: int
    outstanding_items: int
    status: Literal["balanced"]
    signed_by: str


TRUST_EVENTS: tuple[type, ...] = (
    TrustAccountOpened, TrustDepositRecorded, TrustDepositReversed, TrustDisbursementRecorded,
    TrustTransferredToOperating, TrustTransferredBetweenMatters, TrustReplenishmentRequested,
    TrustFundsDisputed, TrustDisputeResolved, FirmFundsDeposited, BankChargeRecorded,
    BankStatementImported, TrustReconciliationCompleted,
)
"""Every event a trust account records."""

# First recorded from the module ``ledger.domain.trust_events``: a stored topic is part of
# each event's hash, so these classes keep writing it (see ``ledger.domain.moved``).
for _event_class in TRUST_EVENTS:
    setattr(_event_class, "TOPIC", f"ledger.domain.trust_events:{_event_class.__qualname__}")  # noqa: B010


class TrustTransferredBetweenClients(LedgerEvent):
    """Client money moved to another client's matter (ABA Rule 1.15(d)): only on the
    source client's written direction and a firm admin's approval; every one is an
    exception an examiner sees on both clients' ledgers."""

    transfer_id: UUID
    from_client_id: UUID
    from_matter_id: UUID
    to_client_id: UUID
    to_matter_id: UUID
    amount_minor: int
    direction_ref: str
    direction_on: date
    approved_by: str
    authorised_by: str


class TrustSignerAdded(LedgerEvent):
    """A principal may now authorise money out of this account and sign its
    reconciliations; ``firm_admin`` signers may also approve transfers between clients."""

    principal_id: str
    firm_admin: bool


class TrustSignerRemoved(LedgerEvent):
    principal_id: str


class FirmCoveredShortfall(LedgerEvent):
    """The firm's own money put in trust to bring a client matter's ledger that a
    deposit returned after use left negative back to zero (never more than the shortfall)."""

    entry_id: UUID
    client_id: UUID
    matter_id: UUID
    amount_minor: int
    reference: str


SIGNER_EVENTS: tuple[type, ...] = (TrustTransferredBetweenClients, TrustSignerAdded,
                                   TrustSignerRemoved, FirmCoveredShortfall)
"""Trust events added after the move: their topics name this module."""

for _event_class in SIGNER_EVENTS:
    setattr(_event_class, "TOPIC", f"{__name__}:{_event_class.__qualname__}")  # noqa: B010
