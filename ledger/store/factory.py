"""Infrastructure factory: the library's PostgreSQL factory with chained recorders.

Select it in an eventsourcing application's environment with
``PERSISTENCE_MODULE=ledger.store.factory:LedgerFactory``. The event table is
``EVENTS_TABLE`` (default ``events``) in the schema ``POSTGRES_SCHEMA``.
"""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder, ProcessRecorder
from eventsourcing.postgres import PostgresFactory

from ledger.store.recorder import (
    DEFAULT_EVENTS_TABLE,
    ChainedApplicationRecorder,
    ChainedProcessRecorder,
)


class LedgerFactory(PostgresFactory):
    """PostgresFactory whose application and process recorders are chained."""

    EVENTS_TABLE = "EVENTS_TABLE"
    application_recorder_class = ChainedApplicationRecorder
    process_recorder_class = ChainedProcessRecorder

    def events_table_name(self) -> str:
        return self.env.get(self.EVENTS_TABLE) or DEFAULT_EVENTS_TABLE

    def application_recorder(self) -> ApplicationRecorder:
        recorder = ChainedApplicationRecorder(
            datastore=self.datastore, events_table_name=self.events_table_name()
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder

    def process_recorder(self) -> ProcessRecorder:
        prefix = self.env.name.lower() or "notification"
        recorder = ChainedProcessRecorder(
            datastore=self.datastore,
            events_table_name=self.events_table_name(),
            tracking_table_name=prefix + "_tracking",
        )
        if self.env_create_table():
            recorder.create_table()
        return recorder
