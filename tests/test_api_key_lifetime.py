"""API keys with a lifetime, and when each key was last used.

An expired key answers 401 ``key-expired``; ``keys list`` shows expiry and last
use. Last use is an append-only row per key per minute, written at most once a
minute per process, so a burst of requests costs one write.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import psycopg
import pytest

from ledger.api.keys import InvalidKeyLifetimeError, KeyStore, parse_lifetime
from ledger.api.problems import PROBLEM_BASE
from ledger.cli import main
from ledger.store.firm import FirmStore
from tests.support.api import Api, make_api


def uses(store: FirmStore) -> int:
    with store.location.connect() as conn:
        row = conn.execute(f'SELECT count(*) FROM "{store.schema}".api_key_uses').fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(("text", "lifetime"), [
    ("90d", timedelta(days=90)), ("12h", timedelta(hours=12)), ("1h", timedelta(hours=1)),
    ("3650d", timedelta(days=3650))])
def test_lifetimes_in_days_or_hours(text: str, lifetime: timedelta) -> None:
    assert parse_lifetime(text) == lifetime


@pytest.mark.parametrize("text", ["0d", "90", "1.5d", "3651d", "90m", "-1d", "d", "99999999d"])
def test_other_lifetimes_are_refused(text: str) -> None:
    with pytest.raises(InvalidKeyLifetimeError):
        parse_lifetime(text)


@pytest.fixture
def api(firm_store: FirmStore) -> Any:
    yield from make_api(firm_store)


def test_an_expired_key_answers_key_expired(api: Api, firm_store: FirmStore) -> None:
    keys = KeyStore(firm_store)
    token, made = keys.create("brief@firm", "auditor", created_by="test",
                              expires_in=timedelta(milliseconds=1))
    assert made.expires_at is not None and made.expires_at > made.created_at
    time.sleep(0.05)
    response = api.client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == PROBLEM_BASE + "key-expired" and body["field"] == "Authorization"
    assert response.headers["www-authenticate"] == "Bearer"
    lasting, _ = keys.create("long@firm", "auditor", created_by="test",
                             expires_in=timedelta(days=90))
    assert api.client.get("/v1/me", headers={"Authorization": f"Bearer {lasting}"}).json()[
        "principal_id"] == "long@firm"


def test_last_use_is_recorded_at_most_once_a_minute(api: Api, firm_store: FirmStore) -> None:
    api.key("admin", "firm_admin")
    [before] = KeyStore(firm_store).list()
    assert before.last_used_at is None and before.expires_at is None
    for _ in range(5):
        assert api.client.get("/v1/me", headers=api.auth("admin")).status_code == 200
    assert uses(firm_store) == 1  # five requests, one write
    [after] = KeyStore(firm_store).list()
    assert after.last_used_at is not None and after.last_used_at.second == 0
    # Another process in the same minute: its write (if the minute has not turned) is absorbed.
    KeyStore(firm_store).authenticate(api.tokens["admin"])
    assert uses(firm_store) in (1, 2)
    with firm_store.location.connect() as conn, pytest.raises(psycopg.Error,
                                                               match="append-only"):
        conn.execute(f'UPDATE "{firm_store.schema}".api_key_uses SET used_minute = now()')


def test_cli_creates_a_key_with_a_lifetime_and_lists_expiry_and_last_use(
        firm_store: FirmStore, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
    monkeypatch.setenv("LEDGER_FIRM", firm_store.firm)
    assert main(["keys", "create", "--principal", "ann@firm", "--role", "auditor",
                 "--expires-in", "90d", "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["expires_at"] > made["created_at"] and made["expired"] is False
    KeyStore(firm_store).authenticate(made["token"])
    assert main(["keys", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)["keys"]
    assert listed["expires_at"] == made["expires_at"] and listed["last_used_at"] is not None
    assert main(["keys", "list"]) == 0
    line = capsys.readouterr().out
    assert "active until" in line and "last used 20" in line
    assert main(["keys", "create", "--principal", "bo@firm", "--role", "auditor",
                 "--expires-in", "90 days"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--expires-in" in err
