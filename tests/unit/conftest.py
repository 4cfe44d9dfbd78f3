"""Unit tests run without PostgreSQL, by construction.

Every test here runs with ``LEDGER_DATABASE_URL`` unset, with the ``database``
fixture (and so ``firm_store``, ``service``, ...) refusing, and with psycopg's
connecting and the embedded server's start made to fail: a test that reaches
for a database by accident fails at once, naming the cause, instead of quietly
becoming an integration test or starting a server. Commands run on the
eventsourcing library's in-memory recorders (:class:`MemoryStore`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NoReturn

import psycopg.generators
import pytest

import ledger.database
from commands.service import BillingService
from ledger.store.memory import MemoryStore
from tests.support.isolation import NO_DATABASE, refuse


@pytest.fixture(autouse=True)
def no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGER_DATABASE_URL", raising=False)
    # Every psycopg connection, sync or async, pooled or not, starts with this generator.
    monkeypatch.setattr(psycopg.generators, "connect", refuse)
    monkeypatch.setattr(ledger.database, "start_embedded", refuse)


@pytest.fixture(scope="session")
def database() -> NoReturn:
    pytest.fail(NO_DATABASE)


@pytest.fixture
def memory_service() -> Iterator[BillingService]:
    """The command service, unchanged, on the library's in-memory recorders."""
    svc = BillingService(MemoryStore())
    try:
        yield svc
    finally:
        svc.close()
