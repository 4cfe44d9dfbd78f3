"""Keyed command fingerprints (issue #14, the guessing oracle).

A command record's fingerprint used to be a plain SHA-256 of the command's
payload: hashing a guess confirmed it against the stored value, also after the
client was erased. Now it is an HMAC under the client's secret (gone with its
data key) or the firm's (derived from the KEK): the stored rows confirm nothing.
Old records keep their SHA-256, are still compared correctly, and are listed by
``ledger audit exposure``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest
from psycopg.sql import SQL, Identifier

from commands import models as m
from commands.errors import IdempotencyConflictError
from commands.ledger_app import BillingLedger, ledger_env
from commands.service import BillingService, payload_sha256
from ledger.cli import main
from ledger.domain.command_record import CommandRecord
from ledger.domain.payment import Payment
from ledger.store.firm import FirmStore
from tests.support.billing import ADMIN, key, set_up_firm

NAME = "Northwind Saltmarsh Holdings"


def stored_fingerprints(store: FirmStore) -> dict[str, str]:
    """Idempotency key -> the fingerprint as stored in the event table."""
    with store.location.connect() as conn:
        rows = conn.execute(SQL("SELECT state FROM {s}.{t} WHERE topic LIKE %s").format(
            s=Identifier(store.schema), t=Identifier(store.events_table)),
            ("%:CommandAccepted",)).fetchall()
    states = [msgspec.json.decode(bytes(r[0])) for r in rows]
    return {s["idempotency_key"]: s["payload_sha256"] for s in states}


def onboard(idempotency_key: str, name: str = NAME) -> m.OnboardClient:
    return m.OnboardClient(idempotency_key=idempotency_key, name=name,
                           billing_contact="ap@northwind.example", currency="USD",
                           payment_terms_days=30, effective_on=date(2024, 1, 2))


def open_matter(idempotency_key: str, client_id: UUID, title: str) -> m.OpenMatter:
    return m.OpenMatter(idempotency_key=idempotency_key, client_id=client_id, title=title,
                        opened_on=date(2024, 1, 3))


def erase(svc: BillingService, client_id: UUID, idempotency_key: str) -> dict[str, Any]:
    return dict(svc.erase_client_data(ADMIN, m.EraseClientData(
        idempotency_key=idempotency_key, client_id=client_id, reason="erasure request",
        legal_basis="tax records kept 10 years", erased_on=date(2024, 3, 3))).data)


def save_old_style_record(svc: BillingService, command: m.Command, name: str,
                          result: dict[str, str | int]) -> None:
    """A record as ledgers written before keyed fingerprints hold it (plain SHA-256)."""
    svc.app.save(CommandRecord.accept(
        actor=ADMIN.id, effective_on=date(2024, 1, 2), idempotency_key=command.idempotency_key,
        command=name, payload_sha256=payload_sha256(name, command), result=result))


def test_a_guess_confirms_against_an_old_record_but_not_against_a_new_one(
        service: BillingService, firm_store: FirmStore, kek: str) -> None:
    set_up_firm(service)
    old, new = onboard("old-style-0001"), onboard("new-style-0001")
    save_old_style_record(service, old, "onboard_client", {"client_id": "x"})
    client_id = UUID(str(service.onboard_client(ADMIN, new)["client_id"]))
    matter_key = key()
    service.open_matter(ADMIN, open_matter(matter_key, client_id, "Reviewed clause 1"))

    stored = stored_fingerprints(firm_store)
    guess = payload_sha256("onboard_client", onboard("any-key-0001"))
    assert stored[old.idempotency_key] == guess  # the oracle of an old record
    assert stored[new.idempotency_key] != guess
    assert stored[new.idempotency_key].startswith(f"hmac-sha256:v1:client:{client_id}:1:")
    matter_guess = payload_sha256("open_matter", open_matter("k-000000", client_id,
                                                            "Reviewed clause 1"))
    assert stored[matter_key] != matter_guess

    erase(service, client_id, key())
    after = stored_fingerprints(firm_store)
    assert after[new.idempotency_key] == stored[new.idempotency_key]  # immutable
    assert after[new.idempotency_key] != guess
    # Nobody can recompute it now: the secret went with the data key.
    with pytest.raises(IdempotencyConflictError, match="erased client"):
        service.onboard_client(ADMIN, new)


def test_idempotency_holds_for_keyed_and_old_records(
        service: BillingService, firm_store: FirmStore, kek: str) -> None:
    set_up_firm(service)
    first = service.onboard_client(ADMIN, onboard("onboard-0002"))
    assert service.onboard_client(ADMIN, onboard("onboard-0002")) == first
    with pytest.raises(IdempotencyConflictError):
        service.onboard_client(ADMIN, onboard("onboard-0002", name="Another Name"))

    client_id = UUID(str(first["client_id"]))
    opened = service.open_matter(ADMIN, open_matter("matter-0002", client_id, "Title A"))
    assert service.open_matter(ADMIN, open_matter("matter-0002", client_id, "Title A")) == opened
    with pytest.raises(IdempotencyConflictError):
        service.open_matter(ADMIN, open_matter("matter-0002", client_id, "Title B"))

    tk = m.RegisterTimekeeper(idempotency_key="timekeeper-0002", timekeeper_id="PA", name="P A",
                              title="PARTNR", default_rate_minor_per_hour=30_000)
    service.register_timekeeper(ADMIN, tk)
    service.register_timekeeper(ADMIN, tk)
    with pytest.raises(IdempotencyConflictError):
        service.register_timekeeper(ADMIN, tk.model_copy(update={"name": "Q B"}))
    assert stored_fingerprints(firm_store)["timekeeper-0002"].startswith("hmac-sha256:v1:firm:")

    old = onboard("old-style-0002", name="Old Style Client")
    save_old_style_record(service, old, "onboard_client", {"client_id": str(client_id)})
    assert service.onboard_client(ADMIN, old)["client_id"] == str(client_id)
    with pytest.raises(IdempotencyConflictError):
        service.onboard_client(ADMIN, onboard("old-style-0002", name="Changed"))


def test_erasure_repeats_with_its_key_and_later_commands_are_keyed_by_the_firm(
        service: BillingService, firm_store: FirmStore, kek: str) -> None:
    set_up_firm(service)
    client_id = UUID(str(service.onboard_client(ADMIN, onboard(key()))["client_id"]))
    first = erase(service, client_id, "erase-0003")
    assert erase(service, client_id, "erase-0003") == first
    assert stored_fingerprints(firm_store)["erase-0003"].startswith("hmac-sha256:v1:firm:")


def test_audit_exposure_lists_old_style_records_per_client(
        service: BillingService, firm_store: FirmStore, kek: str,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
    set_up_firm(service)
    client_id = UUID(str(service.onboard_client(ADMIN, onboard(key()))["client_id"]))
    matter_id = service.open_matter(ADMIN, open_matter(key(), client_id, "Title"))["matter_id"]
    old = open_matter("old-style-0004", client_id, "Reviewed clause 1")
    save_old_style_record(service, old, "open_matter", {"matter_id": matter_id})
    position = firm_store.head().position
    # A payment stored as before references were sealed (a store without the sealer).
    unsealed = BillingLedger(env={**ledger_env(firm_store), "CIPHER_TOPIC": ""})
    unsealed.save(Payment.receive(
        payment_id=uuid4(), actor=ADMIN.id, effective_on=date(2024, 1, 5), client_id=client_id,
        client_currency="USD", amount_minor=100, currency="USD", method="wire",
        reference="Northwind WIRE-1"))
    unsealed.close()

    assert main(["--firm", firm_store.firm, "audit", "exposure", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unkeyed"] == 1 and report["keyed"] == 3
    assert report["clear_text_events"] == 1
    assert report["clients"] == [{"client_id": str(client_id), "events": [
        {"position": position, "event_type": "CommandAccepted",
         "exposes": "unkeyed fingerprint", "command": "open_matter"},
        {"position": position + 1, "event_type": "PaymentReceived",
         "exposes": "text in clear: reference", "command": None}]}]

    assert main(["--firm", firm_store.firm, "audit", "exposure"]) == 0
    text = capsys.readouterr().out
    assert f"client {client_id}: 2 event(s)" in text
    assert f"position {position}  CommandAccepted  unkeyed fingerprint (open_matter)" in text
