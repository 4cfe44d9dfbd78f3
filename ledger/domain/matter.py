"""A matter: its billing arrangement, rates, time and expense entries, and
which of them have been billed.

Entries live on their matter because billing is decided per matter: the
invoice that bills an entry records ``EntriesBilled`` here in the same
transaction as its ``InvoiceIssued``, so an entry can be billed at most once,
ever, even when two invoices are issued concurrently (the second conflicts on
this aggregate's version, reloads, and is refused). Corrections and voids are
new events, never edits, and only while an entry is unbilled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.domain import utbms
from ledger.domain.errors import (
    AlreadyBilledError,
    CurrencyMismatchError,
    DraftOutdatedError,
    EntryNotFoundError,
    EntryVoidedError,
    InvalidAmountError,
    InvalidArrangementError,
    InvalidDurationError,
    MatterClosedError,
    UtbmsCodeError,
    WrongArrangementError,
)
from ledger.domain.events import (
    Arrangement,
    Instalment,
    InvoiceLine,
    LedgerCreated,
    LedgerEvent,
    ReasonSealedSinceV2,
)
from ledger.domain.layered import LayeredDict
from ledger.domain.money import BASIS_POINTS, MINUTES_PER_DAY, round_up_to_increment
from ledger.domain.rates import rate_in_effect


class MatterOpened(LedgerCreated):
    client_id: UUID
    currency: str
    utbms: bool
    arrangement: Arrangement
    confidential: dict[str, str]


class MatterClosed(LedgerEvent):
    reason: str


class RateSet(LedgerEvent):
    """A timekeeper's hourly rate on this matter from ``effective_on``."""

    timekeeper_id: str
    rate_minor_per_hour: int


class TimeLogged(LedgerEvent):
    """Time worked on ``effective_on`` (the work date); ``minutes`` is ``raw_minutes``
    rounded up to ``increment_minutes``, the matter's increment at the time."""

    entry_id: UUID
    timekeeper_id: str
    raw_minutes: int
    minutes: int
    increment_minutes: int
    task_code: str | None
    activity_code: str | None
    billable: bool
    confidential: dict[str, str]
    client_id: UUID
    """Whose data key seals ``confidential`` (the matter's client)."""


class TimeEntryCorrected(LedgerEvent):
    """The entry's new values (all of them); ``effective_on`` is the correction date."""

    entry_id: UUID
    work_on: date
    timekeeper_id: str
    raw_minutes: int
    minutes: int
    increment_minutes: int
    task_code: str | None
    activity_code: str | None
    billable: bool
    confidential: dict[str, str]
    reason: str
    client_id: UUID

    SEALED_TEXT = ("reason",)


class EntryVoided(ReasonSealedSinceV2, LedgerEvent):
    entry_id: UUID
    reason: str
    client_id: UUID | None = None
    """Whose key seals ``reason``; ``None`` in v1 events."""


class ExpenseLogged(LedgerEvent):
    entry_id: UUID
    expense_code: str | None
    amount_minor: int
    currency: str
    billable: bool
    confidential: dict[str, str]
    client_id: UUID


class RecoveryRecorded(LedgerEvent):
    """A recovery (settlement or judgment) on a contingency matter."""

    recovery_id: UUID
    amount_minor: int


class EntriesBilled(LedgerEvent):
    invoice_id: UUID
    source_ids: tuple[str, ...]


@dataclass(frozen=True)
class Entry:
    entry_id: UUID
    kind: Literal["time", "expense"]
    work_on: date
    billable: bool
    revision: int = 1
    timekeeper_id: str | None = None
    raw_minutes: int = 0
    minutes: int = 0
    task_code: str | None = None
    activity_code: str | None = None
    expense_code: str | None = None
    amount_minor: int = 0
    voided: bool = False
    confidential: tuple[tuple[str, str], ...] = ()

    @property
    def narrative(self) -> str:
        return dict(self.confidential).get("narrative", "")


def _entry_key(source_id: str) -> UUID | None:
    """The entry id a billable source names (its canonical string), else None."""
    try:
        entry_id = UUID(source_id)
    except ValueError:
        return None
    return entry_id if str(entry_id) == source_id else None


def _check_arrangement(arrangement: Arrangement) -> None:
    if not 1 <= arrangement.increment_minutes <= 60:
        raise InvalidArrangementError("the increment is 1 to 60 minutes", field="increment_minutes")
    if arrangement.kind == "flat_fee":
        fee = arrangement.flat_fee_minor or 0
        if fee <= 0:
            raise InvalidArrangementError("a flat fee must be positive", field="amount_minor")
        if sum(i.amount_minor for i in arrangement.instalments) != fee:
            raise InvalidArrangementError(
                "instalments must add up to the flat fee", field="instalments"
            )
        if any(i.amount_minor <= 0 for i in arrangement.instalments):
            raise InvalidArrangementError("instalments must be positive", field="instalments")
    if arrangement.kind == "contingency" and not (
        0 < (arrangement.contingency_bp or 0) <= BASIS_POINTS
    ):
        raise InvalidArrangementError(
            "a contingency percentage is 1 to 10000 basis points", field="percentage_bp"
        )


class Matter(Aggregate):
    def __init__(self) -> None:
        self.client_id: UUID | None = None
        self.currency = ""
        self.utbms = False
        self.arrangement = Arrangement(kind="hourly", increment_minutes=6)
        self.is_open = True
        self.rates: dict[str, list[tuple[date, int]]] = {}
        self.entries: LayeredDict[UUID, Entry] = LayeredDict()
        self.recoveries: dict[UUID, tuple[date, int]] = {}
        self.billed: LayeredDict[str, UUID] = LayeredDict()

    @classmethod
    def open(
        cls, *, matter_id: UUID, actor: str, effective_on: date, client_id: UUID,
        currency: str, utbms: bool, arrangement: Arrangement, title: str,
    ) -> Matter:
        if arrangement.kind == "flat_fee" and not arrangement.instalments:
            whole = Instalment("1", effective_on, arrangement.flat_fee_minor or 0)
            arrangement = Arrangement(
                kind="flat_fee", increment_minutes=arrangement.increment_minutes,
                flat_fee_minor=arrangement.flat_fee_minor, instalments=(whole,),
            )
        _check_arrangement(arrangement)
        return cls._create(
            MatterOpened, id=matter_id, actor=actor, effective_on=effective_on,
            client_id=client_id, currency=currency, utbms=utbms, arrangement=arrangement,
            confidential={"title": title},
        )

    # -- rules ---------------------------------------------------------------

    def _require_open(self) -> None:
        if not self.is_open:
            raise MatterClosedError("the matter is closed", field="matter_id")

    def _check_time(self, minutes: int, task: str | None, activity: str | None) -> None:
        if not 0 < minutes <= MINUTES_PER_DAY:
            raise InvalidDurationError(
                f"an entry is 1 to {MINUTES_PER_DAY} minutes", field="minutes"
            )
        if self.utbms:
            if task not in utbms.TASK_CODES:
                raise UtbmsCodeError("a known UTBMS task code is required", field="task_code")
            if activity not in utbms.ACTIVITY_CODES:
                raise UtbmsCodeError(
                    "a known UTBMS activity code is required", field="activity_code"
                )

    def entry(self, entry_id: UUID) -> Entry:
        try:
            return self.entries[entry_id]
        except KeyError:
            raise EntryNotFoundError("no such entry on this matter", field="entry_id") from None

    def _require_changeable(self, entry_id: UUID) -> Entry:
        self._require_open()
        found = self.entry(entry_id)
        if found.voided:
            raise EntryVoidedError("the entry is voided", field="entry_id")
        if str(entry_id) in self.billed:
            raise AlreadyBilledError(
                "the entry is billed on an issued invoice", field="entry_id"
            )
        return found

    def rate_for(self, timekeeper_id: str, on: date) -> int | None:
        """The matter rate in effect on a date (the rule: ``ledger.domain.rates``)."""
        return rate_in_effect(self.rates.get(timekeeper_id, ()), on)

    # -- commands ------------------------------------------------------------

    def close(self, *, actor: str, effective_on: date, reason: str) -> None:
        self._require_open()
        self.trigger_event(MatterClosed, actor=actor, effective_on=effective_on, reason=reason)

    def set_rate(
        self, *, actor: str, effective_on: date, timekeeper_id: str, rate_minor_per_hour: int
    ) -> None:
        if self.arrangement.kind != "hourly":
            raise WrongArrangementError("rates apply to hourly matters", field="matter_id")
        if rate_minor_per_hour <= 0:
            raise InvalidAmountError("a rate must be positive", field="rate_minor_per_hour")
        self.trigger_event(
            RateSet, actor=actor, effective_on=effective_on, timekeeper_id=timekeeper_id,
            rate_minor_per_hour=rate_minor_per_hour,
        )

    def log_time(
        self, *, actor: str, entry_id: UUID, timekeeper_id: str, work_on: date, minutes: int,
        task_code: str | None, activity_code: str | None, billable: bool, narrative: str,
    ) -> Entry:
        self._require_open()
        self._check_time(minutes, task_code, activity_code)
        increment = self.arrangement.increment_minutes
        self.trigger_event(
            TimeLogged, actor=actor, effective_on=work_on, entry_id=entry_id,
            timekeeper_id=timekeeper_id, raw_minutes=minutes,
            minutes=round_up_to_increment(minutes, increment), increment_minutes=increment,
            task_code=task_code, activity_code=activity_code, billable=billable,
            confidential={"narrative": narrative}, client_id=self.client_id,
        )
        return self.entries[entry_id]

    def correct_time(
        self, *, actor: str, effective_on: date, entry_id: UUID, work_on: date,
        timekeeper_id: str, minutes: int, task_code: str | None, activity_code: str | None,
        billable: bool, narrative: str, reason: str,
    ) -> Entry:
        if self._require_changeable(entry_id).kind != "time":
            raise EntryNotFoundError("no such time entry on this matter", field="entry_id")
        self._check_time(minutes, task_code, activity_code)
        increment = self.arrangement.increment_minutes
        self.trigger_event(
            TimeEntryCorrected, actor=actor, effective_on=effective_on, entry_id=entry_id,
            work_on=work_on, timekeeper_id=timekeeper_id, raw_minutes=minutes,
            minutes=round_up_to_increment(minutes, increment), increment_minutes=increment,
            task_code=task_code, activity_code=activity_code, billable=billable,
            confidential={"narrative": narrative}, reason=reason, client_id=self.client_id,
        )
        return self.entries[entry_id]

    def void_entry(self, *, actor: str, effective_on: date, entry_id: UUID, reason: str) -> Entry:
        found = self._require_changeable(entry_id)
        self.trigger_event(
            EntryVoided, actor=actor, effective_on=effective_on, entry_id=entry_id,
            reason=reason, client_id=self.client_id,
        )
        return found

    def log_expense(
        self, *, actor: str, entry_id: UUID, spent_on: date, expense_code: str | None,
        description: str, amount_minor: int, currency: str, billable: bool,
    ) -> None:
        self._require_open()
        if currency != self.currency:
            raise CurrencyMismatchError(
                "the expense's currency is not the matter's", field="currency"
            )
        if amount_minor <= 0:
            raise InvalidAmountError("an expense must be positive", field="amount_minor")
        if self.utbms and expense_code not in utbms.EXPENSE_CODES:
            raise UtbmsCodeError("a known UTBMS expense code is required", field="expense_code")
        self.trigger_event(
            ExpenseLogged, actor=actor, effective_on=spent_on, entry_id=entry_id,
            expense_code=expense_code, amount_minor=amount_minor, currency=currency,
            billable=billable, confidential={"description": description},
            client_id=self.client_id,
        )

    def record_recovery(
        self, *, actor: str, effective_on: date, recovery_id: UUID, amount_minor: int
    ) -> None:
        if self.arrangement.kind != "contingency":
            raise WrongArrangementError(
                "recoveries are recorded on contingency matters", field="matter_id"
            )
        if amount_minor <= 0:
            raise InvalidAmountError("a recovery must be positive", field="amount_minor")
        self.trigger_event(
            RecoveryRecorded, actor=actor, effective_on=effective_on, recovery_id=recovery_id,
            amount_minor=amount_minor,
        )

    def source_revision(self, source_id: str) -> int | None:
        """The current revision of a billable source, or None if it cannot be billed."""
        if source_id in self.billed:
            return None
        entry = self.entries.get(_entry_key(source_id))  # type: ignore[arg-type]
        if entry is not None:
            return None if entry.voided else entry.revision
        return 1

    def mark_billed(
        self, *, actor: str, effective_on: date, invoice_id: UUID, lines: tuple[InvoiceLine, ...]
    ) -> None:
        for line in lines:
            if line.source_id in self.billed:
                raise AlreadyBilledError(
                    f"line {line.line_no} bills an entry already billed on another "
                    "issued invoice", field="lines",
                )
            if self.source_revision(line.source_id) != line.source_revision:
                raise DraftOutdatedError(
                    f"line {line.line_no}'s entry was corrected or voided after drafting; "
                    "draft again", field="lines",
                )
        self.trigger_event(
            EntriesBilled, actor=actor, effective_on=effective_on, invoice_id=invoice_id,
            source_ids=tuple(line.source_id for line in lines),
        )

    def __deepcopy__(self, memo: dict[int, Any]) -> Matter:
        """A copy for one command, made from the aggregate cache on every load: the
        containers are copied, their values (frozen entries, tuples, dates) shared, and
        the long ones (entries, billed) are ``LayeredDict``s whose copies share their
        base, so a copy costs the same on a matter of ten entries or of 100,000."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.rates = {k: list(v) for k, v in self.rates.items()}
        clone.entries = self.entries.copy()
        clone.recoveries = dict(self.recoveries)
        clone.billed = self.billed.copy()
        clone._pending_events = list(self._pending_events)
        return clone

    # -- evolution -----------------------------------------------------------

    def when(self, event: Any) -> None:
        match event:
            case MatterOpened():
                self.client_id, self.currency = event.client_id, event.currency
                self.utbms, self.arrangement = event.utbms, event.arrangement
            case MatterClosed():
                self.is_open = False
            case RateSet():
                self.rates.setdefault(event.timekeeper_id, []).append(
                    (event.effective_on, event.rate_minor_per_hour)
                )
            case TimeLogged():
                self.entries[event.entry_id] = Entry(
                    event.entry_id, "time", event.effective_on, event.billable,
                    timekeeper_id=event.timekeeper_id, raw_minutes=event.raw_minutes,
                    minutes=event.minutes, task_code=event.task_code,
                    activity_code=event.activity_code,
                    confidential=tuple(sorted(event.confidential.items())),
                )
            case TimeEntryCorrected():
                old = self.entries[event.entry_id]
                self.entries[event.entry_id] = replace(
                    old, work_on=event.work_on, billable=event.billable,
                    revision=old.revision + 1, timekeeper_id=event.timekeeper_id,
                    raw_minutes=event.raw_minutes, minutes=event.minutes,
                    task_code=event.task_code, activity_code=event.activity_code,
                    confidential=tuple(sorted(event.confidential.items())),
                )
            case EntryVoided():
                self.entries[event.entry_id] = replace(
                    self.entries[event.entry_id], voided=True
                )
            case ExpenseLogged():
                self.entries[event.entry_id] = Entry(
                    event.entry_id, "expense", event.effective_on, event.billable,
                    expense_code=event.expense_code, amount_minor=event.amount_minor,
                )
            case RecoveryRecorded():
                self.recoveries[event.recovery_id] = (event.effective_on, event.amount_minor)
            case EntriesBilled():
                for source_id in event.source_ids:
                    self.billed[source_id] = event.invoice_id
