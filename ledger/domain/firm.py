"""Firm-wide aggregates: the firm's set-up, its invoice number series, and
each timekeeper's working day (the consistency boundary of the 24-hour cap).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.domain import ids
from ledger.domain.errors import (
    DailyHoursExceededError,
    DuplicateTimekeeperError,
    UnknownCurrencyError,
    UnknownTimekeeperError,
)
from ledger.domain.events import LedgerCreated, LedgerEvent
from ledger.domain.money import MINUTES_PER_DAY, is_currency


class FirmSetUp(LedgerCreated):
    currency: str


class TimekeeperRegistered(LedgerEvent):
    timekeeper_id: str
    name: str
    title: str
    default_rate_minor_per_hour: int


@dataclass(frozen=True)
class Timekeeper:
    timekeeper_id: str
    name: str
    title: str
    default_rate_minor_per_hour: int


class Firm(Aggregate):
    """The firm: its currency and its timekeepers (one per ledger)."""

    def __init__(self) -> None:
        self.currency = ""
        self.timekeepers: dict[str, Timekeeper] = {}

    @classmethod
    def set_up(cls, *, actor: str, effective_on: date, currency: str) -> Firm:
        if not is_currency(currency):
            raise UnknownCurrencyError("not an accepted ISO 4217 code", field="currency")
        return cls._create(
            FirmSetUp, id=ids.firm_id(), actor=actor, effective_on=effective_on,
            currency=currency,
        )

    def register_timekeeper(
        self, *, actor: str, effective_on: date, timekeeper_id: str, name: str, title: str,
        default_rate_minor_per_hour: int,
    ) -> None:
        if timekeeper_id in self.timekeepers:
            raise DuplicateTimekeeperError(
                "a timekeeper with this id is already registered", field="timekeeper_id"
            )
        self.trigger_event(
            TimekeeperRegistered, actor=actor, effective_on=effective_on,
            timekeeper_id=timekeeper_id, name=name, title=title,
            default_rate_minor_per_hour=default_rate_minor_per_hour,
        )

    def timekeeper(self, timekeeper_id: str) -> Timekeeper:
        try:
            return self.timekeepers[timekeeper_id]
        except KeyError:
            raise UnknownTimekeeperError(
                "no timekeeper is registered with this id", field="timekeeper_id"
            ) from None

    def when(self, event: Any) -> None:
        match event:
            case FirmSetUp():
                self.currency = event.currency
            case TimekeeperRegistered():
                self.timekeepers[event.timekeeper_id] = Timekeeper(
                    event.timekeeper_id, event.name, event.title,
                    event.default_rate_minor_per_hour,
                )


class InvoiceSeriesStarted(LedgerCreated):
    prefix: str
    first_number: int
    digits: int


class InvoiceNumberAssigned(LedgerEvent):
    invoice_id: UUID
    sequence: int
    number: str


class InvoiceSeries(Aggregate):
    """The firm's invoice numbers: gapless and unique because each number is
    assigned by an event on this one aggregate, saved in the same transaction
    as the ``InvoiceIssued`` it belongs to. Two concurrent issuers both try
    the same next version; one conflicts and retries from a fresh load.
    """

    def __init__(self) -> None:
        self.prefix = ""
        self.digits = 1
        self.next_sequence = 1
        self.assigned: dict[int, UUID] = {}

    @classmethod
    def start(
        cls, *, actor: str, effective_on: date, prefix: str, first_number: int, digits: int
    ) -> InvoiceSeries:
        return cls._create(
            InvoiceSeriesStarted, id=ids.invoice_series_id(), actor=actor,
            effective_on=effective_on, prefix=prefix, first_number=first_number, digits=digits,
        )

    def format(self, sequence: int) -> str:
        return f"{self.prefix}{sequence:0{self.digits}d}"

    def assign(self, *, actor: str, effective_on: date, invoice_id: UUID) -> str:
        number = self.format(self.next_sequence)
        self.trigger_event(
            InvoiceNumberAssigned, actor=actor, effective_on=effective_on,
            invoice_id=invoice_id, sequence=self.next_sequence, number=number,
        )
        return number

    def when(self, event: Any) -> None:
        match event:
            case InvoiceSeriesStarted():
                self.prefix, self.digits = event.prefix, event.digits
                self.next_sequence = event.first_number
            case InvoiceNumberAssigned():
                self.assigned[event.sequence] = event.invoice_id
                self.next_sequence = event.sequence + 1


class TimesheetDayOpened(LedgerCreated):
    timekeeper_id: str


class TimeBooked(LedgerEvent):
    entry_id: UUID
    matter_id: UUID
    minutes: int


class TimeReleased(LedgerEvent):
    entry_id: UUID


class TimesheetDay(Aggregate):
    """One timekeeper's minutes on one work date, across all matters.

    Time entries live on their matter; this aggregate exists so that the
    24-hours-a-day cap holds under concurrent logging on different matters.
    Raw (unrounded) minutes count towards the cap.
    """

    def __init__(self) -> None:
        self.timekeeper_id = ""
        self.work_on = date.min
        self.minutes: dict[UUID, int] = {}

    @classmethod
    def open(cls, *, actor: str, timekeeper_id: str, work_on: date) -> TimesheetDay:
        return cls._create(
            TimesheetDayOpened, id=ids.timesheet_day_id(timekeeper_id, work_on),
            actor=actor, effective_on=work_on, timekeeper_id=timekeeper_id,
        )

    @property
    def total_minutes(self) -> int:
        return sum(self.minutes.values())

    def book(self, *, actor: str, entry_id: UUID, matter_id: UUID, minutes: int) -> None:
        others = self.total_minutes - self.minutes.get(entry_id, 0)
        if others + minutes > MINUTES_PER_DAY:
            raise DailyHoursExceededError(
                f"the timekeeper would have {others + minutes} minutes on this work date; "
                f"at most {MINUTES_PER_DAY} are allowed",
                field="minutes",
            )
        self.trigger_event(
            TimeBooked, actor=actor, effective_on=self.work_on, entry_id=entry_id,
            matter_id=matter_id, minutes=minutes,
        )

    def release(self, *, actor: str, entry_id: UUID) -> None:
        if entry_id in self.minutes:
            self.trigger_event(
                TimeReleased, actor=actor, effective_on=self.work_on, entry_id=entry_id
            )

    def when(self, event: Any) -> None:
        match event:
            case TimesheetDayOpened():
                self.timekeeper_id, self.work_on = event.timekeeper_id, event.effective_on
            case TimeBooked():
                self.minutes[event.entry_id] = event.minutes
            case TimeReleased():
                self.minutes.pop(event.entry_id, None)
