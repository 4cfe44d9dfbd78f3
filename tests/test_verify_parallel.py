"""Ranges scanned by worker processes give the serial report, damage at a boundary included.

Workers see only committed rows (they import the caller's snapshot), so here each
damage is committed on the test's own firm, then the chain is verified serially
and by a pool of two processes with ranges of 10 positions: 10/11 and 20/21 are
boundaries, 40 is the last position.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import psycopg
import pytest

from ledger.database import DatabaseLocation
from ledger.store.firm import FirmStore
from ledger.verify import KnownHead, VerificationReport, verify_chain, verify_chain_on
from ledger.verify_ranges import MAX_RANGES, ProcessRanges, RangePlan, _start_method
from tests.chain_helpers import append, superuser_sql
from tests.test_verify_tamper import rehash

N = 40
SIZE = 10


@pytest.fixture(scope="module")
def pool(database: DatabaseLocation) -> Iterator[ProcessRanges]:
    with ProcessRanges(database.url, 2, RangePlan(range_size=SIZE, min_events=0)) as ranges:
        yield ranges


@pytest.fixture
def chain(firm_store: FirmStore) -> FirmStore:
    append(firm_store, N)
    return firm_store


def in_processes(store: FirmStore, pool: ProcessRanges,
                 known: KnownHead | None = None) -> VerificationReport:
    with psycopg.connect(store.location.url) as conn:
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        return verify_chain_on(conn, store.schema, known_head=known, ranges=pool)


def same_report(store: FirmStore, pool: ProcessRanges,
                known: KnownHead | None = None) -> dict[str, Any]:
    serial = verify_chain(store.location, store.schema, known_head=known, workers=1)
    ranged = in_processes(store, pool, known)
    assert ranged.as_dict() == serial.as_dict()
    return ranged.as_dict()


def test_clean_chain(chain: FirmStore, pool: ProcessRanges) -> None:
    report = same_report(chain, pool)
    assert report["ok"] and report["checked"] == N
    assert report["head_hash"] == chain.head().hash


DAMAGES = {
    "payload_at_range_start": ("UPDATE EV SET state = state || ' ' WHERE notification_id = 11",
                               (11, "payload_changed")),
    "payload_at_range_end": ("UPDATE EV SET state = state || ' ' WHERE notification_id = 10",
                             (10, "payload_changed")),
    "hash_at_range_end": ("UPDATE EV SET hash = sha256(hash) WHERE notification_id = 20",
                          (20, "hash_changed")),
    "prev_hash_at_range_start": (
        "UPDATE EV SET prev_hash = sha256(prev_hash) WHERE notification_id = 21",
        (21, "prev_hash_changed")),
    "time_at_range_start": (
        "UPDATE EV SET recorded_at = recorded_at - interval '1 day' WHERE notification_id = 11",
        (11, "recorded_at_changed")),
    "deleted_range_end": ("DELETE FROM EV WHERE notification_id = 10", (10, "row_missing")),
    "deleted_range_start": ("DELETE FROM EV WHERE notification_id = 11", (11, "row_missing")),
    "deleted_whole_range": ("DELETE FROM EV WHERE notification_id BETWEEN 11 AND 20",
                            (11, "row_missing")),
    "gap_across_boundary": (  # positions after 10 moved up by one (the index is unique)
        "UPDATE EV SET notification_id = -notification_id WHERE notification_id > 10;"
        " UPDATE EV SET notification_id = -notification_id + 1 WHERE notification_id < 0",
        (11, "sequence_gap")),
    "last_row": ("UPDATE EV SET state = state || ' ' WHERE notification_id = 40",
                 (40, "hash_mismatch")),
}


@pytest.mark.parametrize("name", sorted(DAMAGES))
def test_damage_at_a_boundary(chain: FirmStore, pool: ProcessRanges, name: str) -> None:
    statement, expected = DAMAGES[name]
    superuser_sql(chain, statement)
    damage = same_report(chain, pool)["damage"]
    assert (damage["position"], damage["kind"]) == expected


def test_rows_swapped_across_ranges(chain: FirmStore, pool: ProcessRanges) -> None:
    superuser_sql(chain, "UPDATE EV SET notification_id = -notification_id"
                  " WHERE notification_id IN (10, 21)")
    superuser_sql(chain, "UPDATE EV SET notification_id = CASE notification_id WHEN -10 THEN 21"
                  " ELSE 10 END WHERE notification_id < 0")
    damage = same_report(chain, pool)["damage"]
    assert (damage["position"], damage["kind"]) == (10, "rows_reordered")


def test_rehashed_row_at_range_end(chain: FirmStore, pool: ProcessRanges) -> None:
    superuser_sql(chain, "UPDATE EV SET state = '{\"n\":0}' WHERE notification_id = 10")
    rehash(chain, 10)  # its successor, first of the next range, no longer links
    damage = same_report(chain, pool)["damage"]
    assert (damage["position"], damage["kind"]) == (10, "hash_recomputed")


def test_truncated_tail_against_a_known_head(chain: FirmStore, pool: ProcessRanges) -> None:
    head = chain.head()
    assert head.hash is not None
    known = KnownHead(head.position, bytes.fromhex(head.hash))
    superuser_sql(chain, "DELETE FROM EV WHERE notification_id > 30")
    damage = same_report(chain, pool, known)["damage"]
    assert (damage["position"], damage["kind"]) == (31, "tail_truncated")


def test_malformed_seed_row(chain: FirmStore, pool: ProcessRanges) -> None:
    """The row before a range is malformed: the range before it names it, not the seedless one."""
    superuser_sql(chain, "ALTER TABLE EV DROP CONSTRAINT events_hash_check")
    superuser_sql(chain, "UPDATE EV SET hash = substr(hash, 1, 31) WHERE notification_id = 20")
    damage = same_report(chain, pool)["damage"]
    assert (damage["position"], damage["kind"]) == (20, "malformed_row")


def test_rows_before_position_one(chain: FirmStore, pool: ProcessRanges) -> None:
    superuser_sql(chain, "INSERT INTO EV (originator_id, originator_version, topic, state,"
                  " notification_id, recorded_at, prev_hash, hash) SELECT gen_random_uuid(), 1,"
                  " topic, state, 0, recorded_at, prev_hash, hash FROM EV"
                  " WHERE notification_id = 1")
    damage = same_report(chain, pool)["damage"]
    assert (damage["position"], damage["kind"]) == (0, "row_inserted")


def test_the_pool_needs_a_shared_snapshot(chain: FirmStore, pool: ProcessRanges) -> None:
    with psycopg.connect(chain.location.url, autocommit=True) as conn, \
            pytest.raises(ValueError, match="repeatable-read"):
        verify_chain_on(conn, chain.schema, ranges=pool)


def test_spawned_workers_while_other_threads_run(chain: FirmStore) -> None:
    """With another thread running, forking is unsafe: the pool spawns its workers."""
    superuser_sql(chain, "UPDATE EV SET state = state || ' ' WHERE notification_id = 21")
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    try:
        assert _start_method().get_start_method() == "spawn"
        with ProcessRanges(chain.location.url, 2, RangePlan(range_size=SIZE, min_events=0)) as own:
            ranged = in_processes(chain, own)
    finally:
        stop.set()
        helper.join()
    assert ranged.as_dict() == verify_chain(chain.location, chain.schema, workers=1).as_dict()
    assert ranged.damage is not None and ranged.damage.position == 21


FORKED = """
import json, sys
import psycopg
from ledger.verify import verify_chain_on
from ledger.verify_ranges import ProcessRanges, RangePlan, _start_method
assert _start_method().get_start_method() == "fork"  # nothing else runs here
with psycopg.connect(sys.argv[1]) as conn, ProcessRanges(
        sys.argv[1], 2, RangePlan(range_size=10, min_events=0)) as pool:
    conn.read_only = True
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    print(json.dumps(verify_chain_on(conn, sys.argv[2], ranges=pool).as_dict()))
"""


def test_forked_workers_in_a_single_threaded_process(chain: FirmStore) -> None:
    """A process running no other thread forks its workers (no import at their start)."""
    superuser_sql(chain, "DELETE FROM EV WHERE notification_id = 30")
    done = subprocess.run([sys.executable, "-c", FORKED, chain.location.url, chain.schema],
                          capture_output=True, text=True, timeout=120, check=True)
    ranged = json.loads(done.stdout)
    assert ranged == verify_chain(chain.location, chain.schema, workers=1).as_dict()
    assert ranged["damage"]["position"] == 30


def test_workers_that_cannot_connect_fall_back_to_one_pass(chain: FirmStore) -> None:
    superuser_sql(chain, "UPDATE EV SET state = state || ' ' WHERE notification_id = 15")
    unreachable = "postgresql://postgres@127.0.0.1:1/nowhere"  # as when slots run out
    with ProcessRanges(unreachable, 2, RangePlan(range_size=SIZE, min_events=0)) as broken:
        ranged = in_processes(chain, broken)
    assert ranged.as_dict() == verify_chain(chain.location, chain.schema, workers=1).as_dict()
    assert ranged.damage is not None and ranged.damage.position == 15


def test_plan_bounds() -> None:
    assert RangePlan().bounds(49_999, 2) == []  # short chains: the serial walk
    bounds = RangePlan().bounds(1_000_000, 2)
    assert len(bounds) == 8 and bounds[0] == (None, 125_000) and bounds[-1] == (875_001, 1_000_000)
    assert all(b[1] is not None and b[1] + 1 == c[0] for b, c in pairwise(bounds))
    assert len(RangePlan(range_size=1).bounds(10**12, 2)) == MAX_RANGES  # an outlier position
    assert RangePlan(range_size=10, min_events=0).bounds(10, 2) == []  # one range: serial
