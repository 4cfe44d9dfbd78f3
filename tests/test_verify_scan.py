"""The verifier's COPY reader: whole rows, the server's errors, a usable connection after."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.sql import SQL

from ledger.database import DatabaseLocation
from ledger.verify_scan import copy_rows


def ints(conn: psycopg.Connection[object], sql: str) -> list[int]:
    return [int.from_bytes(row[6:10], "big") for row in copy_rows(conn, SQL(sql))]


@pytest.mark.parametrize("autocommit", [True, False])
def test_rows_empty_and_small(database: DatabaseLocation, autocommit: bool) -> None:
    with psycopg.connect(database.url, autocommit=autocommit) as conn:
        assert ints(conn, "COPY (SELECT 1 WHERE false) TO STDOUT (FORMAT BINARY)") == []
        assert ints(conn, "COPY (SELECT g FROM generate_series(1, 3) g)"
                          " TO STDOUT (FORMAT BINARY)") == [1, 2, 3]
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("fail_at", [2, 50_000])
def test_a_server_error_mid_copy_is_raised(database: DatabaseLocation, fail_at: int) -> None:
    with psycopg.connect(database.url, autocommit=True) as conn:
        seen: list[int] = []
        with pytest.raises(psycopg.errors.DivisionByZero):
            for row in copy_rows(conn, SQL(
                    "COPY (SELECT CASE WHEN g < {n} THEN g ELSE 1 / (g - g) END"
                    " FROM generate_series(1, 100000) g) TO STDOUT (FORMAT BINARY)"
                    ).format(n=fail_at)):
                seen.append(int.from_bytes(row[6:10], "big"))
        assert seen == list(range(1, fail_at))
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_abandoning_the_rows_ends_the_copy(database: DatabaseLocation) -> None:
    with psycopg.connect(database.url) as conn:
        rows = copy_rows(conn, SQL("COPY (SELECT g FROM generate_series(1, 200000) g)"
                                   " TO STDOUT (FORMAT BINARY)"))
        next(rows)
        rows.close()
        conn.rollback()
        assert conn.execute("SELECT 1").fetchone() == (1,)
