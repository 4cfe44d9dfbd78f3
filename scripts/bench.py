"""Append and verify throughput of the ledger against the plain eventsourcing recorder.

Two tables, each measured against the same PostgreSQL in one run, in schemas of
their own, so the ratios are meaningful even where absolute figures are noise:

1. the store alone: the plain recorder versus the chained recorder, stored events
   written directly;
2. the application path: the plain recorder versus the ledger as deployed, hash
   chain and per-client field sealing together (see ``bench_app_path``).

Each cell is measured ``--rounds`` times, alternating the kinds, and the median
is printed, so drift on a shared machine hits both alike. Then ``verify`` over a
ledger filled to each of ``--verify-events`` sizes, serial and in parallel, against
the machine's SHA-256 limit (see ``bench_verify``), and the read side over a ledger
of billing events: a rebuild of every read model and an as-of statement (see
``bench_projections``). ``--json FILE`` also writes every printed figure there
(``scripts/bench-plot FILE`` draws them).
Usage: scripts/bench [--seconds S] [--rounds R] [--writers 1,2,4,8] [--batches 1,100]
                     [--tables store,app] [--verify-events N[,N...]] [--read-events N]
                     [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

from ledger.database import DatabaseLocation, locate_database
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from ledger.store.recorder import ChainedApplicationRecorder

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_app_path  # sibling script modules
import bench_projections
import bench_verify
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
                batches: list[int], rounds: int) -> list[dict[str, Any]]:
    """Print the table and return its rows (every printed figure) for ``--json``."""
    base, other = kinds
    rows: list[dict[str, Any]] = []
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
            rows.append({"writers": w, "batch": batch, f"{base}_ev_s": b[0],
                         f"{other}_ev_s": o[0], "ratio": o[0] / b[0],
                         f"{base}_p50_ms": b[1], f"{base}_p99_ms": b[2],
                         f"{other}_p50_ms": o[1], f"{other}_p99_ms": o[2]})
    print()
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per append measurement")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds per cell")
    parser.add_argument("--writers", default="1,2,4,8", help="writer processes to try")
    parser.add_argument("--batches", default="1,100", help="events per transaction")
    parser.add_argument("--tables", default="store,app", help="which append tables")
    parser.add_argument("--verify-events", default="1000000",
                        help="ledger sizes to time verify at, filled in turn (0: skip)")
    parser.add_argument("--read-events", type=int, default=1_000_000,
                        help="billing events for the rebuild and as-of figures (0: skip)")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="also write every printed figure to FILE (for scripts/bench-plot)")
    args = parser.parse_args()
    location = locate_database(Settings())
    url = location.url
    print(f"database: {location.masked_url}")
    with location.connect() as conn:
        version = conn.execute("SHOW server_version").fetchone()
    print(f"server version: {version[0] if version else '?'}; cpus: {os.cpu_count()};"
          f" load average before: {os.getloadavg()[0]:.2f}")
    print()
    figures: dict[str, Any] = {"database": location.masked_url,
                               "server_version": version[0] if version else None,
                               "cpus": os.cpu_count(), "load_average": os.getloadavg(),
                               "seconds": args.seconds, "rounds": args.rounds}
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
        try:
            figures["store"] = print_table(
                "store: stored events appended directly (chain only)",
                ("plain", "chained"), store_runner, writers, batches, args.rounds)
        finally:
            for kind in ("plain", "chained"):
                bench_app_path.drop(url, f"bench_{kind}")
    if "app" in tables:
        bench_app_path.ensure_kek()
        figures["app"] = print_table(
            "application path: TimeLogged with a sealed narrative (chain + encryption)",
            ("plain", "ledger"), app_runner, writers, batches, args.rounds)
    sizes = sorted(int(n) for n in args.verify_events.split(",") if int(n) > 0)
    if sizes:
        print("verify: serial (--workers 1) against parallel, medians of"
              f" {args.rounds} alternating rounds after a first pass")
        figures["verify"] = bench_verify.measure(location, fill, prepare, bench_app_path.drop,
                                                 sizes, args.rounds)
    if args.read_events:
        print()
        read_store = FirmStore(location, "bench_read")
        try:
            figures["read"] = bench_projections.measure(read_store, args.read_events)
        finally:
            bench_app_path.drop(url, "bench_read")
    figures["load_average_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"figures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
