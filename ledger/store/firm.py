"""One firm's ledger: its schema, its chained event table, and how to open it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier

from ledger.database import DatabaseLocation
from ledger.store import schema as ddl
from ledger.store.pool import POOL_KEY
from ledger.store.recorder import DEFAULT_EVENTS_TABLE, ChainedApplicationRecorder


@dataclass(frozen=True)
class ChainHead:
    """The last event of a chain (position 0 and no hash when it is empty)."""

    ledger_id: str
    position: int
    hash: str | None
    recorded_at: datetime | None


@dataclass(frozen=True)
class FirmStore:
    """Where a firm's events live: a database location, a schema, a table.

    When the location carries the process's connection budget (see
    ``ledger.bootstrap``), every application, datastore and connection of this
    store comes from its one pool and ``pool_size`` is not used; without one
    (scripts, some tests) each opens its own, as before.
    """

    location: DatabaseLocation
    firm: str
    events_table: str = DEFAULT_EVENTS_TABLE
    pool_size: int = 5

    @property
    def schema(self) -> str:
        return ddl.schema_for_firm(self.firm)

    @property
    def app_role(self) -> str:
        return ddl.app_role_for_schema(self.schema)

    def environment(self) -> dict[str, str]:
        """Environment for an eventsourcing application that records on this chain."""
        budget = self.location.budget
        shared = {POOL_KEY: budget.key} if budget is not None else {}
        return {
            **shared,
            "PERSISTENCE_MODULE": "ledger.store.factory:LedgerFactory",
            **self.location.eventsourcing_env(),
            "POSTGRES_SCHEMA": self.schema,
            "POSTGRES_POOL_SIZE": str(self.pool_size),
            "POSTGRES_MAX_OVERFLOW": str(self.pool_size),
            "POSTGRES_CONNECT_TIMEOUT": "10",
            "EVENTS_TABLE": self.events_table,
            "CREATE_TABLE": "yes",
        }

    def datastore(self) -> PostgresDatastore:
        """The library's datastore of this schema: the process's shared one when
        the location has a budget (its ``close()`` then leaves the pool open)."""
        if self.location.budget is not None:
            return self.location.budget.datastore(self.schema)
        env = self.location.eventsourcing_env()
        return PostgresDatastore(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            schema=self.schema,
            pool_size=self.pool_size,
            max_overflow=self.pool_size,
        )

    def ensure(self) -> None:
        """Create what the ledger needs (schema, tables, triggers, role), idempotently."""
        with self.location.connect():  # one clear error if the server is unreachable
            pass
        datastore = self.datastore()
        try:
            recorder = ChainedApplicationRecorder(datastore, events_table_name=self.events_table)
            recorder.create_table()
            with datastore.transaction(commit=True) as curs:
                curs.execute(SQL("SELECT pg_advisory_xact_lock(hashtext('legal-ledger ddl'))"))
                for statement in ddl.app_role_statements(self.schema, [self.events_table]):
                    curs.execute(statement)
        finally:
            datastore.close()

    def exists(self) -> bool:
        with self.location.connect() as conn:
            row = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL",
                (f'"{self.schema}"."{self.events_table}"',),
            ).fetchone()
        return bool(row and row[0])

    def head(self) -> ChainHead:
        s, t = Identifier(self.schema), Identifier(self.events_table)
        with self.location.connect() as conn:
            meta = conn.execute(
                SQL("SELECT ledger_id FROM {s}.chain_meta WHERE table_name = %s").format(s=s),
                (self.events_table,),
            ).fetchone()
            row: Any = conn.execute(
                SQL(
                    "SELECT notification_id, hash, recorded_at FROM {s}.{t} "
                    "ORDER BY notification_id DESC LIMIT 1"
                ).format(s=s, t=t)
            ).fetchone()
        ledger_id = str(meta[0]) if meta else ""
        if row is None:
            return ChainHead(ledger_id, 0, None, None)
        return ChainHead(ledger_id, row[0], bytes(row[1]).hex(), row[2])
