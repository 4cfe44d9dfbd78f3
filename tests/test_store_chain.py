"""The chained store against a real PostgreSQL: one unbroken chain under load."""

from __future__ import annotations

import multiprocessing
import threading
import uuid

import psycopg
import pytest
from psycopg import sql

from ledger.database import DatabaseLocation
from ledger.store.chain import ChainHasher, genesis_hash, to_micros
from ledger.store.firm import FirmStore
from ledger.verify import verify_chain
from tests.chain_helpers import append, stored_event, superuser_sql
from tests.support.firms import drop_firm, new_firm_name


def rows(store: FirmStore) -> list[tuple]:  # type: ignore[type-arg]
    with store.location.connect() as conn:
        return conn.execute(
            sql.SQL("SELECT notification_id, originator_id, originator_version, topic, state,"
                    " recorded_at, prev_hash, hash FROM {}.events ORDER BY notification_id")
            .format(sql.Identifier(store.schema))).fetchall()


def test_writer_hash_matches_documented_layout(firm_store: FirmStore) -> None:
    append(firm_store, 5, batch=2)
    ledger_id = uuid.UUID(firm_store.head().ledger_id)
    hasher = ChainHasher(ledger_id)
    prev = genesis_hash(ledger_id)
    for position, oid, version, topic, state, at, prev_hash, digest in rows(firm_store):
        assert bytes(prev_hash) == prev
        expected = hasher.event_hash(position=position, prev_hash=prev, originator_id=oid,
                                     originator_version=version, topic=topic,
                                     state=bytes(state), recorded_at_micros=to_micros(at))
        assert bytes(digest) == expected
        prev = expected


def test_positions_gapless_and_recorded_at_never_decreases(firm_store: FirmStore) -> None:
    append(firm_store, 30, batch=7)
    found = rows(firm_store)
    assert [r[0] for r in found] == list(range(1, 31))
    times = [r[5] for r in found]
    assert times == sorted(times)


def test_failed_transaction_consumes_no_position(firm_store: FirmStore) -> None:
    from eventsourcing.persistence import IntegrityError

    recorder = append(firm_store, 2)
    event = stored_event(99)
    recorder.insert_events([event])
    with pytest.raises(IntegrityError):
        recorder.insert_events([stored_event(100), event])  # duplicate version: refused whole
    recorder.insert_events([stored_event(101)])
    assert [r[0] for r in rows(firm_store)] == [1, 2, 3, 4]
    assert verify_chain(firm_store.location, firm_store.schema).ok


def test_threads_append_one_unbroken_chain(firm_store: FirmStore) -> None:
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            append(firm_store, 40, batch=3)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = verify_chain(firm_store.location, firm_store.schema)
    assert report.ok, report.damage
    assert report.checked == report.head_position == 6 * 40


def _process_writer(url: str, firm: str, count: int) -> None:
    store = FirmStore(DatabaseLocation(url, False), firm, pool_size=2)
    append(store, count, batch=5)


def test_two_processes_append_one_unbroken_chain(firm_store: FirmStore) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_writer,
                         args=(firm_store.location.url, firm_store.firm, 100)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    report = verify_chain(firm_store.location, firm_store.schema)
    assert report.ok, report.damage
    assert report.checked == 200


def test_raw_sql_insert_is_chained_by_the_database(firm_store: FirmStore) -> None:
    append(firm_store, 3)
    with firm_store.location.connect() as conn:
        conn.execute(
            sql.SQL("INSERT INTO {}.events (originator_id, originator_version, topic, state)"
                    " VALUES (gen_random_uuid(), 1, 'x:Y', 'raw') ").format(
                sql.Identifier(firm_store.schema)))
    append(firm_store, 2)
    report = verify_chain(firm_store.location, firm_store.schema)
    assert report.ok, report.damage
    assert report.checked == 6


def test_raw_sql_insert_with_forged_hash_is_flagged(firm_store: FirmStore) -> None:
    append(firm_store, 3)
    with firm_store.location.connect() as conn:
        conn.execute(
            sql.SQL("INSERT INTO {}.events (originator_id, originator_version, topic, state,"
                    " notification_id, recorded_at, prev_hash, hash) VALUES (gen_random_uuid(),"
                    " 1, 'x:Y', 'raw', 4, now(), sha256('a'), sha256('b'))").format(
                sql.Identifier(firm_store.schema)))
    report = verify_chain(firm_store.location, firm_store.schema)
    assert not report.ok
    assert report.damage is not None and report.damage.position == 4


@pytest.mark.parametrize("statement", [
    "UPDATE {t} SET topic = 'changed'",
    "UPDATE {t} SET topic = 'changed' WHERE false",
    "DELETE FROM {t} WHERE notification_id = 1",
    "TRUNCATE {t}",
])
def test_append_only_for_every_role(firm_store: FirmStore, statement: str) -> None:
    append(firm_store, 3)
    table = f'"{firm_store.schema}".events'
    with firm_store.location.connect() as conn:
        with pytest.raises(psycopg.Error, match="append-only"):
            conn.execute(statement.format(t=table))
        with pytest.raises(psycopg.Error):
            conn.execute(f'SET ROLE "{firm_store.app_role}"; ' + statement.format(t=table))
        conn.execute("RESET ROLE")
    assert len(rows(firm_store)) == 3
    assert verify_chain(firm_store.location, firm_store.schema).ok


def test_app_role_may_insert_and_select_only(firm_store: FirmStore) -> None:
    append(firm_store, 1)
    table = f'"{firm_store.schema}".events'
    with firm_store.location.connect() as conn:
        conn.execute(f'SET ROLE "{firm_store.app_role}"')
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (1,)
        conn.execute(f"INSERT INTO {table} (originator_id, originator_version, topic, state)"
                     " VALUES (gen_random_uuid(), 1, 'x:Y', 'by app role')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"UPDATE {table} SET topic = 'x'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"TRUNCATE {table}")
    assert verify_chain(firm_store.location, firm_store.schema).ok


def test_two_firms_are_independent_chains(database: DatabaseLocation) -> None:
    first = FirmStore(database, new_firm_name())
    second = FirmStore(database, new_firm_name())
    try:
        first.ensure()
        second.ensure()
        append(first, 4)
        append(second, 4)
        assert first.head().ledger_id != second.head().ledger_id
        assert first.head().hash != second.head().hash  # genesis binds the ledger id
        superuser_sql(first, "UPDATE EV SET state = 'x' WHERE notification_id = 2")
        assert not verify_chain(database, first.schema).ok
        assert verify_chain(database, second.schema).ok
    finally:
        drop_firm(database, first)
        drop_firm(database, second)


def test_append_wakes_listeners_and_outdated_chain_functions_are_replaced(
        firm_store: FirmStore) -> None:
    """An install made by an earlier version (no version mark) is brought up to date
    by ensure(), and the append function itself notifies the table's channel."""
    s = sql.Identifier(firm_store.schema)
    with firm_store.location.connect() as conn:
        conn.execute(sql.SQL(
            "CREATE OR REPLACE FUNCTION {s}.events_append(p_ids uuid[], p_versions bigint[],"
            " p_topics text[], p_states bytea[]) RETURNS SETOF bigint LANGUAGE sql"
            " AS 'SELECT NULL::bigint WHERE false'").format(s=s))
    firm_store.ensure()
    with firm_store.location.connect() as listener:
        listener.execute("LISTEN events")
        append(firm_store, 2)
        woken = list(listener.notifies(timeout=5, stop_after=1))
    assert woken and {n.channel for n in woken} == {"events"}
    report = verify_chain(firm_store.location, firm_store.schema)
    assert report.ok and report.checked == 2
