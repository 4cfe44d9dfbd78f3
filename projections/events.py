"""The events the read models fold, as slim msgspec structs decoded straight from
the stored JSON.

Why not the library's mapper: a rebuild decodes every event of the ledger, and
``msgspec.json.Decoder(Struct)`` is an order of magnitude faster than building
the domain dataclasses. Each struct names only the fields the folds read; the
field names are the domain events' own, so the live projection converts a
domain event to the same struct (``from_attributes``) and both drivers feed the
folds identical values. An event class with a schema version above 1 is
decoded through the library's mapper (which upcasts it) and then converted.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from operator import methodcaller
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from ledger.codec import TypedMapper
from ledger.crypto.cipher import PREFIX as SEALED_PREFIX
from ledger.crypto.sealing import sealed_text
from ledger.domain import EVENT_CATALOG
from ledger.domain.events import InvoiceLine


class Fact(msgspec.Struct, frozen=True):
    actor: str
    effective_on: date


class FirmSetUp(Fact, frozen=True):
    currency: str


class TimekeeperRegistered(Fact, frozen=True):
    timekeeper_id: str
    name: str
    title: str
    default_rate_minor_per_hour: int


class ClientOnboarded(Fact, frozen=True):
    currency: str
    payment_terms_days: int
    confidential: dict[str, str]


class ArrangementKind(msgspec.Struct, frozen=True):
    kind: str


class MatterOpened(Fact, frozen=True):
    client_id: UUID
    currency: str
    utbms: bool
    arrangement: ArrangementKind
    confidential: dict[str, str]


class MatterClosed(Fact, frozen=True):
    pass


class RateSet(Fact, frozen=True):
    timekeeper_id: str
    rate_minor_per_hour: int


class TimeLogged(Fact, frozen=True):
    entry_id: UUID
    timekeeper_id: str
    raw_minutes: int
    minutes: int
    task_code: str | None
    activity_code: str | None
    billable: bool
    confidential: dict[str, str]


class TimeEntryCorrected(TimeLogged, frozen=True):
    work_on: date


class EntryVoided(Fact, frozen=True):
    entry_id: UUID


class ExpenseLogged(Fact, frozen=True):
    entry_id: UUID
    expense_code: str | None
    amount_minor: int
    billable: bool
    confidential: dict[str, str]


class EntriesBilled(Fact, frozen=True):
    invoice_id: UUID
    source_ids: tuple[str, ...]


class InvoiceDrafted(Fact, frozen=True):
    matter_id: UUID
    client_id: UUID
    currency: str
    period_start: date
    period_end: date
    lines: tuple[InvoiceLine, ...]


class WrittenDown(Fact, frozen=True):
    line_no: int
    amount_minor: int
    reason: str


class InvoiceIssued(Fact, frozen=True):
    number: str
    due_on: date
    lines: tuple[InvoiceLine, ...]
    total_minor: int


class InvoiceVoided(Fact, frozen=True):
    reason: str


class PaymentApplied(Fact, frozen=True):
    payment_id: UUID
    amount_minor: int


class WrittenOff(Fact, frozen=True):
    amount_minor: int
    reason: str
    approved_by: str


class CreditNoteIssued(Fact, frozen=True):
    credit_note_id: UUID
    amount_minor: int
    reason: str


class PaymentReceived(Fact, frozen=True):
    client_id: UUID
    amount_minor: int
    currency: str
    method: str
    reference: str


class AccessGranted(Fact, frozen=True):
    grant_id: UUID
    principal_id: str
    scope: str
    scope_id: UUID
    role: str
    reason: str
    expires_on: date | None


class AccessRevoked(Fact, frozen=True):
    grant_id: UUID
    reason: str


SLIM: tuple[type[Fact], ...] = (
    FirmSetUp, TimekeeperRegistered, ClientOnboarded, MatterOpened, MatterClosed, RateSet,
    TimeLogged, TimeEntryCorrected, EntryVoided, ExpenseLogged, EntriesBilled, InvoiceDrafted,
    WrittenDown, InvoiceIssued, InvoiceVoided, PaymentApplied, WrittenOff, CreditNoteIssued,
    PaymentReceived, AccessGranted, AccessRevoked,
)
DOMAIN_BY_NAME = {cls.__name__: cls for cls in EVENT_CATALOG}
TOPIC_OF: dict[type[Fact], str] = {cls: get_topic(DOMAIN_BY_NAME[cls.__name__]) for cls in SLIM}
"""Stored topic of each slim struct (the domain class's topic)."""

Decode = Callable[[UUID, int, str, bytes], Fact]
"""Decode a stored event (originator id, version, topic, state bytes) to its slim struct."""


def _fast(cls: type[Fact]) -> Decode:
    decode_bytes = msgspec.json.Decoder(cls).decode

    def decode(oid: UUID, version: int, topic: str, state: bytes) -> Fact:
        return decode_bytes(state)

    return decode


def _upcasting(cls: type[Fact], mapper: TypedMapper) -> Decode:
    def decode(oid: UUID, version: int, topic: str, state: bytes) -> Fact:
        stored = StoredEvent(originator_id=oid, originator_version=version, topic=topic,
                             state=state)
        return from_domain_event(cls, mapper.to_domain_event(stored))

    return decode


def from_domain_event(cls: type[Fact], event: Any) -> Fact:
    """The slim struct of a domain event (the live projection's path)."""
    return msgspec.convert(event, cls, from_attributes=True)


_sealed = methodcaller("startswith", SEALED_PREFIX)
Opener = Callable[..., dict[str, str]]
"""Opens sealed confidential values (``ledger.crypto.sealing.Sealing.open``)."""


def _opening(cls: type[Fact], decode: Decode, opener: Opener, topic_of_cls: str) -> Decode:
    text = tuple(n for n in sealed_text(topic_of_cls) if n in cls.__struct_fields__)
    if "confidential" not in cls.__struct_fields__ and not text:
        return decode

    def run(oid: UUID, version: int, topic: str, state: bytes) -> Fact:
        fact: Any = decode(oid, version, topic, state)
        # Values written without sealing read as they are: no need to ask the opener.
        confidential = getattr(fact, "confidential", None)
        if confidential and any(map(_sealed, confidential.values())):
            fact = msgspec.structs.replace(fact, confidential=opener(
                confidential, originator_id=oid, originator_version=version, topic=topic))
        sealed = {n: getattr(fact, n) for n in text if _sealed(getattr(fact, n))}
        if sealed:  # reasons, references: sealed like confidential values (same key)
            fact = msgspec.structs.replace(fact, **opener(
                sealed, originator_id=oid, originator_version=version, topic=topic))
        return fact  # type: ignore[no-any-return]

    return run


def decoders(topics: set[str] | tuple[str, ...], opener: Opener | None = None
             ) -> dict[str, Decode]:
    """A decoder per topic: fast msgspec, or the upcasting mapper for versions > 1;
    with ``opener``, sealed confidential values are opened (or read as erased)."""
    from ledger.codec import MsgspecTranscoder

    mapper = TypedMapper(transcoder=MsgspecTranscoder())
    out: dict[str, Decode] = {}
    for cls, topic in TOPIC_OF.items():
        if topic not in topics:
            continue
        version = getattr(resolve_topic(topic), "class_version", 1)
        out[topic] = _fast(cls) if version == 1 else _upcasting(cls, mapper)
        if opener is not None:
            out[topic] = _opening(cls, out[topic], opener, topic)
    return out


def slim_for_topic(topic: str) -> type[Fact] | None:
    return next((cls for cls, t in TOPIC_OF.items() if t == topic), None)
