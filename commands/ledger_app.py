"""One firm's ledger as an eventsourcing application, and typed loading.

All aggregates of a firm live in the firm's one chained ``events`` table; the
application is the library's, configured with our store and our codec.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    Repository,
    project_aggregate,
)

from ledger.codec import MAPPER_TOPIC, TRANSCODER_TOPIC
from ledger.crypto.sealing import SEALER_TOPIC
from ledger.domain import ids
from ledger.domain.access import AccessList
from ledger.domain.client import Client
from ledger.domain.command_record import CommandRecord
from ledger.domain.errors import (
    ClientNotFoundError,
    FirmNotSetUpError,
    InvoiceNotFoundError,
    MatterNotFoundError,
    NotFoundError,
    PaymentNotFoundError,
)
from ledger.domain.firm import Firm, InvoiceSeries, TimesheetDay
from ledger.domain.invoice import Invoice
from ledger.domain.matter import Matter
from ledger.domain.payment import Payment
from ledger.store.firm import FirmStore
from ledger.store.memory import MemoryStore

T = TypeVar("T")


class CopyingRepository(Repository[UUID]):
    """The library's repository, copying a cached aggregate under its fast-forward lock.

    The library fast-forwards a cached aggregate under a per-aggregate lock but copies it
    for the caller after releasing that lock, so one thread could copy (iterate) a dict
    while another thread's fast-forward grows it. Copying under the same lock makes each
    copy the cached state as of one version."""

    def get(self, aggregate_id: UUID, *, version: int | None = None,
            projector_func: Any = project_aggregate, fastforward_skipping: bool = False,
            deepcopy_from_cache: bool = True) -> Any:
        copy = deepcopy_from_cache and self.deepcopy_from_cache
        if self.cache is None or version is not None or not copy:
            return super().get(aggregate_id, version=version, projector_func=projector_func,
                               fastforward_skipping=fastforward_skipping,
                               deepcopy_from_cache=deepcopy_from_cache)
        cached = super().get(aggregate_id, projector_func=projector_func,
                             fastforward_skipping=fastforward_skipping,
                             deepcopy_from_cache=False)
        lock = self._use_fastforward_lock(aggregate_id)
        try:
            with lock:
                return deepcopy(cached)
        finally:
            self._disuse_fastforward_lock(aggregate_id)


class BillingLedger(Application[UUID]):
    """A firm's billing ledger (the library's Application on the chained store)."""

    name = "BillingLedger"

    def construct_repository(self) -> Repository[UUID]:
        """The library's repository and settings, copying cached aggregates safely."""
        made = super().construct_repository()
        repository = CopyingRepository(
            event_store=made.event_store, snapshot_store=made.snapshot_store,
            fastforward=made.fastforward, fastforward_skipping=made.fastforward_skipping,
            deepcopy_from_cache=made.deepcopy_from_cache)
        repository.cache = made.cache
        return repository


def ledger_env(store: FirmStore | MemoryStore, *, aggregate_cache: int = 0) -> dict[str, str]:
    """The application's environment: our store, our codec, and the field sealer
    (confidential values sealed per client, see ``ledger.crypto``).

    ``aggregate_cache`` > 0 keeps up to that many aggregates in the library's LRU
    cache, fast-forwarded from the store on every load: a command then reads only
    the events recorded since (usually none), not a long matter's whole history.
    Saves still check versions, so optimistic concurrency stays exact across
    processes; loads hand out copies (``DEEPCOPY_FROM_AGGREGATE_CACHE``), so a
    refused or conflicting attempt never alters the cached state.

    The store's own settings come last, so a store without a key store (the in-memory
    one of the unit tests) can turn the sealer off; a ``FirmStore`` sets none of these."""
    cache = ({"AGGREGATE_CACHE_MAXSIZE": str(aggregate_cache),
              "AGGREGATE_CACHE_FASTFORWARD": "y", "DEEPCOPY_FROM_AGGREGATE_CACHE": "y"}
             if aggregate_cache > 0 else {})
    return {"TRANSCODER_TOPIC": TRANSCODER_TOPIC, "MAPPER_TOPIC": MAPPER_TOPIC,
            "CIPHER_TOPIC": SEALER_TOPIC, **cache, **store.environment()}


class Context:
    """Fresh loads of aggregates for one attempt of one command."""

    def __init__(self, app: BillingLedger) -> None:
        self.app = app

    def find(self, aggregate_id: UUID, cls: type[T]) -> T | None:
        try:
            found: Any = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, cls) else None

    def _get(self, aggregate_id: UUID, cls: type[T], error: type[NotFoundError],
             field: str) -> T:
        found = self.find(aggregate_id, cls)
        if found is None:
            raise error(f"no such {cls.__name__.lower()}", field=field)
        return found

    def firm(self) -> Firm:
        return self._get(ids.firm_id(), Firm, FirmNotSetUpError, "firm")

    def series(self) -> InvoiceSeries:
        return self._get(ids.invoice_series_id(), InvoiceSeries, FirmNotSetUpError, "firm")

    def client(self, client_id: UUID) -> Client:
        return self._get(client_id, Client, ClientNotFoundError, "client_id")

    def matter(self, matter_id: UUID) -> Matter:
        return self._get(matter_id, Matter, MatterNotFoundError, "matter_id")

    def invoice(self, invoice_id: UUID) -> Invoice:
        return self._get(invoice_id, Invoice, InvoiceNotFoundError, "invoice_id")

    def payment(self, payment_id: UUID) -> Payment:
        return self._get(payment_id, Payment, PaymentNotFoundError, "payment_id")

    def access(self, principal_id: str) -> AccessList | None:
        return self.find(ids.access_list_id(principal_id), AccessList)

    def command_record(self, principal_id: str, key: str) -> CommandRecord | None:
        return self.find(ids.command_record_id(principal_id, key), CommandRecord)

    def day(self, *, actor: str, timekeeper_id: str, work_on: date) -> TimesheetDay:
        """The timekeeper's day, opened (unsaved) if nothing was booked on it yet."""
        found = self.find(ids.timesheet_day_id(timekeeper_id, work_on), TimesheetDay)
        return found or TimesheetDay.open(actor=actor, timekeeper_id=timekeeper_id,
                                          work_on=work_on)
