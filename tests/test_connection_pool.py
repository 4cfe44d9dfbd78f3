"""The budget's pool and LISTEN hub on a real PostgreSQL: connections go back when their
block ends, a borrower's connection settings do not leak to the next, and many waiters share
one LISTEN connection."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from ledger.database import DatabaseLocation
from ledger.errors import DatabaseBusyError
from ledger.store.pool import budgeted

ROLE = "test-pool"


@pytest.fixture
def pooled(database: DatabaseLocation) -> Iterator[DatabaseLocation]:
    location = budgeted(database, role=f"{ROLE}-{uuid.uuid4().hex[:6]}", size=2, wait=2.0)
    try:
        yield location
    finally:
        assert location.budget is not None
        location.budget.close()


def tagged(database: DatabaseLocation, name: str) -> int:
    with database.connect() as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                           (name,)).fetchone()
    return int(row[0]) if row else 0


def test_a_block_returns_its_connection_and_resets_its_settings(
        pooled: DatabaseLocation) -> None:
    budget = pooled.budget
    assert budget is not None
    with pooled.connect(autocommit=False) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)  # tuple rows for plain SQL
        assert not conn.autocommit
    with pooled.connect() as first, pooled.connect() as second:
        assert first is not second and first.autocommit and second.autocommit
        # Both of the pool's connections are out: a third borrower is refused promptly.
        with pytest.raises(DatabaseBusyError, match="pool of 2"):
            pooled.connect()
    with pooled.connect() as again:  # and they are back
        assert again.execute("SELECT current_setting('application_name')").fetchone() == (
            budget.application_name,)
    assert budget.stats()["pool_size"] <= 2


def test_shared_reuses_the_threads_idle_connection_only(pooled: DatabaseLocation) -> None:
    budget = pooled.budget
    assert budget is not None
    with pooled.connect() as outer:
        with budget.shared() as inner:
            assert inner is outer  # no second connection for a nested read
        with outer.transaction(), budget.shared() as inner:
            assert inner is not outer  # never inside someone's transaction
    seen: list[object] = []
    with pooled.connect() as outer:
        def other_thread() -> None:
            with budget.shared() as conn:
                seen.append(conn)

        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        assert seen and seen[0] is not outer  # another thread's connection is its own


def test_many_waiters_share_one_listen_connection(
        database: DatabaseLocation, pooled: DatabaseLocation) -> None:
    budget = pooled.budget
    assert budget is not None
    channel = f"budget_{uuid.uuid4().hex[:8]}"
    with pooled.listen(channel) as a, pooled.listen(channel) as b, pooled.listen(channel) as c:
        for waiter in (a, b, c):  # woken once when the LISTEN takes effect
            assert waiter.wait(5)
            waiter.clear()
        with psycopg.connect(database.url, autocommit=True) as notifier:
            notifier.execute(f'NOTIFY "{channel}"')
        assert all(w.wait(5) for w in (a, b, c))
        assert tagged(database, budget.application_name + "-listen") == 1
