"""Append and verify throughput of the ledger against the plain eventsourcing recorder.

Two tables, each measured against the same PostgreSQL in one run, in schemas of
their own, so the ratios are meaningful even where absolute figures are noise:

1. the store alone: the plain recorder versus the chained recorder, stored events
   written directly;
2. the application path: the plain recorder versus the ledger as deployed, hash
   chain and per-client field sealing together (see ``bench_app_path``).

Each cell is measured ``--rounds`` times, alternating the kinds, and the median
is printed, so drift on a shared machine hits both alike. Then ``verify`` over a
filled ledger, and the read side over a ledger of billing events: a rebuild of
every read model and an as-of statement (see ``bench_projections``).
Usage: scripts/bench [--seconds S] [--rounds R] [--writers 1,2,4,8] [--batches 1,100]
                     [--tables store,app] [--verify-events N] [--read-events N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from ledger.database import DatabaseLocation, locate_database
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from ledger.store.recorder import ChainedApplicationRecorder
from ledger.verify import verify_chain

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_app_path  # sibling script modules
import bench_projections
from bench_writers import Figures, run_writers

PAYLOAD = b'{"actor":"tk-1","minutes":42,"narrative_enc":"' + b"x" * 160 + b'"}'
TOPIC = "ledger.domain.events:TimeLogged"


def make_recorder(url: str, kind: str, schema_firm: str) -> PostgresApplicationRecorder:
    store = FirmStore(DatabaseLocation(url, False), schema_firm, pool_size=2)
    if kind == "chained":
        return ChainedApplicationRecorder(store.datastore())
    env = store.location.eventsourcing_env()
    datastore = PostgresDatastore(
        dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"],
        schema=store.schema, pool_size=2)
    return PostgresApplicationRecorder(datastore, events_table_name="plain_events")


def prepare(url: str, kind: str, firm: str) -> None:
    store = FirmStore(DatabaseLocation(url, False), firm)
    with store.location.connect() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
    store.ensure()
    if kind == "plain":
        make_recorder(url, kind, firm).create_table()


def writer(url: str, kind: str, firm: str, batch: int, seconds: float,
           out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    recorder = make_recorder(url, kind, firm)
    latencies: list[float] = []
    count = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        events = [StoredEvent(uuid.uuid4(), 1, TOPIC, PAYLOAD) for _ in range(batch)]
        started = time.perf_counter()
        recorder.insert_events(events)
        latencies.append(time.perf_counter() - started)
        count += batch
    out.put((count, latencies))


def fill(url: str, firm: str, count: int) -> None:
    recorder = make_recorder(url, "chained", firm)
    batch = 1000
    for _ in range(0, count, batch):
        recorder.insert_events([StoredEvent(uuid.uuid4(), 1, TOPIC, PAYLOAD)
                                for _ in range(batch)])


Runner = Callable[[str, int, int], Figures]  # (kind, writers, batch) -> figures


def median_figures(rounds: list[Figures]) -> Figures:
    return (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds),
            statistics.median(r[2] for r in rounds))


def print_table(title: str, kinds: tuple[str, str], runner: Runner, writers: list[int],
                batches: list[int], rounds: int) -> None:
    base, other = kinds
    print(title)
    print(f"{'writers':>7} {'batch':>5} | {base + ' ev/s':>12} {other + ' ev/s':>13} {'ratio':>6} |"
          f" {base + ' p50/p99 ms':>18} {other + ' p50/p99 ms':>19}")
    for w in writers:
        for batch in batches:
            measured: dict[str, list[Figures]] = {k: [] for k in kinds}
            for _ in range(rounds):
                for kind in kinds:
                    measured[kind].append(runner(kind, w, batch))
            b, o = median_figures(measured[base]), median_figures(measured[other])
            print(f"{w:>7} {batch:>5} | {b[0]:>12,.0f} {o[0]:>13,.0f} {o[0] / b[0]:>6.2f} |"
                  f" {b[1]:>8.2f}/{b[2]:<9.2f} {o[1]:>8.2f}/{o[2]:<9.2f}", flush=True)
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per append measurement")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds per cell")
    parser.add_argument("--writers", default="1,2,4,8", help="writer processes to try")
    parser.add_argument("--batches", default="1,100", help="events per transaction")
    parser.add_argument("--tables", default="store,app", help="which append tables")
    parser.add_argument("--verify-events", type=int, default=1_000_000)
    parser.add_argument("--read-events", type=int, default=1_000_000,
                        help="billing events for the rebuild and as-of figures (0: skip)")
    args = parser.parse_args()
    location = locate_database(Settings())
    url = location.url
    print(f"database: {location.masked_url}")
    with location.connect() as conn:
        version = conn.execute("SHOW server_version").fetchone()
    print(f"server version: {version[0] if version else '?'}; cpus: {os.cpu_count()}")
    print()
    writers = [int(w) for w in args.writers.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    tables = args.tables.split(",")

    def store_runner(kind: str, w: int, batch: int) -> Figures:
        firm = f"bench_{kind}"
        prepare(url, kind, firm)
        return run_writers(writer, url, kind, firm, w, batch, args.seconds)

    def app_runner(kind: str, w: int, batch: int) -> Figures:
        firm = f"bench_app_{kind}"
        bench_app_path.prepare(url, kind, firm)
        try:
            return run_writers(bench_app_path.writer, url, kind, firm, w, batch, args.seconds)
        finally:
            bench_app_path.drop(url, firm)

    if "store" in tables:
        print_table("store: stored events appended directly (chain only)",
                    ("plain", "chained"), store_runner, writers, batches, args.rounds)
    if "app" in tables:
        bench_app_path.ensure_kek()
        print_table("application path: TimeLogged with a sealed narrative (chain + encryption)",
                    ("plain", "ledger"), app_runner, writers, batches, args.rounds)
    if args.verify_events:
        firm = "bench_verify"
        prepare(url, "chained", firm)
        started = time.perf_counter()
        fill(url, firm, args.verify_events)
        fill_s = time.perf_counter() - started
        store = FirmStore(location, firm)
        started = time.perf_counter()
        report = verify_chain(location, store.schema)
        verify_s = time.perf_counter() - started
        assert report.ok and report.checked == args.verify_events, report.damage
        with location.connect() as conn:
            started = time.perf_counter()
            with conn.cursor(name="scan") as cur:
                conn.autocommit = False
                cur.itersize = 20_000
                cur.execute(f'SELECT * FROM "{store.schema}".events ORDER BY notification_id')
                scanned = sum(1 for _ in cur)
            scan_s = time.perf_counter() - started
        print()
        print(f"filled {args.verify_events:,} events in 1000-event transactions:"
              f" {args.verify_events / fill_s:,.0f} ev/s")
        print(f"verify: {report.checked:,} events in {verify_s:.2f} s ="
              f" {report.checked / verify_s:,.0f} ev/s"
              f" (a bare ordered scan of the same rows: {scanned / scan_s:,.0f} rows/s)")
    if args.read_events:
        print()
        read_store = FirmStore(location, "bench_read")
        try:
            bench_projections.measure(read_store, args.read_events)
        finally:
            with location.connect() as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{read_store.schema}" CASCADE')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
