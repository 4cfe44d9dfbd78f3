"""The msgspec codec: deterministic bytes, real types back, upcasting, no floats."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger.codec import MsgspecTranscoder, TypedMapper, state_bytes
from ledger.domain.events import Arrangement, Instalment, InvoiceLine, LedgerEvent
from ledger.domain.invoice import InvoiceIssued
from ledger.domain.matter import Matter, MatterOpened


def mapper() -> TypedMapper:
    return TypedMapper(transcoder=MsgspecTranscoder())


def issued_event() -> InvoiceIssued:
    line = InvoiceLine(line_no=1, kind="time", source_id=str(uuid4()), source_revision=2,
                       work_on=date(2024, 2, 1), amount_minor=6000, written_down_minor=500,
                       timekeeper_id="AB", minutes=12, rate_minor_per_hour=30000)
    return InvoiceIssued(originator_id=uuid4(), originator_version=3,
                         timestamp=datetime(2024, 3, 1, 9, 30, tzinfo=UTC), actor="admin",
                         effective_on=date(2024, 3, 1), number="INV-00001",
                         due_on=date(2024, 3, 31), lines=(line,), total_minor=5500)


def test_same_event_gives_the_same_bytes_with_sorted_keys() -> None:
    event = issued_event()
    first = mapper().to_stored_event(event).state
    assert first == mapper().to_stored_event(event).state == state_bytes(event)
    assert first.startswith(b'{"actor":"admin","due_on":"2024-03-31","effective_on"')
    assert b'"amount_minor":6000' in first  # integers stay integers


def test_events_round_trip_with_their_real_types() -> None:
    event = issued_event()
    back: Any = mapper().to_domain_event(mapper().to_stored_event(event))
    assert back == event
    assert isinstance(back.originator_id, UUID) and isinstance(back.due_on, date)
    assert back.timestamp.tzinfo is not None and isinstance(back.lines[0], InvoiceLine)


def test_a_created_event_round_trips_and_rebuilds_its_aggregate() -> None:
    arrangement = Arrangement(kind="flat_fee", increment_minutes=6, flat_fee_minor=900,
                              instalments=(Instalment("1", date(2024, 1, 1), 900),))
    matter = Matter.open(matter_id=uuid4(), actor="a", effective_on=date(2024, 1, 1),
                         client_id=uuid4(), currency="USD", utbms=False,
                         arrangement=arrangement, title="Confidential title")
    (created,) = matter.collect_events()
    back: Any = mapper().to_domain_event(mapper().to_stored_event(created))
    assert isinstance(back, MatterOpened) and back.arrangement == arrangement
    assert back.mutate(None).arrangement.instalments[0].due_on == date(2024, 1, 1)


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        MsgspecTranscoder().encode({"amount_minor": 1.5})


class RateNoted(LedgerEvent):
    """A test-only event at schema version 2: v1 had ``rate`` in major units."""

    class_version = 2
    rate_minor_per_hour: int

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["rate_minor_per_hour"] = state.pop("rate") * 100


def test_old_schema_versions_are_upcast_on_read() -> None:
    event = RateNoted(originator_id=uuid4(), originator_version=2,
                      timestamp=datetime.now(UTC), actor="a", effective_on=date(2024, 1, 1),
                      rate_minor_per_hour=25_000)
    stored = mapper().to_stored_event(event)
    assert b'"class_version":2' in stored.state
    v1_state = stored.state.replace(b'"class_version":2,', b"").replace(
        b'"rate_minor_per_hour":25000', b'"rate":250')
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic,
                       v1_state)
    assert mapper().to_domain_event(old) == event
