"""Shared fixtures: a real PostgreSQL for every integration test, never a mock of it.

``LEDGER_DATABASE_URL`` selects an existing server; otherwise one embedded
server is started for the whole run in a temporary folder and stopped after.
Each test gets its own firm (its own schema), dropped afterwards.

Fixtures live here (and in tests/unit/conftest.py); the plain helpers they and
the tests use live in ``tests.support``, so no test module imports another.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from commands.service import BillingService
from ledger.api import ApiConfig, create_app
from ledger.crypto import close_engines
from ledger.database import DatabaseLocation, start_embedded, stop_embedded
from ledger.store.firm import FirmStore
from tests.chain_helpers import append
from tests.support.access import Clock
from tests.support.api import Api, make_api
from tests.support.billing import set_up_firm, timekeeper
from tests.support.crypto import ClientBook, record_client
from tests.support.firms import drop_firm, new_firm_name
from tests.support.subscribers import Receiver, Recorder, free_port, nats_server


@pytest.fixture(scope="session")
def database() -> Iterator[DatabaseLocation]:
    url = os.environ.get("LEDGER_DATABASE_URL")
    if url:
        yield DatabaseLocation(url=url, embedded=False)
        return
    folder = Path(tempfile.mkdtemp(prefix="ledger-test-pg-"))
    pgdata = folder / "pgdata"
    try:
        yield DatabaseLocation(url=start_embedded(pgdata), embedded=True)
    finally:
        stop_embedded(pgdata)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def firm_store(database: DatabaseLocation) -> Iterator[FirmStore]:
    """A fresh, initialised firm ledger of its own."""
    store = FirmStore(database, new_firm_name(), pool_size=4)
    store.ensure()
    try:
        yield store
    finally:
        drop_firm(database, store)


@pytest.fixture
def service(firm_store: FirmStore) -> Iterator[BillingService]:
    """The command service on the test's firm ledger."""
    svc = BillingService(firm_store)
    try:
        yield svc
    finally:
        svc.close()


@pytest.fixture
def api(firm_store: FirmStore) -> Iterator[Api]:
    """The HTTP app on the test's firm ledger, through a test client."""
    yield from make_api(firm_store)


@pytest.fixture(name="kek")
def kek_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh key-encryption key in ``LEDGER_KEK`` (base64), engines reset around it."""
    value = base64.b64encode(secrets.token_bytes(32)).decode()
    monkeypatch.setenv("LEDGER_KEK", value)
    close_engines()
    yield value
    close_engines()


@pytest.fixture(name="books")
def books_fixture(firm_store: FirmStore, kek: str) -> Iterator[tuple[BillingService, ClientBook,
                                                              ClientBook]]:
    """A firm under a fresh KEK with two clients' books of known confidential values."""
    svc = BillingService(firm_store)
    try:
        set_up_firm(svc)
        timekeeper(svc, "PA", 30_000, "PARTNR")
        yield svc, record_client(svc, "Alpha"), record_client(svc, "Beta")
    finally:
        svc.close()


@pytest.fixture
def recorder(firm_store: FirmStore) -> Iterator[Recorder]:
    """Records real billing aggregates on the test's firm ledger (subscriber tests)."""
    rec = Recorder(firm_store)
    try:
        yield rec
    finally:
        rec.close()


@pytest.fixture(scope="session")
def nats_url() -> Iterator[str]:
    with nats_server() as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real HTTP endpoint on 127.0.0.1 that records the webhooks it is sent."""
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(firm_store: FirmStore, clock: Clock) -> Iterator[str]:
    """The app served over real HTTP (streams need it), judging grants by ``clock``."""
    app = create_app(firm_store, ApiConfig(access_linger_seconds=0.01, today=clock))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(autouse=True)
def webhooks_allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test receivers listen on 127.0.0.1, which webhooks refuse unless allowed.

    Set for every test (and the subprocesses they start); the tests of the
    refusal itself unset it.
    """
    monkeypatch.setenv("LEDGER_WEBHOOKS_ALLOW_PRIVATE", "1")


@pytest.fixture
def cli(firm_store: FirmStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FirmStore:
    """The command line pointed at a 12-event firm ledger, in a folder of its own with no
    signing key yet (checkpoint and proof verbs)."""
    monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
    monkeypatch.setenv("LEDGER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LEDGER_FIRM", firm_store.firm)
    monkeypatch.delenv("LEDGER_SIGNING_KEY_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    append(firm_store, 12, batch=5)
    return firm_store
