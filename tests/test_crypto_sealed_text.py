"""Client-related free text (reasons, payment references) is sealed with the client's
key like ``confidential`` values: readable by an authorised read, unreadable in the
stored rows, and read as erased everywhere once the client is erased."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from psycopg.sql import SQL, Identifier

from commands import models as m
from commands.ledger_app import Context
from commands.service import BillingService
from ledger.crypto import ERASED
from ledger.domain.invoice import CreditNoteIssued, WrittenOff
from ledger.store.firm import FirmStore
from ledger.subscribers.feed import opener_for, read_page
from ledger.subscribers.scope import FIRM, FIRM_REDACTED, Owners, Scope
from projections.catalog import models_named
from projections.erasure import erase_client_rows
from projections.tracking import catch_up
from tests.support.billing import ADMIN, key
from tests.support.crypto import ClientBook

Books = tuple[BillingService, ClientBook, ClientBook]
WRITE_OFF = "Quillfeather hardship: director in hospital"
CREDIT = "Quillfeather goodwill after the Harbour Board complaint"


def event_table(store: FirmStore) -> bytes:
    with store.location.connect() as conn:
        rows = conn.execute(SQL("SELECT state FROM {s}.{t}").format(
            s=Identifier(store.schema), t=Identifier(store.events_table))).fetchall()
    return b"\n".join(bytes(r[0]) for r in rows)


def read_model_text(store: FirmStore, book: ClientBook) -> dict[str, Any]:
    s = Identifier(store.schema)
    with store.location.connect() as conn:
        reasons = conn.execute(SQL("SELECT reason FROM {s}.rm_adjustments WHERE client_id = %s")
                               .format(s=s), (book.client_id,)).fetchall()
        lines = conn.execute(SQL("SELECT kind, reference FROM {s}.rm_statement_lines WHERE "
                                 "client_id = %s AND kind IN ('payment', 'credit')"
                                 " ORDER BY position").format(s=s), (book.client_id,)).fetchall()
    return {"reasons": [r[0] for r in reasons], "lines": [tuple(r) for r in lines]}


def adjust(svc: BillingService, book: ClientBook) -> None:
    svc.write_off(ADMIN, m.WriteOff(idempotency_key=key(), invoice_id=book.invoice_id,
                                    amount_minor=1_000, reason=WRITE_OFF, approved_by="partner",
                                    written_off_on=date(2024, 2, 20)))
    svc.issue_credit_note(ADMIN, m.IssueCreditNote(
        idempotency_key=key(), invoice_id=book.invoice_id, amount_minor=500, reason=CREDIT,
        issued_on=date(2024, 2, 21)))


def feed_reasons(store: FirmStore, scope: Scope, client: ClientBook) -> list[Any]:
    """The write-off and credit-note reasons of one client as the pull feed sends them."""
    with store.location.connect() as conn:
        page = read_page(conn, store, Owners(store.schema, store.events_table), scope,
                         after=0, limit=500, opener=opener_for(store))
    return [e.payload["reason"] for e in page.events
            if e.type and e.type.endswith((":WrittenOff", ":CreditNoteIssued"))
            and e.client_id == str(client.client_id) and e.payload is not None]


def aggregate_texts(svc: BillingService, book: ClientBook) -> list[str]:
    """The reasons as the write side loads them (through the mapper)."""
    ctx = Context(svc.app)
    events = svc.app.repository.event_store.get(book.invoice_id)
    assert ctx.invoice(book.invoice_id).client_id == book.client_id
    return [e.reason for e in events if isinstance(e, (WrittenOff, CreditNoteIssued))]


def test_reasons_and_references_are_sealed_and_erased_with_the_client(books: Books) -> None:
    svc, alpha, beta = books
    adjust(svc, alpha)
    adjust(svc, beta)
    store = svc.store
    assert isinstance(store, FirmStore)
    stored = event_table(store)
    assert WRITE_OFF.encode() not in stored and CREDIT.encode() not in stored
    assert b"WIRE-7" not in stored
    states = [msgspec.json.decode(line) for line in stored.split(b"\n")]
    assert any(s.get("class_version") == 2 and s.get("client_id") == str(alpha.client_id)
               for s in states)

    models = models_named(None)
    catch_up(store, models)
    before = read_model_text(store, alpha)
    assert before == {"reasons": [WRITE_OFF], "lines": [("payment", "wire WIRE-7"),
                                                        ("credit", CREDIT)]}
    assert aggregate_texts(svc, alpha) == [WRITE_OFF, CREDIT]
    assert feed_reasons(store, FIRM, alpha) == [WRITE_OFF, CREDIT]
    assert feed_reasons(store, FIRM_REDACTED, alpha) == [{"redacted": True}] * 2

    svc.erase_client_data(ADMIN, m.EraseClientData(
        idempotency_key=key(), client_id=alpha.client_id, reason="erasure request",
        legal_basis="tax records kept 10 years", erased_on=date(2024, 3, 3)))
    erase_client_rows(store, alpha.client_id)
    erased = {"reasons": [ERASED], "lines": [("payment", f"wire {ERASED}"), ("credit", ERASED)]}
    assert read_model_text(store, alpha) == erased
    catch_up(store, models, rebuild=True)
    assert read_model_text(store, alpha) == erased
    assert aggregate_texts(svc, alpha) == [ERASED, ERASED]
    assert feed_reasons(store, FIRM, alpha) == [ERASED, ERASED]
    assert feed_reasons(store, FIRM, beta) == [WRITE_OFF, CREDIT]
    assert read_model_text(store, beta)["reasons"] == [WRITE_OFF]  # the other client keeps it

    # The books go on after erasure; the new text is not kept, in clear or otherwise.
    svc.write_off(ADMIN, m.WriteOff(idempotency_key=key(), invoice_id=alpha.invoice_id,
                                    amount_minor=100, reason="after erasure, collector said",
                                    approved_by="partner", written_off_on=date(2024, 4, 1)))
    assert b"after erasure, collector said" not in event_table(store)
    assert aggregate_texts(svc, alpha) == [ERASED, ERASED, ERASED]
