"""Command models: every command is validated by pydantic before anything runs.

Unknown fields are refused (``extra="forbid"``). Money fields are strict
integers of minor units (a float or a string is refused, never coerced), and
durations whole minutes. Every command carries an ``idempotency_key``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from commands.errors import InvalidCommandError
from ledger.domain.money import MINUTES_PER_DAY
from ledger.domain.roles import GrantedRole

MAX_MINOR = 10**13  # 100 billion in a two-decimal currency: larger is a typing error

Minor = Annotated[int, Field(strict=True, gt=0, le=MAX_MINOR)]
Rate = Annotated[int, Field(strict=True, gt=0, le=10**9)]
Minutes = Annotated[int, Field(strict=True, gt=0, le=MINUTES_PER_DAY)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Reason = Annotated[str, Field(min_length=3, max_length=500)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
TimekeeperId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,20}$")]
PrincipalId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.@:-]{1,100}$")]
TaskCode = Annotated[str, Field(pattern=r"^[A-Z][0-9]{3}$")]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    idempotency_key: str = Field(pattern=r"^[A-Za-z0-9_.:-]{8,128}$")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        """PostgreSQL text cannot hold U+0000: refuse it here, before anything is recorded."""
        if _holds_nul(data):
            raise ValueError("text may not contain the NUL character (U+0000)")
        return data


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(v) for v in value)
    return False


class SetUpFirm(Command):
    currency: Currency
    invoice_prefix: str = Field(default="", pattern=r"^[A-Z0-9-]{0,10}$")
    first_invoice_number: int = Field(default=1, strict=True, ge=1, le=10**8)
    number_digits: int = Field(default=5, strict=True, ge=1, le=9)
    effective_on: date = Field(default_factory=date.today)


class RegisterTimekeeper(Command):
    timekeeper_id: TimekeeperId
    name: Name
    title: str = Field(pattern=r"^[A-Z]{2,6}$", description="LEDES classification, e.g. PARTNR")
    default_rate_minor_per_hour: Rate
    effective_on: date = Field(default_factory=date.today)


class OnboardClient(Command):
    name: Name
    billing_contact: Name
    currency: Currency
    payment_terms_days: int = Field(strict=True, ge=0, le=365)
    effective_on: date = Field(default_factory=date.today)


class HourlyTerms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["hourly"] = "hourly"
    increment_minutes: int = Field(default=6, strict=True, ge=1, le=60)


class InstalmentTerms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    due_on: date
    amount_minor: Minor


class FlatFeeTerms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["flat_fee"] = "flat_fee"
    amount_minor: Minor
    instalments: tuple[InstalmentTerms, ...] = ()

    @model_validator(mode="after")
    def _instalments_add_up(self) -> FlatFeeTerms:
        if self.instalments and sum(i.amount_minor for i in self.instalments) != (
            self.amount_minor
        ):
            raise ValueError("instalments must add up to the flat fee")
        return self


class ContingencyTerms(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["contingency"] = "contingency"
    percentage_bp: int = Field(strict=True, gt=0, le=10_000, description="basis points")


Terms = Annotated[HourlyTerms | FlatFeeTerms | ContingencyTerms, Field(discriminator="kind")]


class OpenMatter(Command):
    client_id: UUID
    title: Name
    utbms: bool = False
    arrangement: Terms = Field(default_factory=HourlyTerms)
    opened_on: date


class EraseClientData(Command):
    """Crypto-shred a client: destroy its data keys; the financial record stays."""

    client_id: UUID
    reason: Reason
    legal_basis: Reason = Field(description="why the financial record is retained")
    erased_on: date = Field(default_factory=date.today)


class CloseMatter(Command):
    matter_id: UUID
    reason: Reason
    closed_on: date


class SetRate(Command):
    matter_id: UUID
    timekeeper_id: TimekeeperId
    rate_minor_per_hour: Rate
    effective_from: date


class LogTime(Command):
    matter_id: UUID
    timekeeper_id: TimekeeperId
    work_on: date
    minutes: Minutes
    task_code: TaskCode | None = None
    activity_code: TaskCode | None = None
    narrative: Text
    billable: bool = True


class CorrectTime(Command):
    """New values for an unbilled time entry; omitted fields keep their value."""

    matter_id: UUID
    entry_id: UUID
    work_on: date | None = None
    timekeeper_id: TimekeeperId | None = None
    minutes: Minutes | None = None
    task_code: TaskCode | None = None
    activity_code: TaskCode | None = None
    narrative: Text | None = None
    billable: bool | None = None
    reason: Reason
    corrected_on: date


class VoidEntry(Command):
    matter_id: UUID
    entry_id: UUID
    reason: Reason
    voided_on: date


class LogExpense(Command):
    matter_id: UUID
    spent_on: date
    expense_code: TaskCode | None = None
    description: Text
    amount_minor: Minor
    currency: Currency
    billable: bool = True


class RecordRecovery(Command):
    matter_id: UUID
    amount_minor: Minor
    recovered_on: date


class DraftInvoice(Command):
    matter_id: UUID
    period_start: date
    period_end: date
    drafted_on: date


class WriteDown(Command):
    invoice_id: UUID
    line_no: int = Field(strict=True, ge=1)
    amount_minor: Minor
    reason: Reason
    written_down_on: date


class IssueInvoice(Command):
    invoice_id: UUID
    issued_on: date


class VoidInvoice(Command):
    invoice_id: UUID
    reason: Reason
    voided_on: date


class Allocation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    invoice_id: UUID
    amount_minor: Minor


class RecordPayment(Command):
    client_id: UUID
    amount_minor: Minor
    currency: Currency
    method: Literal["card", "ach", "wire", "check", "trust"]
    reference: str = Field(min_length=1, max_length=100)
    received_on: date
    allocations: tuple[Allocation, ...] = ()


class AllocatePayment(Command):
    payment_id: UUID
    allocations: tuple[Allocation, ...] = Field(min_length=1)
    allocated_on: date


class WriteOff(Command):
    invoice_id: UUID
    amount_minor: Minor
    reason: Reason
    approved_by: PrincipalId
    written_off_on: date


class IssueCreditNote(Command):
    invoice_id: UUID
    amount_minor: Minor
    reason: Reason
    issued_on: date


class GrantAccess(Command):
    principal_id: PrincipalId
    scope: Literal["client", "matter"]
    scope_id: UUID
    role: GrantedRole
    reason: Reason
    expires_on: date | None = None
    granted_on: date = Field(default_factory=date.today)


class RevokeAccess(Command):
    principal_id: PrincipalId
    grant_id: UUID
    reason: Reason
    revoked_on: date = Field(default_factory=date.today)


TCommand = TypeVar("TCommand", bound=Command)


def parse(model: type[TCommand], data: dict[str, Any]) -> TCommand:
    """Validate raw input into a command, or refuse with the first bad field and why."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidCommandError(f"{field or 'command'}: {first['msg']}", field=field) from None
