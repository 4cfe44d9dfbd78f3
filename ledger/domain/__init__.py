"""The billing domain: event catalog, aggregates and their rules, money.

Pure: no I/O. Commands (``commands/``) load these aggregates through the
eventsourcing application, call their methods, and save them together.
"""

from __future__ import annotations

from ledger.domain.access import AccessGranted, AccessList, AccessListOpened, AccessRevoked
from ledger.domain.client import Client, ClientDataErased, ClientOnboarded
from ledger.domain.command_record import CommandAccepted, CommandRecord
from ledger.domain.firm import (
    Firm,
    FirmSetUp,
    InvoiceNumberAssigned,
    InvoiceSeries,
    InvoiceSeriesStarted,
    TimeBooked,
    TimekeeperRegistered,
    TimeReleased,
    TimesheetDay,
    TimesheetDayOpened,
)
from ledger.domain.invoice import (
    CreditNoteIssued,
    Invoice,
    InvoiceDrafted,
    InvoiceIssued,
    InvoiceVoided,
    PaymentApplied,
    WrittenDown,
    WrittenOff,
)
from ledger.domain.matter import (
    EntriesBilled,
    EntryVoided,
    ExpenseLogged,
    Matter,
    MatterClosed,
    MatterOpened,
    RateSet,
    RecoveryRecorded,
    TimeEntryCorrected,
    TimeLogged,
)
from ledger.domain.payment import Payment, PaymentAllocated, PaymentReceived

EVENT_CATALOG: tuple[type, ...] = (
    FirmSetUp, TimekeeperRegistered, InvoiceSeriesStarted, InvoiceNumberAssigned,
    TimesheetDayOpened, TimeBooked, TimeReleased,
    ClientOnboarded, ClientDataErased,
    MatterOpened, MatterClosed, RateSet, TimeLogged, TimeEntryCorrected, EntryVoided,
    ExpenseLogged, RecoveryRecorded, EntriesBilled,
    InvoiceDrafted, WrittenDown, InvoiceIssued, InvoiceVoided, PaymentApplied, WrittenOff,
    CreditNoteIssued,
    PaymentReceived, PaymentAllocated,
    AccessListOpened, AccessGranted, AccessRevoked,
    CommandAccepted,
)
"""Every event the billing ledger records (past tense, one class each)."""

__all__ = [
    "EVENT_CATALOG", "AccessList", "Client", "CommandRecord", "Firm", "Invoice",
    "InvoiceSeries", "Matter", "Payment", "TimesheetDay",
]
