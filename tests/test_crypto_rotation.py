"""Key rotation: a client's new key version seals new events while old ones stay
readable; a new key-encryption key re-wraps every data key without touching
any event; and the command line verbs for both, for erasure and the history."""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from psycopg.sql import SQL, Identifier

from commands import models as m
from commands.ledger_app import Context
from commands.service import BillingService
from ledger.cli import main
from ledger.crypto import close_engines, sealing_for_store
from ledger.crypto.errors import KeyEncryptionKeyError
from ledger.crypto.kek import read_kek_file, write_kek_file
from ledger.store.firm import FirmStore
from tests.support.billing import ADMIN, key
from tests.support.crypto import ClientBook

Books = tuple[BillingService, ClientBook, ClientBook]


def rows(store: FirmStore) -> list[tuple[Any, ...]]:
    with store.location.connect() as conn:
        return conn.execute(SQL("SELECT notification_id, topic, state, hash FROM {s}.{t} "
                                "ORDER BY notification_id").format(
            s=Identifier(store.schema), t=Identifier(store.events_table))).fetchall()


def opened(svc: BillingService) -> dict[tuple[str, int], dict[str, str]]:
    """Every event's confidential values, read through the application's mapper."""
    found = {}
    for stored in svc.app.recorder.select_notifications(1, 10_000):
        event = svc.app.mapper.to_domain_event(stored)
        if hasattr(event, "confidential"):
            found[(str(stored.originator_id), stored.originator_version)] = event.confidential
    return found


def test_a_rotated_client_key_seals_new_events_and_old_ones_stay_readable(books: Books) -> None:
    svc, alpha, _ = books
    assert sealing_for_store(svc.store).keys.rotate(alpha.client_id) == 2
    svc.log_time(ADMIN, m.LogTime(idempotency_key=key(), matter_id=alpha.matter_id,
                                  timekeeper_id="PA", work_on=date(2024, 2, 1), minutes=30,
                                  narrative="Quillfeather after rotation"))
    states = [json.loads(bytes(r[2])) for r in rows(svc.store)
              if r[1].endswith(":TimeLogged")]
    versions = sorted(s["confidential"]["narrative"].split(":")[3] for s in states
                      if s["client_id"] == str(alpha.client_id))
    assert versions == ["1", "2"]
    narratives = {e.narrative for e in Context(svc.app).matter(alpha.matter_id).entries.values()
                  if e.kind == "time"}
    assert narratives == {alpha.plaintexts["narrative"], "Quillfeather after rotation"}


def test_a_new_kek_rewraps_every_data_key_and_leaves_events_alone(
        books: Books, firm_store: FirmStore, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    svc, _, beta = books
    sealing_for_store(svc.store).keys.rotate(beta.client_id)
    before_rows, before_values = rows(svc.store), opened(svc)
    new_file = tmp_path / "kek-new"
    write_kek_file(new_file)
    assert sealing_for_store(svc.store).keys.rewrap_all(read_kek_file(new_file)) == 3
    assert rows(svc.store) == before_rows

    close_engines()  # a new process, configured with the new KEK
    monkeypatch.delenv("LEDGER_KEK")
    monkeypatch.setenv("LEDGER_KEK_FILE", str(new_file))
    with BillingService(firm_store) as fresh:
        assert opened(fresh) == before_values
    close_engines()  # and one still configured with the old KEK: refused, clearly
    monkeypatch.delenv("LEDGER_KEK_FILE")
    monkeypatch.setenv("LEDGER_KEK", base64.b64encode(b"\x01" * 32).decode())
    with BillingService(firm_store) as stale, pytest.raises(KeyEncryptionKeyError):
        opened(stale)
    close_engines()


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main([*argv, "--json"])
    out = capsys.readouterr()
    return code, json.loads(out.out) if code == 0 else out.err


def test_the_command_line_verbs(books: Books, firm_store: FirmStore, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    _, alpha, beta = books
    monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEDGER_FIRM", firm_store.firm)
    code, out = cli(capsys, "clients", "rotate-key", str(beta.client_id))
    assert (code, out["key_version"]) == (0, 2)
    new_file = tmp_path / "kek-2"
    write_kek_file(new_file)
    code, out = cli(capsys, "keys", "rotate-kek", "--new-kek-file", str(new_file))
    assert (code, out["rewrapped"]) == (0, 3)
    monkeypatch.delenv("LEDGER_KEK")
    monkeypatch.setenv("LEDGER_KEK_FILE", str(new_file))
    close_engines()
    code, out = cli(capsys, "clients", "erase", str(alpha.client_id), "--reason",
                    "client asked for erasure", "--legal-basis", "tax law: 10 years")
    assert code == 0 and out["key_versions"] == "1" and out["read_model_rows_erased"] == 0
    code, out = cli(capsys, "keys", "history")
    actions = [(h["action"], h["client_id"], h["key_version"]) for h in out["history"]]
    assert ("rotated", str(beta.client_id), 2) in actions
    assert ("destroyed", str(alpha.client_id), 1) in actions
    assert any(a[0] == "kek-rotated" for a in actions)
    code, err = cli(capsys, "clients", "erase", "not-a-uuid", "--reason", "abc",
                    "--legal-basis", "abc")
    assert code == 2 and "client_id" in err
    code, out = cli(capsys, "verify")
    assert code == 0
