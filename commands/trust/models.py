"""Trust command models: validated by pydantic before anything runs.

Same conventions as ``commands.models``: unknown fields refused, money strict
integer minor units, an ``idempotency_key`` on every command. Notice and
consent fields are optional *here* on purpose: leaving them out is a breach of
a trust rule, refused by the domain with its own error type
(``trust-notice-missing``, ``trust-consent-missing``), not a generic
validation error.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from commands.models import MAX_MINOR, Command, Currency, Minor, Name, PrincipalId, Reason

Reference = Annotated[str, Field(min_length=1, max_length=100)]
Jurisdiction = Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
                                    description="ISO 3166 code, e.g. US-AZ")]
SignedMinor = Annotated[int, Field(strict=True, ge=-MAX_MINOR, le=MAX_MINOR)]


class OpenTrustAccount(Command):
    bank: Name
    account_number: Annotated[str, Field(min_length=1, max_length=40)]
    currency: Currency
    iolta: bool
    jurisdiction: Jurisdiction
    bank_charge_cushion_minor: int = Field(default=10_000, strict=True, ge=0, le=10**7)
    opened_on: date


class RecordTrustDeposit(Command):
    account_id: UUID
    client_id: UUID
    matter_id: UUID
    amount_minor: Minor
    currency: Currency
    payor: Name
    purpose: Literal["retainer", "settlement", "cost_advance"]
    reference: Reference
    received_on: date


class ReverseTrustDeposit(Command):
    account_id: UUID
    deposit_id: UUID
    reason: Reason
    reference: Reference | None = Field(
        default=None, description="the bank's reference (default: the deposit's)")
    after_use: bool = Field(
        default=False, description="returned after the money was used: recorded all the same, "
        "the client's ledger goes negative until the firm covers it")
    reversed_on: date


class RecordTrustDisbursement(Command):
    account_id: UUID
    client_id: UUID
    matter_id: UUID
    amount_minor: Minor
    currency: Currency
    payee: Name
    purpose: Reason
    method: Literal["check", "wire"]
    reference: Reference = Field(description="cheque number or wire reference")
    authorised_by: PrincipalId
    authorisation_memo: Reference | None = None
    paid_on: date


class TransferTrustToOperating(Command):
    """Against ``invoice_id``, or without it an earned flat fee of the matter."""

    account_id: UUID
    matter_id: UUID
    amount_minor: Minor
    invoice_id: UUID | None = None
    reference: Reference
    client_notice_sent_on: date | None = None
    notice_reference: Reference | None = None
    authorised_by: PrincipalId | None = Field(
        default=None, description="a current signer of the account (default: the actor)")
    transferred_on: date


class TransferTrustBetweenMatters(Command):
    account_id: UUID
    from_matter_id: UUID
    to_matter_id: UUID
    amount_minor: Minor
    client_consent_ref: Reference | None = None
    consent_on: date | None = None
    direction_ref: Reference | None = Field(
        default=None, description="between clients: the source client's written direction")
    direction_on: date | None = None
    approved_by: PrincipalId | None = Field(
        default=None, description="between clients: a firm admin signer of the account")
    authorised_by: PrincipalId | None = Field(
        default=None, description="a current signer of the account (default: the actor)")
    transferred_on: date


class RequestTrustReplenishment(Command):
    account_id: UUID
    matter_id: UUID
    floor_minor: Minor
    target_minor: Minor | None = Field(default=None,
                                       description="top up to this (default: the floor)")
    due_on: date
    requested_on: date


class DisputeTrustFunds(Command):
    account_id: UUID
    matter_id: UUID
    amount_minor: Minor
    reason: Reason
    disputed_on: date


class ResolveTrustDispute(Command):
    account_id: UUID
    dispute_id: UUID
    resolution: Reason
    resolved_on: date


class DepositFirmFunds(Command):
    account_id: UUID
    amount_minor: Minor
    reference: Reference
    deposited_on: date


class RecordBankCharge(Command):
    account_id: UUID
    amount_minor: Minor
    reference: Reference
    description: Annotated[str, Field(min_length=1, max_length=200)]
    charged_on: date


class StatementLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    date: date
    description: str = Field(default="", max_length=500)
    amount_minor: SignedMinor
    reference: Reference


class ImportBankStatement(Command):
    """Lines as JSON, or ``csv`` text in the format of ``ledger.domain.trust.statements``."""

    account_id: UUID
    period_start: date
    statement_date: date
    opening_balance_minor: SignedMinor
    closing_balance_minor: SignedMinor
    lines: tuple[StatementLineIn, ...] = ()
    csv: str | None = Field(default=None, max_length=2_000_000)

    @model_validator(mode="after")
    def _one_source(self) -> ImportBankStatement:
        if self.csv is not None and self.lines:
            raise ValueError("give lines or csv, not both")
        return self


class CompleteTrustReconciliation(Command):
    account_id: UUID
    period_end: date
    signed_on: date


class AddTrustSigner(Command):
    account_id: UUID
    principal_id: PrincipalId
    firm_admin: bool = Field(default=False,
                             description="may approve transfers between clients")
    added_on: date


class RemoveTrustSigner(Command):
    account_id: UUID
    principal_id: PrincipalId
    removed_on: date


class CoverTrustShortfall(Command):
    account_id: UUID
    matter_id: UUID
    amount_minor: Minor
    reference: Reference
    covered_on: date
