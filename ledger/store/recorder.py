"""The eventsourcing PostgreSQL recorders, extended with the hash chain.

The library's application recorder serialises writers with
``LOCK TABLE … IN EXCLUSIVE MODE`` inside the inserting transaction. We keep
that design but move the lock, the notification, the head read, the hashing
and the insert into one database function (``<table>_append``, see
``schema.py``). The application recorder calls it as a single autocommit
statement, as the library does with its own insert function, so the lock is
held for that statement and its commit only, never across a round trip to the
client; the process recorder calls it inside the library's pipelined
transaction, with the tracking row. Positions are gapless and in commit order
(a rolled-back transaction consumes none), and two writers can never fork the
chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    OperationalError,
    ProgrammingError,
    StoredEvent,
    Subscription,
)
from eventsourcing.postgres import (
    PostgresApplicationRecorder,
    PostgresDatastore,
    PostgresProcessRecorder,
)
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from ledger.notify import HubSubscription
from ledger.store import schema as ddl
from ledger.store.pool import BudgetedDatastore

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
        self._replace_create_statements(schema, table)
        s = Identifier(schema)
        self.append_statement = SQL(
            "SELECT position FROM {s}.{f}(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[])"
            " AS position"
        ).format(s=s, f=Identifier(ddl.append_function_name(table)))

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
            *ddl.events_index_statements(schema, table),
            *ddl.append_only_statements(schema, table),
            ddl.register_chain_statement(schema, table),
        ]

    def subscribe(
        self, gt: int | None = None, topics: Sequence[str] = ()
    ) -> Subscription[ApplicationRecorder]:
        """Follow the table; on the process's shared datastore, woken by its one
        LISTEN connection instead of holding a pool connection per subscription."""
        if isinstance(self.datastore, BudgetedDatastore):
            return HubSubscription(self, self.datastore.budget.hub, gt=gt, topics=topics)
        return super().subscribe(gt=gt, topics=topics)

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
        if not self._functions_current(curs):
            # A new install, or one made by an earlier version (an upgrade needs the owner).
            for statement in ddl.chain_function_statements(
                self.datastore.schema, self.events_table_name, self._ledger_id(curs)
            ):
                curs.execute(statement, prepare=False)

    def _ledger_id(self, curs: Cursor[DictRow]) -> UUID:
        curs.execute(
            SQL("SELECT ledger_id FROM {s}.chain_meta WHERE table_name = %s").format(
                s=Identifier(self.datastore.schema)),
            (self.events_table_name,),
        )
        row = curs.fetchone()
        assert row is not None, "the chain is registered before its functions are made"
        ledger_id: UUID = row["ledger_id"]
        return ledger_id

    def _is_installed(self, curs: Cursor[DictRow]) -> bool:
        # The chain is registered last, so a registered chain means all is there.
        curs.execute(
            "SELECT to_regclass(%s) IS NOT NULL AS installed",
            (f'"{self.datastore.schema}".chain_meta',),
        )
        row = curs.fetchone()
        if not (row and row["installed"]):
            return False
        curs.execute(SQL("SELECT EXISTS (SELECT FROM {s}.chain_meta WHERE table_name = %s)"
                         " AS installed").format(s=Identifier(self.datastore.schema)),
                     (self.events_table_name,))
        row = curs.fetchone()
        return bool(row and row["installed"])

    def _functions_current(self, curs: Cursor[DictRow]) -> bool:
        # The append function is created last and carries the functions' version mark.
        curs.execute(
            "SELECT EXISTS (SELECT FROM pg_proc WHERE proname = %s"
            " AND pronamespace = to_regnamespace(%s) AND strpos(prosrc, %s) > 0) AS current",
            (ddl.append_function_name(self.events_table_name), f'"{self.datastore.schema}"',
             ddl.CHAIN_FUNCTIONS_MARK),
        )
        row = curs.fetchone()
        return bool(row and row["current"])

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """One statement, one round trip, one transaction (the connection autocommits)."""
        if not stored_events:
            return None
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            assert conn.autocommit, "the append statement must be its own transaction"
            self._insert_stored_events(curs, stored_events)
            return self._fetch_ids_after_insert_events(curs, stored_events)

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        # The append function takes the lock and notifies the channel itself.
        curs.execute(
            self.append_statement,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
            prepare=True,
        )

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **_: Any,
    ) -> Sequence[int] | None:
        positions = [row["position"] for row in curs.fetchall()]
        assert len(positions) == len(stored_events), "every event gets one position"
        return positions


class ChainedProcessRecorder(ChainedApplicationRecorder, PostgresProcessRecorder):
    """Process recorder (events plus tracking in one transaction) on the chain."""

    # The tracking row must commit with the events: the library's pipelined
    # transaction, in which ``_insert_stored_events`` calls the append function.
    insert_events = PostgresApplicationRecorder.insert_events
