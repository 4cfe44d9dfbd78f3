"""What the unit suite puts in the way of PostgreSQL (see tests/unit/conftest.py)."""

from __future__ import annotations

from typing import Any, NoReturn

NO_DATABASE = ("unit tests run without PostgreSQL; a test that needs the database "
               "belongs in tests/ (the integration tests), not tests/unit/")


class DatabaseInUnitTestError(RuntimeError):
    """A unit test tried to reach PostgreSQL (connect, or start the embedded server)."""


def refuse(*_: Any, **__: Any) -> NoReturn:
    raise DatabaseInUnitTestError(NO_DATABASE)
