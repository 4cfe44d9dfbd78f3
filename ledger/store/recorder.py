"""The eventsourcing PostgreSQL recorders, extended with the hash chain.

The library's application recorder already serialises writers with
``LOCK TABLE … IN EXCLUSIVE MODE`` inside the inserting transaction. We keep
that, and while the lock is held read the chain's head, compute the new rows'
positions, ``recorded_at`` and hashes, and insert them with explicit values.
Positions are therefore gapless and in commit order (a rolled-back transaction
consumes none), and two writers can never fork the chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ProgrammingError, StoredEvent
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresProcessRecorder,
)
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from ledger.store import schema as ddl
from ledger.store.chain import ChainHasher, genesis_hash, to_micros

DEFAULT_EVENTS_TABLE = "events"


class ChainedApplicationRecorder(PostgresApplicationRecorder):
    """Application recorder whose rows form one SHA-256 hash chain per table."""

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = DEFAULT_EVENTS_TABLE,
        **kwargs: Any,
    ) -> None:
        if datastore.enable_db_functions:
            # The library's insert function takes no table lock: it could not
            # keep the chain in commit order.
            msg = "POSTGRES_ENABLE_DB_FUNCTIONS is not supported by the chained recorder"
            raise ProgrammingError(msg)
        if datastore.originator_id_type != "uuid":
            msg = "the chained recorder hashes originator ids as UUIDs"
            raise ProgrammingError(msg)
        super().__init__(datastore, events_table_name=events_table_name, **kwargs)
        schema, table = datastore.schema, events_table_name
        self._hasher: ChainHasher | None = None
        self._genesis: bytes = b""
        self._replace_create_statements(schema, table)
        s, t = Identifier(schema), Identifier(table)
        self.select_head_statement = SQL(
            "SELECT clock_timestamp() AS now, h.notification_id, h.hash, h.recorded_at "
            "FROM (SELECT 1) AS one LEFT JOIN LATERAL ("
            " SELECT notification_id, hash, recorded_at FROM {s}.{t}"
            " ORDER BY notification_id DESC LIMIT 1) AS h ON true"
        ).format(s=s, t=t)
        self.insert_chained_statement = SQL(
            "INSERT INTO {s}.{t} (originator_id, originator_version, topic, state,"
            " notification_id, prev_hash, hash, recorded_at)"
            " SELECT u.*, %s::timestamptz FROM unnest("
            " %s::uuid[], %s::bigint[], %s::text[], %s::bytea[],"
            " %s::bigint[], %s::bytea[], %s::bytea[]) AS u"
            " RETURNING notification_id"
        ).format(s=s, t=t)
        self.lock_table_statements = [
            SQL("SET LOCAL lock_timeout = '{0}s'").format(datastore.lock_timeout),
            SQL("SELECT {s}.{f}()").format(s=s, f=Identifier(ddl.lock_function_name(table))),
        ]
        self.select_ledger_id_statement = SQL(
            "SELECT ledger_id FROM {s}.chain_meta WHERE table_name = %s"
        ).format(s=s)

    def _replace_create_statements(self, schema: str, table: str) -> None:
        statements: list[Composed] = list(self.sql_create_statements)
        statements[self.create_table_statement_index] = ddl.events_table_statement(
            schema, table
        )
        # Drop the library's lock-free insert function (see __init__).
        del statements[self.create_insert_function_statement_index]
        self.sql_create_statements = statements
        self.chain_statements: list[Composed] = [
            *ddl.chain_meta_statements(schema),
            ddl.lock_function_statement(schema, table),
            *ddl.events_index_statements(schema, table),
            *ddl.append_only_statements(schema, table),
            *ddl.raw_insert_chaining_statements(schema, table),
            ddl.register_chain_statement(schema, table),
        ]

    def create_table(self) -> None:
        # The library creates its composite type first, so the schema must exist.
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("SELECT pg_advisory_xact_lock(hashtext('legal-ledger ddl'))"))
            curs.execute(SQL("CREATE SCHEMA IF NOT EXISTS {s}").format(
                s=Identifier(self.datastore.schema)))
        super().create_table()

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # Serialise concurrent first uses: CREATE OR REPLACE is not concurrency-safe.
        curs.execute(SQL("SELECT pg_advisory_xact_lock(hashtext('legal-ledger ddl'))"))
        super()._create_table(curs)
        if not self._is_installed(curs):
            for statement in self.chain_statements:
                curs.execute(statement, prepare=False)

    def _is_installed(self, curs: Cursor[DictRow]) -> bool:
        curs.execute(
            "SELECT EXISTS (SELECT FROM pg_trigger WHERE tgname = %s"
            " AND tgrelid = to_regclass(%s)) AS installed",
            (f"{self.events_table_name}_chain_raw_insert",
             f'"{self.datastore.schema}"."{self.events_table_name}"'),
        )
        row = curs.fetchone()
        return bool(row and row["installed"])

    @property
    def ledger_id(self) -> UUID:
        """The chain's ledger id (immutable once created, so it is cached)."""
        if self._hasher is None:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(self.select_ledger_id_statement, (self.events_table_name,))
                row = curs.fetchone()
            if row is None:
                msg = f"no chain registered for table {self.events_table_name}"
                raise ProgrammingError(msg)
            ledger_id = row["ledger_id"]
            self._genesis = genesis_hash(ledger_id)
            self._hasher = ChainHasher(ledger_id)
        return self._hasher.ledger_id

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        self.ledger_id  # noqa: B018 - load the hasher before taking the lock
        assert self._hasher is not None
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(self.select_head_statement, prepare=True)
        head = curs.fetchone()
        assert head is not None
        if head["notification_id"] is None:
            position, prev_hash, recorded_at = 0, self._genesis, head["now"]
        else:
            position, prev_hash = head["notification_id"], bytes(head["hash"])
            recorded_at = max(head["now"], head["recorded_at"])
        micros = to_micros(recorded_at)
        columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [])
        ids, versions, topics, states, positions, prev_hashes, hashes = columns
        for event in stored_events:
            position += 1
            assert isinstance(event.originator_id, UUID)
            digest = self._hasher.event_hash(
                position=position, prev_hash=prev_hash,
                originator_id=event.originator_id,
                originator_version=event.originator_version, topic=event.topic,
                state=event.state, recorded_at_micros=micros,
            )
            ids.append(event.originator_id)
            versions.append(event.originator_version)
            topics.append(event.topic)
            states.append(event.state)
            positions.append(position)
            prev_hashes.append(prev_hash)
            hashes.append(digest)
            prev_hash = digest
        curs.execute(
            self.insert_chained_statement, (recorded_at, *columns), prepare=True
        )


class ChainedProcessRecorder(ChainedApplicationRecorder, PostgresProcessRecorder):
    """Process recorder (events plus tracking in one transaction) on the chain."""
