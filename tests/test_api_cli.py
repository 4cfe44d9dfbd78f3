"""The operator's verbs: keys, breach-scope reports, time import (through ``ledger.cli``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.api.keys import KeyStore
from ledger.cli import main
from ledger.store.firm import FirmStore
from tests.support.api import NARRATIVE, grant, make_api, seed


def ledger(firm_store: FirmStore, capsys: pytest.CaptureFixture[str], *argv: str,
           code: int = 0) -> Any:
    assert main(["--firm", firm_store.firm, *argv, "--json"]) == code
    out = capsys.readouterr().out
    return json.loads(out) if out.strip() else None


@pytest.fixture
def env(firm_store: FirmStore, monkeypatch: pytest.MonkeyPatch) -> FirmStore:
    monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
    return firm_store


def test_keys_are_shown_once_stored_hashed_and_revocable(
        env: FirmStore, capsys: pytest.CaptureFixture[str]) -> None:
    made = ledger(env, capsys, "keys", "create", "--principal", "ann@firm", "--role", "auditor")
    assert made["token"].startswith("llk_") and len(made["token"]) == 4 + 43
    assert KeyStore(env).authenticate(made["token"]) is not None
    listed = ledger(env, capsys, "keys", "list")["keys"]
    assert [k["principal_id"] for k in listed] == ["ann@firm"]
    assert "token" not in json.dumps(listed)
    with env.location.connect() as conn:
        stored = conn.execute(f'SELECT sha256 FROM "{env.schema}".api_keys').fetchone()
    assert stored is not None and made["token"].encode() not in bytes(stored[0])
    revoked = ledger(env, capsys, "keys", "revoke", made["key_id"])
    assert revoked["revoked_at"] is not None
    assert KeyStore(env).authenticate(made["token"]) is None
    with env.location.connect() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(f'DELETE FROM "{env.schema}".api_key_revocations')


def test_access_who_and_what(env: FirmStore, capsys: pytest.CaptureFixture[str]) -> None:
    start = datetime.now(UTC) - timedelta(seconds=2)
    for api in make_api(env):
        seed(api)
        api.key("aud", "auditor")
        grant(api, "aud", "auditor", api.ids["c1"])
        api.get("aud", f"/v1/clients/{api.ids['c1']}/statement")
        api.get("aud", f"/v1/invoices/{api.ids['i1']}")
        c1 = api.ids["c1"]
    window = ["--from", start.isoformat(), "--to", (start + timedelta(minutes=5)).isoformat()]
    who = ledger(env, capsys, "access", "who", "--client", c1, *window)
    assert who["principals"] == [{"principal_id": "aud", "reads": 2}]
    what = ledger(env, capsys, "access", "what", "--principal", "aud", *window)
    assert {a["what"] for a in what["accesses"]} == {"statement", "invoice"}


def test_time_import_csv_and_json_is_idempotent(env: FirmStore, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    for api in make_api(env):
        seed(api)
        m1 = api.ids["m1"]
    csv_file = tmp_path / "time.csv"
    csv_file.write_text("matter_id,timekeeper_id,work_on,minutes,narrative,billable\n"
                        f"{m1},tk1,2024-03-01,30,{NARRATIVE},true\n"
                        f"{m1},tk1,2024-03-02,45,Research,no\n", encoding="utf-8")
    done = ledger(env, capsys, "time", "import", str(csv_file))
    assert done["recorded"] == 2 and done["failed"] == 0
    head = env.head().position
    again = ledger(env, capsys, "time", "import", str(csv_file))
    assert [r["entry_id"] for r in again["rows"]] == [r["entry_id"] for r in done["rows"]]
    assert env.head().position == head
    json_file = tmp_path / "time.json"
    json_file.write_text(json.dumps([{"matter_id": m1, "timekeeper_id": "tk1",
                                      "work_on": "2024-03-03", "minutes": 12,
                                      "narrative": "Call", "idempotency_key": "tk1-0303"}]))
    assert ledger(env, capsys, "time", "import", str(json_file))["recorded"] == 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"matter_id": m1, "timekeeper_id": "tk1",
                                "work_on": "2024-03-04", "minutes": 12, "narrative": "ok"},
                               {"matter_id": m1, "timekeeper_id": "tk1",
                                "work_on": "2024-03-04", "minutes": 1.5,
                                "narrative": NARRATIVE}]))
    head = env.head().position
    assert main(["--firm", env.firm, "time", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "row 2" in err and "minutes" in err and NARRATIVE not in err
    assert env.head().position == head  # one bad row: nothing recorded
