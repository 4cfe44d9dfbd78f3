"""Confidential values are sealed per client in the event table, and open only
for the event and field they were sealed for."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import replace
from datetime import date
from typing import Any

import msgspec
import pytest
from eventsourcing.persistence import StoredEvent
from psycopg.sql import SQL, Identifier

from commands import models as m
from commands.errors import InvalidCommandError
from commands.ledger_app import Context
from commands.service import BillingService
from ledger.crypto.cipher import ERASED, PREFIX, is_sealed
from ledger.crypto.errors import SealedFieldError
from ledger.store.firm import FirmStore
from tests.support.billing import ADMIN, key
from tests.support.crypto import ClientBook

Books = tuple[BillingService, ClientBook, ClientBook]


def all_plaintexts(*clients: ClientBook) -> list[bytes]:
    found = [b"Quillfeather", b"quillfeather"]  # the word every plaintext carries
    for c in clients:
        for value in c.plaintexts.values():
            data = value.encode()
            found += [data, data.hex().encode(), base64.b64encode(data)]
    return found


def raw_table_bytes(store: FirmStore, table: str) -> bytes:
    """Every column of every row, as the server sends it in binary and as text."""
    with store.location.connect() as conn:
        query = SQL("SELECT * FROM {s}.{t}").format(s=Identifier(store.schema),
                                                     t=Identifier(table))
        binary = conn.cursor(binary=True).execute(query).fetchall()
        text = conn.execute(SQL("SELECT t::text FROM {s}.{t} t").format(
            s=Identifier(store.schema), t=Identifier(table))).fetchall()
    out = bytearray()
    for row in binary:
        for value in row:
            out += bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
    for (line,) in text:
        out += line.encode()
    return bytes(out)


def test_no_plaintext_in_the_event_table_its_indexes_or_the_key_tables(books: Books) -> None:
    svc, alpha, beta = books
    store = svc.store
    events = raw_table_bytes(store, store.events_table)
    keys = raw_table_bytes(store, "client_keys") + raw_table_bytes(store, "key_log")
    for needle in all_plaintexts(alpha, beta):
        assert needle not in events, needle
        assert needle not in keys, needle
    with store.location.connect() as conn:
        indexed = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND tablename = %s",
            (store.schema, store.events_table)).fetchall()
    assert indexed and all("state" not in d for (d,) in indexed)


def test_every_confidential_value_is_sealed_and_amounts_stay_clear(books: Books) -> None:
    svc, _, _ = books
    with svc.store.location.connect() as conn:
        rows = conn.execute(SQL("SELECT topic, state FROM {s}.{t}").format(
            s=Identifier(svc.store.schema), t=Identifier(svc.store.events_table))).fetchall()
    sealed = 0
    for topic, state in rows:
        payload = json.loads(bytes(state))
        for value in payload.get("confidential", {}).values():
            assert is_sealed(value), topic
            sealed += 1
        if topic.endswith(":ExpenseLogged"):
            assert payload["amount_minor"] == 4_250
    assert sealed == 2 * 5


def test_the_ledger_reads_plaintext_with_the_key(books: Books) -> None:
    svc, alpha, beta = books
    ctx = Context(svc.app)
    for book in (alpha, beta):
        client = ctx.client(book.client_id)
        assert client.confidential == {"name": book.plaintexts["name"],
                                       "billing_contact": book.plaintexts["billing_contact"]}
        matter = ctx.matter(book.matter_id)
        assert matter.entry(book.entry_id).narrative == book.plaintexts["narrative"]


def _stored(svc: BillingService, topic_suffix: str) -> list[StoredEvent]:
    return [e for e in svc.app.recorder.select_notifications(1, 1000)
            if e.topic.endswith(topic_suffix)]


def _with_confidential(event: StoredEvent, confidential: dict[str, str]) -> StoredEvent:
    payload: dict[str, Any] = json.loads(event.state)
    payload["confidential"] = confidential
    return replace(event, state=msgspec.json.encode(payload, order="sorted"))


def test_a_sealed_field_copied_into_another_event_fails_to_open(books: Books) -> None:
    svc, alpha, beta = books
    logged = _stored(svc, ":TimeLogged")
    a = next(e for e in logged if e.originator_id == alpha.matter_id)
    b = next(e for e in logged if e.originator_id == beta.matter_id)
    moved = json.loads(a.state)["confidential"]
    with pytest.raises(SealedFieldError) as refused:
        svc.app.mapper.to_domain_event(_with_confidential(b, moved))
    assert "Quillfeather" not in str(refused.value)
    # Same client, another event of the same aggregate (another version): refused too.
    alpha_events = [e for e in svc.app.recorder.select_notifications(1, 1000)
                    if e.originator_id == alpha.matter_id and "confidential" in
                    json.loads(e.state)]
    expense = next(e for e in alpha_events if e.topic.endswith(":ExpenseLogged"))
    with pytest.raises(SealedFieldError):
        svc.app.mapper.to_domain_event(_with_confidential(
            expense, {"description": moved["narrative"]}))
    # Another field of the same event: refused.
    onboarded = next(e for e in _stored(svc, ":ClientOnboarded")
                     if e.originator_id == alpha.client_id)
    fields = json.loads(onboarded.state)["confidential"]
    swapped = {"name": fields["billing_contact"], "billing_contact": fields["name"]}
    with pytest.raises(SealedFieldError):
        svc.app.mapper.to_domain_event(_with_confidential(onboarded, swapped))


def test_a_tampered_sealed_value_fails_to_open(books: Books) -> None:
    svc, alpha, _ = books
    event = next(e for e in _stored(svc, ":MatterOpened") if e.originator_id == alpha.matter_id)
    token = json.loads(event.state)["confidential"]["title"]
    head, _, b64 = token.rpartition(":")
    blob = bytearray(base64.b64decode(b64))
    blob[-1] ^= 1
    bad = f"{head}:{base64.b64encode(bytes(blob)).decode()}"
    with pytest.raises(SealedFieldError):
        svc.app.mapper.to_domain_event(_with_confidential(event, {"title": bad}))
    with pytest.raises(SealedFieldError):
        svc.app.mapper.to_domain_event(_with_confidential(event, {"title": PREFIX + "junk"}))


def test_sealing_is_deterministic_for_one_event(books: Books) -> None:
    svc, alpha, _ = books
    event = next(e for e in _stored(svc, ":TimeLogged") if e.originator_id == alpha.matter_id)
    domain = svc.app.mapper.to_domain_event(event)
    assert svc.app.mapper.to_stored_event(domain).state == event.state
    assert ERASED not in event.state.decode()


def test_logs_and_refusals_carry_no_plaintext(books: Books, caplog: pytest.LogCaptureFixture,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    svc, alpha, beta = books
    caplog.set_level(logging.DEBUG)
    narrative = "Quillfeather Gamma privileged strategy call"
    svc.log_time(ADMIN, m.LogTime(idempotency_key=key(), matter_id=alpha.matter_id,
                                  timekeeper_id="PA", work_on=alpha_day(), minutes=30,
                                  narrative=narrative))
    messages = []
    with pytest.raises(InvalidCommandError) as refused:
        m.parse(m.LogTime, {"idempotency_key": key(), "matter_id": str(alpha.matter_id),
                            "timekeeper_id": "PA", "work_on": "2024-01-12", "minutes": 0,
                            "narrative": narrative})
    messages.append(str(refused.value))
    captured = capsys.readouterr()
    text = caplog.text + captured.out + captured.err + " ".join(messages)
    for needle in [narrative, *[v for b in (alpha, beta) for v in b.plaintexts.values()]]:
        assert needle not in text
    assert narrative.encode() not in raw_table_bytes(svc.store, svc.store.events_table)


def alpha_day() -> date:
    return date(2024, 1, 12)
