"""The eventsourcing library's own recorder contract, run on our chained recorders.

``ApplicationRecorderTestCase``, ``ProcessRecorderTestCase`` and
``NonInterleavingNotificationIDsBaseCase`` are the tests the library holds its
PostgreSQL recorders to; the chained recorders extend those and must keep every
promise (gapless notification ids, topics, subscriptions, integrity errors on a
version conflict, tracking), each test on a fresh firm of real PostgreSQL. None of the
library's tests needed changing for the chain: none deletes or rewrites a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from eventsourcing.tests import persistence as contract

from ledger.store.firm import FirmStore
from ledger.store.recorder import ChainedApplicationRecorder, ChainedProcessRecorder


class OnAFreshFirm:
    """Gives each contract test a firm of its own; closes the pools it opened."""

    store: FirmStore
    datastores: list[Any]

    @pytest.fixture(autouse=True)
    def _firm(self, firm_store: FirmStore) -> Iterator[None]:
        self.store, self.datastores = firm_store, []
        yield
        for datastore in self.datastores:
            datastore.close()

    def datastore(self) -> Any:
        datastore = self.store.datastore()
        self.datastores.append(datastore)
        return datastore


class TestChainedApplicationRecorder(
        OnAFreshFirm, contract.ApplicationRecorderTestCase[ChainedApplicationRecorder]):
    def create_recorder(self) -> ChainedApplicationRecorder:
        recorder = ChainedApplicationRecorder(self.datastore(),
                                              events_table_name=self.store.events_table)
        recorder.create_table()
        return recorder

    def test_insert_subscribe(self) -> None:
        # Optional in the library's suite (it holds for its PostgreSQL recorder): the
        # chain's append function sends the notification the subscription listens for.
        self.optional_test_insert_subscribe()


class TestChainedNotificationIdsDoNotInterleave(
        OnAFreshFirm, contract.NonInterleavingNotificationIDsBaseCase):
    """Two writers racing: each one's events get one unbroken run of positions."""

    def create_recorder(self) -> ChainedApplicationRecorder:
        recorder = ChainedApplicationRecorder(self.datastore(),
                                              events_table_name=self.store.events_table)
        recorder.create_table()
        return recorder


class TestChainedProcessRecorder(OnAFreshFirm, contract.ProcessRecorderTestCase):
    def create_recorder(self) -> ChainedProcessRecorder:
        recorder = ChainedProcessRecorder(self.datastore(),
                                          events_table_name=self.store.events_table,
                                          tracking_table_name="contract_tracking")
        recorder.create_table()
        return recorder
