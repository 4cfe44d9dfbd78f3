"""Read-model rows: table definitions, the in-memory row set the folds write to,
and readers that give reports the same rows from memory or from PostgreSQL.

Why one row set for every driver: the folds (``projections.folds_*``) only ever
``get``/``put``/``delete`` rows here. The live projection and the rebuild back a
``Rows`` with PostgreSQL (loading a missing key on demand, then writing what
changed together with the tracking position); the as-of replay keeps it in
memory. Reports read through ``Reader`` and never know which one they got, so
an as-of report at ``now`` equals the live one by construction.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Protocol, cast
from uuid import UUID

from psycopg import Cursor
from psycopg.rows import dict_row
from psycopg.sql import SQL, Composed, Identifier

Row = dict[str, Any]
Key = tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    """A read-model table: columns with SQL types, a primary key, and when a row
    is final (never read or changed again by the fold, so it may leave the cache)."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    final: Callable[[Row], bool] | None = None
    indexes: tuple[str, ...] = ()
    """Columns with a secondary index (lookups by client, for reports and as-of)."""

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)

    def key_of(self, row: Row) -> Key:
        if len(self.key) == 1:
            return (row[self.key[0]],)
        return tuple(row[k] for k in self.key)

    def create(self, schema: str) -> Composed:
        cols = SQL(", ").join(
            SQL("{} {}").format(Identifier(c), SQL(t)) for c, t in self.columns  # type: ignore[arg-type]
        )
        pk = SQL(", ").join(Identifier(k) for k in self.key)
        return SQL("CREATE TABLE IF NOT EXISTS {s}.{t} ({cols}, PRIMARY KEY ({pk}))").format(
            s=Identifier(schema), t=Identifier(self.name), cols=cols, pk=pk)

    def create_indexes(self, schema: str) -> list[Composed]:
        return [SQL("CREATE INDEX IF NOT EXISTS {i} ON {s}.{t} ({c})").format(
            i=Identifier(f"{self.name}_{column}_idx"), s=Identifier(schema),
            t=Identifier(self.name), c=Identifier(column)) for column in self.indexes]

    def drop(self, schema: str) -> Composed:
        return SQL("DROP TABLE IF EXISTS {s}.{t}").format(
            s=Identifier(schema), t=Identifier(self.name))

    @cached_property
    def copy_line(self) -> Callable[[Row], str]:
        """One row as a line of ``COPY ... FROM STDIN`` text (see :func:`copy_encoder`)."""
        return copy_encoder(self)


# -- COPY text, written here rather than value by value through psycopg -------------------
#
# A rebuild writes about two rows per event; adapting them value by value through
# psycopg (a Python dumper call per uuid, a tuple per row) was the largest cost of
# a rebuild. Each table gets one function instead, compiled once from its column
# types, that turns a row dict into a line of COPY text with no per-value dispatch:
# uuid as 32 hex digits, date ISO, integer and boolean literals, text escaped only
# when it holds a backslash, tab, newline or carriage return. (Encoding a column at
# a time with C-level maps was tried: it is slower, as it walks every row once per
# column.)

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_ARRAY_QUOTE = re.compile(r'(["\\])')
_NULL = "\\N"


def _copy_text(value: str) -> str:
    return value.translate(_COPY_ESCAPES)


def _text_array(values: list[str | None]) -> str:
    """A one-dimensional ``text[]`` value as COPY text."""
    if any(v is not None and ('"' in v or "\\" in v) for v in values):
        items = ["NULL" if v is None else '"' + _ARRAY_QUOTE.sub(r"\\\1", v) + '"'
                 for v in values]
    else:
        items = ["NULL" if v is None else '"' + v + '"' for v in values]
    return _copy_text("{" + ",".join(items) + "}")


def _value_code(var: str, sql_type: str) -> str:
    """An expression formatting the non-null value ``var`` of this SQL type."""
    kind = sql_type.strip().lower()
    if kind == "uuid":
        return f"'%032x' % {var}.int"
    if kind in ("bigint", "integer", "smallint"):
        return f"_int_text({var})"
    if kind == "boolean":
        return f"_booleans[{var}]"
    if kind == "date":
        return f"_date_text({var})"
    if kind == "text":
        return (f"({var} if not ('\\\\' in {var} or '\\t' in {var} or '\\n' in {var} "
                f"or '\\r' in {var}) else _copy_text({var}))")
    if kind == "text[]":
        return f"_text_array({var})"
    raise ValueError(f"no COPY text format for column type {sql_type!r}")


def copy_encoder(table: Table) -> Callable[[Row], str]:
    """A function from a row of ``table`` to its COPY text line (newline included).

    A value of an unexpected Python type raises (TypeError, AttributeError or
    KeyError); :func:`encode_rows` then leaves those rows to psycopg.
    """
    lines = ["def encode(r):"]
    names = []
    for i, (column, sql_type) in enumerate(table.columns):
        value = _value_code("v", sql_type)
        lines.append(f"    v = r[{column!r}]")
        if column in table.key:
            lines.append(f"    x{i} = {value}")
        else:
            lines.append(f"    x{i} = _NULL if v is None else {value}")
        names.append(f"{{x{i}}}")
    lines.append('    return f"' + "\\t".join(names) + '\\n"')
    scope: dict[str, Any] = {
        "_NULL": _NULL, "_copy_text": _copy_text, "_text_array": _text_array,
        # Strict about types: a float or a string is not written to an integer column.
        "_int_text": int.__repr__, "_date_text": date.isoformat,
        "_booleans": {True: "t", False: "f"}}
    exec(compile("\n".join(lines), f"<copy {table.name}>", "exec"), scope)  # noqa: S102
    encode: Callable[[Row], str] = scope["encode"]
    return encode


Loader = Callable[[Table, Key], "Row | None"]


_ABSENT: Any = object()


def _plain(value: Any) -> Any:
    """A key value as the row set indexes it: a UUID by its integer, which hashes
    and compares in C (``UUID.__hash__`` and ``__eq__`` are Python methods, and a
    rebuild hashes keys a dozen times per event)."""
    return value.int if value.__class__ is UUID else value


def _inner(key: Key) -> Any:
    """The row set's own index for a primary key (a scalar for a one-column key)."""
    if len(key) == 1:
        value = key[0]
        return value.int if value.__class__ is UUID else value
    return tuple([_plain(v) for v in key])


@dataclass
class Rows:
    """The rows of one read model as the fold sees them, with what changed.

    ``loader`` fetches a row the cache does not hold (None: the cache is the
    whole model, as in a rebuild from position 0 or an as-of replay). The
    dictionaries and sets below are indexed by ``_inner(key)``.
    """

    tables: dict[str, Table]
    loader: Loader | None = None
    cache: dict[str, dict[Any, Row | None]] = field(default_factory=dict)
    dirty: dict[str, dict[Any, None]] = field(default_factory=dict)
    """Keys changed since the last commit, in the order first changed (an ordered
    dict, not a set: rows are then encoded in about the order they were made,
    which is also their order in memory, and that alone makes encoding a third
    faster than visiting them in hash order)."""
    deleted: dict[str, dict[Any, Key]] = field(default_factory=dict)
    """Deleted rows' primary keys, as the table holds them."""
    misses: dict[str, set[Any]] = field(default_factory=dict)
    written: dict[str, set[Any]] | None = None
    """Keys already in the table (kept only when the cache is the whole model): a
    key not in it is inserted with a plain COPY instead of an upsert."""

    def __post_init__(self) -> None:
        for name in self.tables:
            self.cache.setdefault(name, {})
            self.dirty.setdefault(name, {})
            self.deleted.setdefault(name, {})
            self.misses.setdefault(name, set())
        if self.loader is None and self.written is None:
            self.written = {name: set() for name in self.tables}
        self._one_key: dict[str, str | None] = {
            name: t.key[0] if len(t.key) == 1 else None for name, t in self.tables.items()}

    def get(self, table: str, *key: Any) -> Row | None:
        rows = self.cache[table]
        inner = _inner(key)
        found = rows.get(inner, _ABSENT)
        if found is not _ABSENT:
            return found  # type: ignore[no-any-return]
        found = self.loader(self.tables[table], key) if self.loader else None
        rows[inner] = found
        if found is None:
            self.misses[table].add(inner)
        return found  # type: ignore[no-any-return]

    def put(self, table: str, row: Row) -> Row:
        column = self._one_key[table]
        if column is not None:
            value = row[column]
            inner = value.int if value.__class__ is UUID else value
        else:
            inner = _inner(self.tables[table].key_of(row))
        self.cache[table][inner] = row
        self.dirty[table][inner] = None
        deleted = self.deleted[table]
        if deleted:
            deleted.pop(inner, None)
        return row

    def update(self, table: str, *key: Any, **changes: Any) -> Row | None:
        """Change some columns of an existing row (None if there is no such row)."""
        row = self.get(table, *key)
        return None if row is None else self.put(table, {**row, **changes})

    def delete(self, table: str, *key: Any) -> None:
        inner = _inner(key)
        self.cache[table][inner] = None
        self.deleted[table][inner] = key
        self.dirty[table].pop(inner, None)

    def scan(self, table: str) -> Iterable[Row]:
        """Every row (only meaningful when the cache is the whole model)."""
        return (r for r in self.cache[table].values() if r is not None)

    def changes(self) -> int:
        return sum(len(d) for d in self.dirty.values()) + sum(
            len(d) for d in self.deleted.values())

    def committed(self) -> None:
        """Forget what was written; drop final rows (and misses) from the cache."""
        for name, table in self.tables.items():
            rows, final = self.cache[name], table.final
            dirty, deleted = self.dirty[name], self.deleted[name]
            if self.written is not None:
                written = self.written[name]
                written.update(dirty)
                if deleted:
                    written -= deleted.keys()
            if final is not None:
                for inner in dirty:
                    row = rows.get(inner)
                    if row is not None and final(row):
                        del rows[inner]
            if self.loader is not None:
                for inner in self.misses[name] | deleted.keys():
                    rows.pop(inner, None)
            dirty.clear()
            deleted.clear()
            self.misses[name].clear()


def pg_loader(curs: Cursor[Any], schema: str) -> Loader:
    """Load one row by primary key, inside the writer's transaction."""

    def load(table: Table, key: Key) -> Row | None:
        where = SQL(" AND ").join(SQL("{} = %s").format(Identifier(k)) for k in table.key)
        with curs.connection.cursor(row_factory=dict_row) as c:
            c.execute(SQL("SELECT * FROM {s}.{t} WHERE {w}").format(
                s=Identifier(schema), t=Identifier(table.name), w=where), key)
            found: Row | None = c.fetchone()
        return found

    return load


@dataclass
class TableChanges:
    """What one page changed in one table, encoded for COPY and detached from the
    ``Rows`` (so the fold may go on while another thread writes it)."""

    table: Table
    deleted: list[Key]
    fresh: bytes | list[tuple[Any, ...]]
    """Rows not yet in the table: plain COPY (text, or tuples for psycopg to adapt)."""
    upserts: bytes | list[tuple[Any, ...]]
    """Rows that may already be in the table: COPY into a temp table, then upsert."""


def encode_rows(table: Table, rows: list[Row]) -> bytes | list[tuple[Any, ...]]:
    """COPY text of these rows with the table's encoder; if a value has a type the
    encoder does not expect, the rows as tuples for psycopg to adapt instead."""
    if not rows:
        return b""
    encode = table.copy_line
    try:
        return "".join([encode(row) for row in rows]).encode()
    except (TypeError, AttributeError, KeyError):
        cols = table.column_names
        return [tuple(row[c] for c in cols) for row in rows]


def encode_changes(rows: Rows) -> list[TableChanges]:
    """What changed since the last ``committed``, ready for :func:`write_encoded`."""
    out: list[TableChanges] = []
    for name, table in rows.tables.items():
        deleted, dirty = rows.deleted[name], rows.dirty[name]
        if not deleted and not dirty:
            continue
        cache = rows.cache[name]
        known = rows.written[name] if rows.written is not None else None
        fresh: list[Any] = []
        upserts: list[Any] = []
        if known is None:
            upserts = list(dirty)
        else:
            for key in dirty:
                (upserts if key in known else fresh).append(key)
        out.append(TableChanges(
            table, list(deleted.values()),
            # A dirty key always holds a row (``delete`` takes the key out of ``dirty``).
            encode_rows(table, cast(list[Row], [cache[k] for k in fresh])),
            encode_rows(table, cast(list[Row], [cache[k] for k in upserts]))))
    return out


def _copy(curs: Cursor[Any], statement: Composed,
          data: bytes | list[tuple[Any, ...]]) -> None:
    with curs.copy(statement) as cp:
        if isinstance(data, bytes):
            cp.write(data)
        else:
            for values in data:
                cp.write_row(values)


def write_encoded(curs: Cursor[Any], schema: str, changes: list[TableChanges]) -> None:
    """Write encoded changes: deletes, then new rows with COPY, then upserts through
    COPY into a temp table."""
    for change in changes:
        table = change.table
        s, t = Identifier(schema), Identifier(table.name)
        tmp = Identifier(f"tmp_{table.name}")
        keys = SQL(", ").join(Identifier(k) for k in table.key)
        if change.deleted or change.upserts:
            curs.execute(SQL("CREATE TEMP TABLE IF NOT EXISTS {tmp} (LIKE {s}.{t}) "
                             "ON COMMIT DELETE ROWS").format(tmp=tmp, s=s, t=t))
        if change.deleted:
            _copy(curs, SQL("COPY {tmp} ({keys}) FROM STDIN").format(tmp=tmp, keys=keys),
                  change.deleted)
            match = SQL(" AND ").join(SQL("x.{k} = d.{k}").format(k=Identifier(k))
                                      for k in table.key)
            curs.execute(SQL("DELETE FROM {s}.{t} x USING {tmp} d WHERE {m}").format(
                s=s, t=t, tmp=tmp, m=match))
            curs.execute(SQL("TRUNCATE {tmp}").format(tmp=tmp))
        if change.fresh:
            _copy(curs, SQL("COPY {s}.{t} FROM STDIN").format(s=s, t=t), change.fresh)
        if change.upserts:
            _copy(curs, SQL("COPY {tmp} FROM STDIN").format(tmp=tmp), change.upserts)
            others = [c for c in table.column_names if c not in table.key]
            update = SQL(", ").join(SQL("{c} = EXCLUDED.{c}").format(c=Identifier(c))
                                    for c in others) if others else None
            conflict = (SQL("DO UPDATE SET {u}").format(u=update) if update
                        else SQL("DO NOTHING"))
            curs.execute(SQL("INSERT INTO {s}.{t} SELECT * FROM {tmp} "
                             "ON CONFLICT ({keys}) {c}").format(
                s=s, t=t, tmp=tmp, keys=keys, c=conflict))
            curs.execute(SQL("TRUNCATE {tmp}").format(tmp=tmp))


def write_changes(curs: Cursor[Any], schema: str, rows: Rows) -> None:
    """Write what changed: deletes, then upserts, each through COPY into a temp table."""
    write_encoded(curs, schema, encode_changes(rows))


class Reader(Protocol):
    """Where reports read rows: live tables or an as-of replay in memory."""

    def select(self, table: str, **equal: Any) -> list[Row]: ...


class MemoryReader:
    """Rows of an as-of replay (every model's ``Rows``, merged by table name)."""

    def __init__(self, models: Iterable[Rows]) -> None:
        self._rows: dict[str, Rows] = {}
        for rows in models:
            for name in rows.tables:
                self._rows[name] = rows

    def select(self, table: str, **equal: Any) -> list[Row]:
        rows = self._rows.get(table)
        if rows is None:
            return []
        return [dict(r) for r in rows.scan(table)
                if all(r[k] == v for k, v in equal.items())]


class TableReader:
    """Rows of the live read-model tables in a firm's schema."""

    def __init__(self, conn: Any, schema: str) -> None:
        self.conn, self.schema = conn, schema

    def select(self, table: str, **equal: Any) -> list[Row]:
        where = SQL(" AND ").join(SQL("{} = %s").format(Identifier(k)) for k in equal)
        query = SQL("SELECT * FROM {s}.{t}").format(s=Identifier(self.schema),
                                                     t=Identifier(table))
        if equal:
            query = SQL("{q} WHERE {w}").format(q=query, w=where)
        with self.conn.cursor(row_factory=dict_row) as c:
            c.execute(query, tuple(equal.values()))
            return list(c.fetchall())
