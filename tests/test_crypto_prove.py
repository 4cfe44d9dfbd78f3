"""``ledger prove --client``: an inclusion bundle of exactly one client's events,
which verifies offline, also after that client was erased."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from psycopg.sql import SQL, Identifier

from commands import models as m
from commands.service import BillingService
from ledger.cli import main
from ledger.proof import standalone
from ledger.store.firm import FirmStore
from tests.support.billing import ADMIN, key
from tests.support.crypto import ClientBook

Books = tuple[BillingService, ClientBook, ClientBook]


def owned_positions(store: FirmStore, book: ClientBook) -> list[int]:
    """The client's positions, computed the long way: through every aggregate id."""
    with store.location.connect() as conn:
        rows = conn.execute(SQL("SELECT notification_id, originator_id, state FROM {s}.{t} "
                                "ORDER BY notification_id").format(
            s=Identifier(store.schema), t=Identifier(store.events_table))).fetchall()
    owned = {book.client_id}
    for _, oid, state in rows:
        if json.loads(bytes(state)).get("client_id") == str(book.client_id):
            owned.add(oid)
    return [pos for pos, oid, _ in rows if oid in owned]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_prove_one_clients_events(books: Books, firm_store: FirmStore, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    svc, alpha, beta = books
    svc.erase_client_data(ADMIN, m.EraseClientData(
        idempotency_key=key(), client_id=alpha.client_id, reason="erasure request",
        legal_basis="records kept 10 years", erased_on=date(2024, 3, 3)))
    monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEDGER_FIRM", firm_store.firm)
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "checkpoint", "--out", "cp.json")[0] == 0
    code, out = run(capsys, "prove", "--client", str(alpha.client_id), "--checkpoint",
                    "cp.json", "--out", "alpha.json", "--json")
    assert code == 0
    expected = owned_positions(firm_store, alpha)
    assert json.loads(out)["positions"] == expected
    bundle = json.loads((tmp_path / "alpha.json").read_text())
    assert [e["position"] for e in bundle["events"]] == expected
    beta_positions = set(owned_positions(firm_store, beta))
    assert beta_positions and not beta_positions & set(expected)
    topics = {e["topic"].rpartition(":")[2] for e in bundle["events"]}
    assert {"ClientOnboarded", "MatterOpened", "TimeLogged", "InvoiceIssued",
            "PaymentReceived", "ClientDataErased"} <= topics
    assert standalone.main(["alpha.json"]) == 0
    code, _ = run(capsys, "prove", "--client", "nobody", "--checkpoint", "cp.json")
    assert code == 2
