"""Verify benchmark (used by ``scripts/bench``): serial against parallel, and the SHA-256 limit.

One ledger is filled up to each size in turn. At each size: ``verify`` in one
pass right after the fill (PostgreSQL sets hint bits as it reads fresh rows),
then ``rounds`` alternations of the serial walk (``--workers 1``) and the range
scans in a pool of one process per core, medians printed; a bare ordered scan of
the same rows. At the largest size, the machine's SHA-256 limit for these rows:
the exact hash inputs verify builds (taken from the ledger), hashed with
``hashlib`` alone the way verify hashes them, in one process and in one process
per core at once.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import statistics
import struct
import time
from collections.abc import Callable
from contextlib import closing
from functools import partial
from typing import Any

from psycopg.sql import SQL

from ledger.database import DatabaseLocation
from ledger.store.firm import FirmStore
from ledger.verify import TAG, verify_chain
from ledger.verify_scan import copy_rows, split_row

SAMPLE_ROWS = 100_000  # hash inputs kept in memory for the SHA-256 limit (about 30 MB)
_sample: dict[str, Any] = {"prefix": b"", "inputs": []}  # inherited by forked processes


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def client_cpu() -> float:
    """CPU seconds of this process and of its ended children (the verify pool's workers)."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def verify_rates(location: DatabaseLocation, schema: str, events: int, workers: int,
                 rounds: int) -> dict[str, Any]:
    """First pass, then serial and parallel alternately (``rounds`` each): ev/s, and the
    client's CPU µs per event (steadier than wall time on a busy machine)."""
    def run(count: int) -> tuple[float, float]:
        cpu = client_cpu()
        took, report = timed(lambda: verify_chain(location, schema, workers=count))
        assert report.ok and report.checked == events, report.damage
        return events / took, (client_cpu() - cpu) * 1e6 / events

    first = run(1)[0]
    serial: list[tuple[float, float]] = []
    parallel: list[tuple[float, float]] = []
    for _ in range(rounds):
        serial.append(run(1))
        parallel.append(run(workers))
    s_rate, p_rate = (statistics.median(r[0] for r in runs) for runs in (serial, parallel))
    return {"events": events, "workers": workers, "first_pass_ev_s": first,
            "serial_ev_s": s_rate, "parallel_ev_s": p_rate,
            "serial_s": events / s_rate, "parallel_s": events / p_rate,
            "serial_client_cpu_us": statistics.median(r[1] for r in serial),
            "parallel_client_cpu_us": statistics.median(r[1] for r in parallel)}


def bare_scan_rate(location: DatabaseLocation, schema: str) -> float:
    """Rows/s of a plain ordered read of every column through a named cursor."""
    with location.connect() as conn:
        conn.autocommit = False
        started = time.perf_counter()
        with conn.cursor(name="scan") as cur:
            cur.itersize = 20_000
            cur.execute(f'SELECT * FROM "{schema}".events ORDER BY notification_id')
            scanned = sum(1 for _ in cur)
        return scanned / (time.perf_counter() - started)


def _hash_sample(repeats: int) -> int:
    import hashlib

    inputs: list[bytes] = _sample["inputs"]
    copy = hashlib.sha256(_sample["prefix"]).copy
    for _ in range(repeats):
        for data in inputs:
            h = copy()
            h.update(data)
            h.digest()
    return repeats * len(inputs)


def sha256_limit(location: DatabaseLocation, schema: str, workers: int) -> dict[str, Any]:
    """Hashes/s of the ledger's own hash inputs with hashlib alone: 1 and ``workers`` processes."""
    with location.connect() as conn:
        ledger_id = conn.execute(
            f"SELECT ledger_id FROM \"{schema}\".chain_meta WHERE table_name = 'events'"
        ).fetchone()
        assert ledger_id is not None
        prefix = struct.pack(">I", len(TAG)) + TAG + ledger_id[0].bytes  # as verify hashes
        query = SQL(
            "COPY (SELECT notification_id, prev_hash, originator_id, originator_version, topic,"
            f" state, recorded_at, hash FROM \"{schema}\".events ORDER BY notification_id"
            f" LIMIT {SAMPLE_ROWS}) TO STDOUT (FORMAT BINARY)")
        with closing(copy_rows(conn, query)) as rows:
            inputs = [split_row(row)[1] for row in rows]
    _sample.update(prefix=prefix, inputs=inputs)
    repeats = 5
    cpu = time.process_time()
    one, count = timed(lambda: _hash_sample(repeats))
    one_cpu = time.process_time() - cpu
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        pool.map(abs, range(workers))  # started before the clock
        many, counts = timed(lambda: pool.map(_hash_sample, [repeats] * workers))
    row_bytes = statistics.mean(len(data) for data in inputs) + len(prefix)
    _sample.update(prefix=b"", inputs=[])
    return {"rows": count // repeats, "bytes_per_row": row_bytes,
            "one_process_ev_s": count / one, "processes": workers,
            "cpu_us": one_cpu * 1e6 / count,
            "all_processes_ev_s": sum(counts) / many}


def measure(location: DatabaseLocation, fill: Callable[[str, str, int], None],
            prepare: Callable[[str, str, str], None], drop: Callable[[str, str], None],
            sizes: list[int], rounds: int) -> dict[str, Any]:
    """Fill one ledger up to each size, time verify at each; print and return the figures."""
    firm, url, workers = "bench_verify", location.url, max(2, os.cpu_count() or 1)
    prepare(url, "chained", firm)
    store = FirmStore(location, firm)
    figures: dict[str, Any] = {"sizes": [], "load_average": os.getloadavg()}
    filled = 0
    try:
        for size in sizes:
            took, _ = timed(partial(fill, url, firm, size - filled))
            fill_rate = (size - filled) / took
            filled = size
            row = verify_rates(location, store.schema, size, workers, rounds)
            row["fill_ev_s"] = fill_rate
            row["bare_scan_rows_s"] = bare_scan_rate(location, store.schema)
            figures["sizes"].append(row)
            print(f"{size:>9,} events (filled at {fill_rate:,.0f} ev/s): verify first pass"
                  f" {row['first_pass_ev_s']:>9,.0f} ev/s; serial {row['serial_ev_s']:>9,.0f},"
                  f" {workers} workers {row['parallel_ev_s']:>9,.0f} ev/s"
                  f" ({row['parallel_ev_s'] / row['serial_ev_s']:.2f}x); client CPU"
                  f" {row['serial_client_cpu_us']:.2f} / {row['parallel_client_cpu_us']:.2f}"
                  f" µs/event; bare ordered scan {row['bare_scan_rows_s']:,.0f} rows/s",
                  flush=True)
        limit = sha256_limit(location, store.schema, workers)
        figures["sha256"] = limit
        last = figures["sizes"][-1]
        share = limit["cpu_us"] / last["serial_client_cpu_us"]
        print(f"SHA-256 alone on the same {limit['rows']:,} rows ({limit['bytes_per_row']:.0f}"
              f" bytes each, hashlib, as verify hashes them): {limit['one_process_ev_s']:,.0f}"
              f" ev/s in 1 process, {limit['all_processes_ev_s']:,.0f} ev/s in {workers};"
              f" verify reaches {last['serial_ev_s'] / limit['one_process_ev_s']:.0%} of the"
              f" first (serial) and {last['parallel_ev_s'] / limit['all_processes_ev_s']:.0%}"
              f" of the second ({workers} workers). In CPU time SHA-256 alone costs"
              f" {limit['cpu_us']:.2f} µs/event, {share:.0%} of the serial client's"
              f" {last['serial_client_cpu_us']:.2f} µs/event")
        figures["load_average_after"] = os.getloadavg()
    finally:
        drop(url, firm)
    return figures
