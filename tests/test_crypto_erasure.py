"""Crypto-shredding: after ``erase`` a client's confidential fields read as erased
everywhere, its amounts and every other client are untouched, and the chain and
checkpoints still verify (they cover the sealed bytes, not the keys)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg.sql import SQL, Identifier

from commands import models as m
from commands.ledger_app import Context
from commands.service import BillingService
from ledger.crypto import ERASED, close_engines
from ledger.crypto.errors import ClientErasedError
from ledger.proof.audit import verify_against_checkpoint
from ledger.proof.checkpoint import create_checkpoint
from ledger.store.firm import FirmStore
from ledger.verify import verify_chain
from projections.catalog import models_named
from projections.erasure import erase_client_rows
from projections.tracking import catch_up
from tests.support.billing import ADMIN, key
from tests.support.crypto import ClientBook

Books = tuple[BillingService, ClientBook, ClientBook]


def money(svc: BillingService, book: ClientBook) -> dict[str, Any]:
    return {"open": svc.client_open_balance(ADMIN, book.client_id),
            "credit": svc.client_unapplied_credit(ADMIN, book.client_id),
            "invoice": svc.invoice_state(ADMIN, book.invoice_id)}


def read_models(store: FirmStore, book: ClientBook) -> dict[str, Any]:
    s = Identifier(store.schema)
    with store.location.connect() as conn:
        client = conn.execute(SQL("SELECT name, billing_contact FROM {s}.rm_clients "
                                  "WHERE client_id = %s").format(s=s), (book.client_id,)).fetchone()
        matter = conn.execute(SQL("SELECT title FROM {s}.rm_matters WHERE matter_id = %s")
                              .format(s=s), (book.matter_id,)).fetchone()
        entries = conn.execute(SQL("SELECT narrative FROM {s}.rm_entries WHERE client_id = %s "
                                   "ORDER BY narrative").format(s=s), (book.client_id,)).fetchall()
        totals = conn.execute(SQL("SELECT total_minor, paid_minor FROM {s}.rm_invoices "
                                  "WHERE invoice_id = %s").format(s=s),
                              (book.invoice_id,)).fetchone()
    return {"client": tuple(client or ()), "title": matter[0] if matter else None,
            "narratives": [e[0] for e in entries], "totals": tuple(totals or ())}


def erase(svc: BillingService, book: ClientBook) -> dict[str, Any]:
    result = svc.erase_client_data(ADMIN, m.EraseClientData(
        idempotency_key=key(), client_id=book.client_id, reason="erasure request of 3 March",
        legal_basis="tax records kept 10 years", erased_on=date(2024, 3, 3)))
    erase_client_rows(svc.store, book.client_id)
    return dict(result.data)


def test_erasure_shreds_one_client_and_keeps_the_books(books: Books) -> None:
    svc, alpha, beta = books
    store = svc.store
    models = models_named(None)
    catch_up(store, models)
    before = {b.client_id: money(svc, b) for b in (alpha, beta)}
    beta_rows = read_models(store, beta)
    alpha_totals = read_models(store, alpha)["totals"]
    checkpoint = create_checkpoint(store, Ed25519PrivateKey.generate())

    result = erase(svc, alpha)
    assert result["key_versions"] == "1"

    ctx = Context(svc.app)
    assert ctx.client(alpha.client_id).confidential == {"name": ERASED,
                                                        "billing_contact": ERASED}
    entries = ctx.matter(alpha.matter_id).entries.values()
    assert {dict(e.confidential).get("narrative", ERASED) for e in entries} == {ERASED}
    assert ctx.client(beta.client_id).confidential["name"] == beta.plaintexts["name"]
    assert {b.client_id: money(svc, b) for b in (alpha, beta)} == before

    erased_rows = {"client": (ERASED, ERASED), "title": ERASED,
                   "narratives": [ERASED, ERASED], "totals": alpha_totals}
    assert read_models(store, alpha) == erased_rows
    assert read_models(store, beta) == beta_rows
    catch_up(store, models, rebuild=True)
    assert read_models(store, alpha) == erased_rows
    assert read_models(store, beta) == beta_rows

    report = verify_chain(store.location, store.schema, store.events_table)
    assert report.ok and report.checked == before_count(store)
    assert verify_against_checkpoint(store, checkpoint).ok


def before_count(store: FirmStore) -> int:
    with store.location.connect() as conn:
        row = conn.execute(SQL("SELECT count(*) FROM {s}.{t}").format(
            s=Identifier(store.schema), t=Identifier(store.events_table))).fetchone()
    return int(row[0]) if row else 0


def test_erasure_is_an_event_and_the_key_row_is_destroyed(books: Books) -> None:
    svc, alpha, beta = books
    erase(svc, alpha)
    s = Identifier(svc.store.schema)
    with svc.store.location.connect() as conn:
        keys = conn.execute(SQL("SELECT client_id, wrapped_key IS NULL, destroyed_at IS NOT NULL"
                                " FROM {s}.client_keys").format(s=s)).fetchall()
        log = conn.execute(SQL("SELECT action, client_id FROM {s}.key_log WHERE action ="
                               " 'destroyed'").format(s=s)).fetchall()
        event = conn.execute(SQL("SELECT state FROM {s}.{t} WHERE topic LIKE %s").format(
            s=s, t=Identifier(svc.store.events_table)), ("%:ClientDataErased",)).fetchall()
    assert {(c, gone, at) for c, gone, at in keys} == {
        (alpha.client_id, True, True), (beta.client_id, False, False)}
    assert log == [("destroyed", alpha.client_id)]
    assert len(event) == 1 and b"tax records kept 10 years" in bytes(event[0][0])
    # Once more (say after a crash between recording and destroying): no second event.
    count = before_count(svc.store)
    assert erase(svc, alpha)["already_erased"] == 1
    assert before_count(svc.store) == count + 1  # only the command's own record


def test_nothing_new_is_sealed_for_an_erased_client(books: Books) -> None:
    svc, alpha, beta = books
    erase(svc, alpha)
    count = before_count(svc.store)
    with pytest.raises(ClientErasedError) as refused:
        svc.log_time(ADMIN, m.LogTime(idempotency_key=key(), matter_id=alpha.matter_id,
                                      timekeeper_id="PA", work_on=date(2024, 3, 4),
                                      minutes=12, narrative="Quillfeather follow-up"))
    assert "Quillfeather" not in str(refused.value)
    assert before_count(svc.store) == count
    svc.log_time(ADMIN, m.LogTime(idempotency_key=key(), matter_id=beta.matter_id,
                                  timekeeper_id="PA", work_on=date(2024, 3, 4), minutes=12,
                                  narrative="Beta follow-up"))


def test_another_process_reads_erased_fields(books: Books, firm_store: FirmStore) -> None:
    svc, alpha, beta = books
    erase(svc, alpha)
    close_engines()  # a new process: no cached keys
    with BillingService(firm_store) as fresh:
        ctx = Context(fresh.app)
        assert ctx.client(alpha.client_id).confidential["name"] == ERASED
        assert ctx.client(beta.client_id).confidential["name"] == beta.plaintexts["name"]
        assert fresh.client_open_balance(ADMIN, alpha.client_id) == \
            svc.client_open_balance(ADMIN, alpha.client_id)
