"""Invoices: drafted from a matter's unbilled work, written down line by line,
issued (numbered, lines and totals frozen), then settled by payments, credit
notes and write-offs, or voided while nothing is paid on them.

Open balance = total − payments applied − credit notes − write-offs; it never
goes below zero because every settlement is checked against it first.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from ledger.domain.errors import (
    AllocationExceedsBalanceError,
    BillingRuleError,
    CreditExceedsBalanceError,
    CurrencyMismatchError,
    InvalidAmountError,
    InvalidPeriodError,
    InvoiceHasAdjustmentsError,
    InvoiceHasPaymentsError,
    InvoiceNotDraftError,
    InvoiceNotIssuedError,
    NothingToBillError,
    RateNotSetError,
    WriteDownExceedsLineError,
    WriteOffExceedsBalanceError,
)
from ledger.domain.events import InvoiceLine, LedgerCreated, LedgerEvent, ReasonSealedSinceV2
from ledger.domain.firm import Firm
from ledger.domain.matter import Matter
from ledger.domain.money import percentage_of, time_amount
from ledger.domain.rates import billing_rate

InvoiceStatus = Literal["draft", "issued", "voided"]


class InvoiceDrafted(LedgerCreated):
    matter_id: UUID
    client_id: UUID
    currency: str
    period_start: date
    period_end: date
    lines: tuple[InvoiceLine, ...]


class WrittenDown(ReasonSealedSinceV2, LedgerEvent):
    """A line's value reduced before issue (pre-bill review)."""

    line_no: int
    amount_minor: int
    reason: str
    client_id: UUID | None = None
    """Whose key seals ``reason``; ``None`` in v1 events."""


class InvoiceIssued(LedgerEvent):
    """The invoice as issued: number, due date, frozen lines and total."""

    number: str
    due_on: date
    lines: tuple[InvoiceLine, ...]
    total_minor: int


class InvoiceVoided(ReasonSealedSinceV2, LedgerEvent):
    reason: str
    client_id: UUID | None = None
    """Whose key seals ``reason``; ``None`` in v1 events."""


class PaymentApplied(LedgerEvent):
    payment_id: UUID
    amount_minor: int


class WrittenOff(ReasonSealedSinceV2, LedgerEvent):
    """Uncollectible balance of an issued invoice removed from receivables."""

    amount_minor: int
    reason: str
    approved_by: str
    client_id: UUID | None = None
    """Whose key seals ``reason``; ``None`` in v1 events."""


class CreditNoteIssued(ReasonSealedSinceV2, LedgerEvent):
    credit_note_id: UUID
    amount_minor: int
    reason: str
    client_id: UUID | None = None
    """Whose key seals ``reason``; ``None`` in v1 events."""


def draft_lines(matter: Matter, firm: Firm, start: date, end: date) -> tuple[InvoiceLine, ...]:
    """The lines an invoice for ``start..end`` would bill, in a stable order.

    Hourly matters bill billable time at the matter rate in effect on the work
    date (else the timekeeper's default rate, if in the firm's currency); flat-fee
    matters bill instalments due by ``end``; contingency matters bill the
    percentage of each recovery recorded by ``end``. Every matter bills its
    billable expenses. Already billed or voided work is never included.
    """
    if start > end:
        raise InvalidPeriodError("the period starts after it ends", field="period_start")
    drafts: list[dict[str, Any]] = []
    kind = matter.arrangement.kind
    for entry in matter.entries.values():
        source = str(entry.entry_id)
        if entry.voided or not entry.billable or source in matter.billed:
            continue
        if not start <= entry.work_on <= end:
            continue
        if entry.kind == "expense":
            drafts.append(dict(kind="expense", source_id=source, source_revision=entry.revision,
                               work_on=entry.work_on, amount_minor=entry.amount_minor,
                               expense_code=entry.expense_code))
        elif kind == "hourly":
            assert entry.timekeeper_id is not None
            rate = _rate(matter, firm, entry.timekeeper_id, entry.work_on)
            drafts.append(dict(kind="time", source_id=source, source_revision=entry.revision,
                               work_on=entry.work_on, timekeeper_id=entry.timekeeper_id,
                               minutes=entry.minutes, rate_minor_per_hour=rate,
                               amount_minor=time_amount(entry.minutes, rate),
                               task_code=entry.task_code, activity_code=entry.activity_code))
    for inst in matter.arrangement.instalments:
        source = f"instalment:{inst.key}"
        if source not in matter.billed and inst.due_on <= end:
            drafts.append(dict(kind="flat_fee", source_id=source, source_revision=1,
                               work_on=inst.due_on, amount_minor=inst.amount_minor))
    for recovery_id, (on, amount) in matter.recoveries.items():
        source = str(recovery_id)
        if source not in matter.billed and on <= end:
            fee = percentage_of(amount, matter.arrangement.contingency_bp or 0)
            drafts.append(dict(kind="contingency_fee", source_id=source, source_revision=1,
                               work_on=on, amount_minor=fee))
    if not drafts:
        raise NothingToBillError("no unbilled billable work in the period", field="period_end")
    drafts.sort(key=lambda d: (d["work_on"], d["kind"], d["source_id"]))
    return tuple(InvoiceLine(line_no=n, **d) for n, d in enumerate(drafts, start=1))


def open_balance(status: str, total_minor: int, paid_minor: int, credited_minor: int,
                 written_off_minor: int) -> int:
    """What is still owed on an invoice: only an issued one is owed at all.

    The one formula: the aggregate checks settlements against it, and the read
    model (``rm_invoices.open_minor``) stores it for every report and query.
    """
    if status != "issued":
        return 0
    return total_minor - paid_minor - credited_minor - written_off_minor


def _rate(matter: Matter, firm: Firm, timekeeper_id: str, on: date) -> int:
    rate = billing_rate(
        matter.rates.get(timekeeper_id, ()), on, matter_currency=matter.currency,
        firm_currency=firm.currency,
        default_rate=lambda: firm.timekeeper(timekeeper_id).default_rate_minor_per_hour)
    if rate is None:
        raise RateNotSetError(
            "no rate for this timekeeper on the work date in the matter's currency",
            field="timekeeper_id",
        )
    return rate


class Invoice(Aggregate):
    def __init__(self) -> None:
        self.status: InvoiceStatus = "draft"
        self.matter_id: UUID | None = None
        self.client_id: UUID | None = None
        self.currency = ""
        self.period = (date.min, date.min)
        self.lines: tuple[InvoiceLine, ...] = ()
        self.number: str | None = None
        self.issued_on: date | None = None
        self.due_on: date | None = None
        self.total_minor = 0
        self.paid_minor = 0
        self.credited_minor = 0
        self.written_off_minor = 0

    @classmethod
    def draft(
        cls, *, invoice_id: UUID, actor: str, effective_on: date, matter_id: UUID,
        client_id: UUID, currency: str, period_start: date, period_end: date,
        lines: tuple[InvoiceLine, ...],
    ) -> Invoice:
        return cls._create(
            InvoiceDrafted, id=invoice_id, actor=actor, effective_on=effective_on,
            matter_id=matter_id, client_id=client_id, currency=currency,
            period_start=period_start, period_end=period_end, lines=lines,
        )

    @property
    def lines_total_minor(self) -> int:
        """The sum of the lines' net amounts: an invoice's total, by definition."""
        return sum(line.net_minor for line in self.lines)

    @property
    def open_balance_minor(self) -> int:
        return open_balance(self.status, self.total_minor, self.paid_minor,
                            self.credited_minor, self.written_off_minor)

    def _require(self, status: InvoiceStatus) -> None:
        if self.status != status:
            error = InvoiceNotDraftError if status == "draft" else InvoiceNotIssuedError
            raise error(f"the invoice is {self.status}, not {status}", field="invoice_id")

    def write_down(self, *, actor: str, effective_on: date, line_no: int, amount_minor: int,
                   reason: str) -> None:
        self._require("draft")
        line = next((li for li in self.lines if li.line_no == line_no), None)
        if line is None:
            raise WriteDownExceedsLineError("no such line on the invoice", field="line_no")
        if amount_minor <= 0:
            raise InvalidAmountError("a write-down must be positive", field="amount_minor")
        if amount_minor > line.net_minor:
            raise WriteDownExceedsLineError(
                f"line {line_no} has {line.net_minor} left to write down", field="amount_minor"
            )
        self.trigger_event(WrittenDown, client_id=self.client_id, actor=actor,
                           effective_on=effective_on,
                           line_no=line_no, amount_minor=amount_minor, reason=reason)

    def issue(self, *, actor: str, effective_on: date, number: str, due_on: date) -> None:
        self._require("draft")
        self.trigger_event(InvoiceIssued, actor=actor, effective_on=effective_on, number=number,
                           due_on=due_on, lines=self.lines, total_minor=self.lines_total_minor)

    def void(self, *, actor: str, effective_on: date, reason: str) -> None:
        if self.status == "voided":
            raise InvoiceNotIssuedError("the invoice is already voided", field="invoice_id")
        if self.paid_minor:
            raise InvoiceHasPaymentsError("payments are applied to the invoice",
                                          field="invoice_id")
        if self.credited_minor or self.written_off_minor:
            raise InvoiceHasAdjustmentsError("the invoice has credit notes or write-offs",
                                             field="invoice_id")
        self.trigger_event(InvoiceVoided, client_id=self.client_id, actor=actor,
                           effective_on=effective_on, reason=reason)

    def _settle(self, amount_minor: int, error: type[BillingRuleError], what: str) -> None:
        self._require("issued")
        if amount_minor <= 0:
            raise InvalidAmountError(f"a {what} must be positive", field="amount_minor")
        if amount_minor > self.open_balance_minor:
            raise error(
                f"the {what} of {amount_minor} exceeds the open balance of "
                f"{self.open_balance_minor}", field="amount_minor",
            )

    def apply_payment(self, *, actor: str, effective_on: date, payment_id: UUID,
                      amount_minor: int, currency: str) -> None:
        if currency != self.currency:
            raise CurrencyMismatchError("the payment's currency is not the invoice's",
                                        field="currency")
        self._settle(amount_minor, AllocationExceedsBalanceError, "allocation")
        self.trigger_event(PaymentApplied, actor=actor, effective_on=effective_on,
                           payment_id=payment_id, amount_minor=amount_minor)

    def write_off(self, *, actor: str, effective_on: date, amount_minor: int, reason: str,
                  approved_by: str) -> None:
        self._settle(amount_minor, WriteOffExceedsBalanceError, "write-off")
        self.trigger_event(WrittenOff, client_id=self.client_id, actor=actor,
                           effective_on=effective_on,
                           amount_minor=amount_minor, reason=reason, approved_by=approved_by)

    def issue_credit_note(self, *, actor: str, effective_on: date, credit_note_id: UUID,
                          amount_minor: int, reason: str) -> None:
        self._settle(amount_minor, CreditExceedsBalanceError, "credit note")
        self.trigger_event(CreditNoteIssued, client_id=self.client_id, actor=actor,
                           effective_on=effective_on,
                           credit_note_id=credit_note_id, amount_minor=amount_minor,
                           reason=reason)

    def when(self, event: Any) -> None:
        match event:
            case InvoiceDrafted():
                self.matter_id, self.client_id = event.matter_id, event.client_id
                self.currency, self.lines = event.currency, event.lines
                self.period = (event.period_start, event.period_end)
            case WrittenDown():
                self.lines = tuple(
                    li if li.line_no != event.line_no else _written_down(li, event.amount_minor)
                    for li in self.lines
                )
            case InvoiceIssued():
                self.status, self.number = "issued", event.number
                self.issued_on, self.due_on = event.effective_on, event.due_on
                self.lines, self.total_minor = event.lines, event.total_minor
            case InvoiceVoided():
                self.status = "voided"
            case PaymentApplied():
                self.paid_minor += event.amount_minor
            case WrittenOff():
                self.written_off_minor += event.amount_minor
            case CreditNoteIssued():
                self.credited_minor += event.amount_minor


def _written_down(line: InvoiceLine, amount_minor: int) -> InvoiceLine:
    return msgspec.structs.replace(
        line, written_down_minor=line.written_down_minor + amount_minor
    )
