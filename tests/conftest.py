"""Shared fixtures: a real PostgreSQL for every test, never a mock of it.

``LEDGER_DATABASE_URL`` selects an existing server; otherwise one embedded
server is started for the whole run in a temporary folder and stopped after.
Each test gets its own firm (its own schema), dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.database import DatabaseLocation, start_embedded, stop_embedded
from ledger.store.firm import FirmStore


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


def drop_firm(database: DatabaseLocation, store: FirmStore) -> None:
    from tests.chain_helpers import close_datastores

    close_datastores()
    with database.connect() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
        conn.execute(f'DROP ROLE IF EXISTS "{store.app_role}"')


def new_firm_name() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture
def firm_store(database: DatabaseLocation) -> Iterator[FirmStore]:
    """A fresh, initialised firm ledger of its own."""
    store = FirmStore(database, new_firm_name(), pool_size=4)
    store.ensure()
    try:
        yield store
    finally:
        drop_firm(database, store)


@pytest.fixture(autouse=True)
def webhooks_allow_private(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test receivers listen on 127.0.0.1, which webhooks refuse unless allowed.

    Set for every test (and the subprocesses they start); the tests of the
    refusal itself unset it.
    """
    monkeypatch.setenv("LEDGER_WEBHOOKS_ALLOW_PRIVATE", "1")
