"""The read models' own COPY text encoding stores exactly what psycopg's adaptation
stores, for every column type the tables use, awkward text and nulls included."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import uuid4

from ledger.database import DatabaseLocation
from projections.catalog import MODELS
from projections.model import table
from projections.rows import Row, Table, encode_rows

AWKWARD = ["", "plain", "tab\there", "new\nline", "cr\rhere", "back\\slash", "\\N",
           'quote"d', "comma, {brace}", "naïve – ünïcode ✓", "NULL", "trailing\\"]

ALL_TYPES = table(
    "rm_copy_check", ("id",), ("id", "uuid"), ("other", "uuid"), ("n", "bigint"),
    ("small", "integer"), ("flag", "boolean"), ("day", "date"), ("label", "text"),
    ("names", "text[]"))


def rows_for(t: Table, count: int) -> list[Row]:
    rows = []
    for i in range(count):
        text = AWKWARD[i % len(AWKWARD)]
        rows.append({"id": uuid4(), "other": None if i % 3 == 0 else uuid4(),
                     "n": None if i % 4 == 1 else (-1) ** i * 10 ** (i % 19),
                     "small": i, "flag": None if i % 5 == 2 else i % 2 == 0,
                     "day": None if i % 6 == 3 else date(2025, 1 + i % 12, 1 + i % 28),
                     "label": None if i % 7 == 4 else text,
                     "names": None if i % 8 == 5 else [text, None, AWKWARD[(i + 3) % 12]]})
    return rows


def stored(conn: Any, name: str) -> list[tuple[Any, ...]]:
    return conn.execute(f"SELECT * FROM {name} ORDER BY id").fetchall()


def test_encoded_copy_text_stores_what_psycopg_stores(database: DatabaseLocation) -> None:
    rows = rows_for(ALL_TYPES, 60)
    data = encode_rows(ALL_TYPES, rows)
    assert isinstance(data, bytes)
    cols = ALL_TYPES.column_names
    with database.connect() as conn:
        for name in ("copy_ours", "copy_psycopg"):
            conn.execute(ALL_TYPES.create("pg_temp").as_string(conn).replace(
                "rm_copy_check", name))
        with conn.cursor().copy("COPY copy_ours FROM STDIN") as cp:
            cp.write(data)
        with conn.cursor().copy("COPY copy_psycopg FROM STDIN") as cp:
            for row in rows:
                cp.write_row(tuple(row[c] for c in cols))
        ours, theirs = stored(conn, "copy_ours"), stored(conn, "copy_psycopg")
    assert ours == theirs
    assert len(ours) == 60
    by_id = {r["id"]: r for r in rows}
    for got in ours:
        assert got == tuple(by_id[got[0]][c] for c in cols)


def test_unexpected_value_types_fall_back_to_psycopg() -> None:
    row = rows_for(ALL_TYPES, 1)[0]
    for column, odd in (("id", str(uuid4())), ("n", 1.5), ("n", "1"), ("label", 7)):
        assert isinstance(encode_rows(ALL_TYPES, [{**row, column: odd}]), list)
    assert isinstance(encode_rows(ALL_TYPES, [{**row, "day": datetime(2025, 1, 2)}]), bytes)


def test_every_model_table_has_an_encoder() -> None:
    for model in MODELS.values():
        for t in model.tables:
            assert callable(t.copy_line)
