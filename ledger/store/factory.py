"""Infrastructure factory: the library's PostgreSQL factory with chained recorders.

Select it in an eventsourcing application's environment with
``PERSISTENCE_MODULE=ledger.store.factory:LedgerFactory``. The event table is
``EVENTS_TABLE`` (default ``events``) in the schema ``POSTGRES_SCHEMA``.
"""

from __future__ import annotations

from eventsourcing.persistence import ApplicationRecorder, ProcessRecorder
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, EnvType

from ledger.store.pool import POOL_KEY, budget_named
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

    def __init__(self, env: Environment | EnvType | None) -> None:
        # The library's constructor builds a datastore with an unopened pool;
        # when the environment names the process's budget (``LEDGER_POOL_KEY``)
        # that datastore is swapped for the budget's shared one of this schema.
        super().__init__(env)
        budget = budget_named(self.env.get(POOL_KEY))
        if budget is not None:
            self.datastore.close()
            self.datastore = budget.datastore(self.datastore.schema)

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
