"""The unit suite cannot reach PostgreSQL, even by accident."""

from __future__ import annotations

import os

import psycopg
import pytest

from ledger.database import DatabaseLocation, locate_database
from ledger.settings import Settings
from tests.support.isolation import DatabaseInUnitTestError

URL = "postgresql://postgres@127.0.0.1:5432/test"


def test_the_database_url_is_unset() -> None:
    assert "LEDGER_DATABASE_URL" not in os.environ


def test_connecting_fails_at_once() -> None:
    with pytest.raises(DatabaseInUnitTestError):
        psycopg.connect(URL)
    with pytest.raises(DatabaseInUnitTestError):
        DatabaseLocation(url=URL, embedded=False).connect()


def test_the_embedded_server_does_not_start() -> None:
    with pytest.raises(DatabaseInUnitTestError):
        locate_database(Settings())


def test_the_database_fixture_refuses(request: pytest.FixtureRequest) -> None:
    with pytest.raises(pytest.fail.Exception, match="without PostgreSQL"):
        request.getfixturevalue("firm_store")
