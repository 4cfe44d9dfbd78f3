"""The envelope every billing event carries, and the value types inside events.

Each event is an eventsourcing aggregate event (a frozen dataclass) that also
records **who** did it (``actor``, a principal id) and the **business date** it
is effective on (``effective_on``: the work date, invoice date, payment date…).
The time it was recorded is the store's ``recorded_at`` (and the library's
``timestamp``). The schema version is the library's ``class_version`` (absent
means 1); a change of shape adds ``upcast_vN_vN+1`` static methods to the class,
which the mapper applies to old payloads as they are read, so stored rows are
never rewritten.

Confidential values (client names, billing contacts, matter titles, narratives,
expense descriptions) only ever travel in a field named ``confidential`` (a
``dict[str, str]``), so that a later change can seal that one field per client
with AES-GCM without reshaping any event.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal
from uuid import UUID

import msgspec
from eventsourcing.domain import AggregateCreated, AggregateEvent

ArrangementKind = Literal["hourly", "flat_fee", "contingency"]
LineKind = Literal["time", "expense", "flat_fee", "contingency_fee"]


class LedgerEvent(AggregateEvent):
    """A billing fact about an existing aggregate."""

    actor: str
    effective_on: date

    def apply(self, aggregate: Any) -> None:
        aggregate.when(self)


class ReasonSealedSinceV2:
    """Mixed into an event whose ``reason`` is sealed with its client's key (``client_id``)
    since schema version 2; version 1 stored the reason in clear and named no client,
    so it reads with ``client_id`` ``None`` and the reason as stored."""

    SEALED_TEXT = ("reason",)
    class_version = 2

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["client_id"] = None


class LedgerCreated(AggregateCreated):
    """The billing fact that brings an aggregate into being."""

    actor: str
    effective_on: date

    def apply(self, aggregate: Any) -> None:
        aggregate.when(self)


class Instalment(msgspec.Struct, frozen=True):
    """One instalment of a flat fee, billable from ``due_on``."""

    key: str
    due_on: date
    amount_minor: int


class Arrangement(msgspec.Struct, frozen=True):
    """How a matter is billed: hourly, flat fee (maybe in instalments), or contingency."""

    kind: ArrangementKind
    increment_minutes: int
    flat_fee_minor: int | None = None
    instalments: tuple[Instalment, ...] = ()
    contingency_bp: int | None = None


class InvoiceLine(msgspec.Struct, frozen=True):
    """One line of an invoice: what is billed, from which source, for how much.

    ``amount_minor`` is the line's value before write-down, rounded once (see
    ``ledger.domain.money``); the line's net is ``amount_minor - written_down_minor``.
    ``source_id``/``source_revision`` tie the line to the entry, instalment or
    recovery it bills, as it stood when drafted.
    """

    line_no: int
    kind: LineKind
    source_id: str
    source_revision: int
    work_on: date
    amount_minor: int
    written_down_minor: int = 0
    timekeeper_id: str | None = None
    minutes: int | None = None
    rate_minor_per_hour: int | None = None
    task_code: str | None = None
    activity_code: str | None = None
    expense_code: str | None = None

    @property
    def net_minor(self) -> int:
        return self.amount_minor - self.written_down_minor


def ids_namespace() -> UUID:
    """Namespace of the deterministic (uuid5) ids of per-firm singleton aggregates."""
    return UUID("5b0c7d0e-2f4a-5c39-9a57-0c1c3e1f2d41")
