"""Verification split into position ranges, scanned side by side and joined in order.

Every row carries its ``prev_hash``, so a range of the chain can be checked on its
own once it knows the row just before it. The range ``[a, b]`` streams, in position
order, the row at ``a - 1`` (its *seed*), its own rows, and the two rows after
``b`` (that many rows: as many as it holds when nothing is out of place). The seed
gives the state the serial walk would hold at ``a`` if everything before were good:
the next position, the head hash, the hash before it and the head's time. The range
then runs the very loop of the serial walk (``scan``) over its rows **and the first
row after b**, so damage right at a boundary is met by the range before it in
exactly the state the serial walk meets it in; the second row after ``b`` rides
along as the successor the classification may need.

Joining: the ranges are taken in position order. A range that verified all its
rows (and the first after it) proves the next range's seed is the real predecessor,
so the first range that stopped holds the serial walk's first damage, with the same
count, head, stopped row and successor; the caller classifies it on its own
connection. A range is never consulted unless every range before it was clean, so
a seed row that is missing or malformed (``seeded`` false) can only sit behind an
earlier damage. Ties in position order cannot happen while the unique index on
``notification_id`` stands; without it the serial order of equal positions is
arbitrary too.

Workers: ``ProcessRanges`` scans the ranges in a bounded pool of processes, each
with one connection of its own that imports the caller's snapshot
(``pg_export_snapshot``), so every range sees the same committed state as the
caller. ``InlineRanges`` scans them one after another on the caller's connection
(it sees the caller's own uncommitted changes too: the tamper matrix uses it).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
from collections.abc import Callable, Generator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, replace
from itertools import islice
from multiprocessing.util import Finalize
from types import TracebackType
from typing import Any, Protocol

import psycopg
from psycopg.sql import SQL, Composed, Identifier, Literal

from ledger.verify_scan import ScanEnd, copy_rows, genesis_seed, scan, seed_after

SERIAL_BELOW = 50_000  # below this head position the serial walk is as fast: no pool
MIN_RANGE = 10_000  # positions per range, at least (unless a plan says otherwise)
RANGES_PER_WORKER = 4  # several ranges per worker: an early damage cancels the rest
MAX_RANGES = 1024  # however the positions are spread
MAX_WORKERS = 64
COLUMNS = ("notification_id, prev_hash, originator_id, originator_version,"
           " topic, state, recorded_at, hash")


def default_workers() -> int:
    """Half the cores this process may run on, at least one.

    Why half: each worker keeps two processes busy, itself and the PostgreSQL
    backend feeding it its COPY; on 2 cores the one-pass walk already does, and
    two workers measured 0.83-0.94x of it (README, Benchmarks).
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // 2)


@dataclass(frozen=True)
class RangePlan:
    """How a chain is cut: ``range_size`` positions per range (None: spread over the
    workers), and the serial walk for a chain whose head is below ``min_events``."""

    range_size: int | None = None
    min_events: int = SERIAL_BELOW

    def bounds(self, head: int, workers: int) -> list[tuple[int | None, int]]:
        """``(first, last)`` positions of each range; the first range opens downwards (rows
        below position 1), the last ends at the head (no row lies past it: it is the
        greatest position in the same snapshot)."""
        if head < max(self.min_events, 2):
            return []
        size = self.range_size or max(MIN_RANGE, math.ceil(head / (workers * RANGES_PER_WORKER)))
        count = min(math.ceil(head / max(size, 1)), MAX_RANGES)
        if count < 2:
            return []
        size = math.ceil(head / count)
        return [(None if i == 0 else i * size + 1, head if i == count - 1 else (i + 1) * size)
                for i in range(count)]


@dataclass(frozen=True)
class RangeTask:
    """One range to scan; what a worker process needs besides its connection."""

    schema: str
    table: str
    prefix: bytes  # lp(tag) ‖ ledger_id: every event hash starts with it
    genesis: bytes
    first: int | None  # None: from the start (rows at positions below 1 too)
    last: int


@dataclass(frozen=True)
class RangeEnd:
    """Where a range's scan stopped (the fields of ``ScanEnd``, as bytes), and the row after."""

    seeded: bool
    checked: int
    head: bytes
    before_head: bytes | None
    stopped_at: bytes | None
    successor: bytes | None


def task_start(task: RangeTask) -> int:
    return 1 if task.first is None else task.first


def range_query(task: RangeTask) -> Composed:
    """The range's COPY: its seed row, its rows, the first row after it and its successor.

    Bounded by count, not by position: the scan stops at the first row out of place,
    so the rows it can reach, plus one successor, are the first ``LIMIT`` rows in
    position order from the seed on. The limit also lets the planner walk the unique
    index in order (the heap is in append order) instead of sorting the range.
    """
    s, t = Identifier(task.schema), Identifier(task.table)
    start = task_start(task)
    condition = SQL("") if task.first is None else SQL(" WHERE notification_id >= {}").format(
        Literal(task.first - 1))
    # the seed, the scan's window (its rows and the first after), the successor
    limit = (task.first is not None) + task.last + 2 - start + 1
    return SQL("COPY (SELECT {columns} FROM {s}.{t}{condition} ORDER BY notification_id"
               " LIMIT {limit}) TO STDOUT (FORMAT BINARY)").format(
        columns=SQL(COLUMNS), s=s, t=t, condition=condition, limit=Literal(limit))


def scan_range_on(conn: psycopg.Connection[Any], task: RangeTask) -> RangeEnd:
    """Scan one range on an open connection (in the snapshot it is in)."""
    import hashlib

    base = hashlib.sha256(task.prefix)
    with closing(copy_rows(conn, range_query(task))) as rows:
        try:
            seed = genesis_seed(task.genesis)
            if task.first is not None:
                seed_row = next(rows, None)
                found = None if seed_row is None else seed_after(seed_row)
                if found is None or found.expected != task.first:
                    return RangeEnd(False, 0, b"", None, None, None)
                seed = found
            window = islice(rows, task.last + 2 - task_start(task))  # and the first after
            end = scan(window, base, task.genesis, None, seed)
            stopped = successor = None
            if end.stopped_at is not None:
                stopped = bytes(end.stopped_at)
                after = next(rows, None)
                successor = None if after is None else bytes(after)
            return RangeEnd(True, end.checked, end.head, end.before_head, stopped, successor)
        finally:
            for _ in rows:  # drain (at most the rest of this range) so the connection is usable
                pass


Ends = Generator[RangeEnd, None, None]


class RangeRunner(Protocol):
    """Scans a list of ranges and yields their ends in the same order, lazily."""

    workers: int
    plan: RangePlan

    def run(self, conn: psycopg.Connection[Any], tasks: list[RangeTask]) -> Ends:
        ...


class InlineRanges:
    """Every range on the caller's connection, one after another (same snapshot, and the
    caller's own uncommitted changes): the range logic without processes."""

    workers = 1

    def __init__(self, plan: RangePlan) -> None:
        self.plan = plan

    def run(self, conn: psycopg.Connection[Any], tasks: list[RangeTask]) -> Ends:
        return (scan_range_on(conn, task) for task in tasks)


class ProcessRanges:
    """Ranges scanned by a bounded pool of ``workers`` processes, made on first use and
    kept until ``close``: one connection per process, importing the caller's snapshot."""

    def __init__(self, url: str, workers: int, plan: RangePlan | None = None) -> None:
        if not 1 <= workers <= MAX_WORKERS:
            raise ValueError(f"workers must be 1..{MAX_WORKERS}")
        self.url, self.workers, self.plan = url, workers, plan or RangePlan()
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessRanges:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run(self, conn: psycopg.Connection[Any], tasks: list[RangeTask]) -> Ends:
        """Export the caller's snapshot, hand every range to the pool, yield in order."""
        if conn.autocommit or conn.isolation_level not in (
                psycopg.IsolationLevel.REPEATABLE_READ, psycopg.IsolationLevel.SERIALIZABLE):
            raise ValueError("process ranges need a repeatable-read transaction to share")
        row = conn.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, _start_method())
        futures = [self._pool.submit(_scan_in_worker, self.url, str(row[0]), task)
                   for task in tasks]
        return _in_order(futures)


def _start_method() -> multiprocessing.context.BaseContext:
    """Fork where it is safe (no other thread could hold a lock), else spawn.

    A forked worker starts at once; a spawned one imports the caller's main module
    again (for the ``ledger`` script, the whole command line: most of a second on a
    busy machine). The forked worker never touches the caller's connection, and a
    pool worker leaves by ``os._exit``, so that connection is not closed under the
    caller either.
    """
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _in_order(futures: list[Future[RangeEnd]]) -> Generator[RangeEnd, None, None]:
    try:
        for future in futures:
            yield future.result()
    finally:  # the join stopped early (damage): ranges not started are not needed
        for future in futures:
            future.cancel()


_connections: dict[str, psycopg.Connection[Any]] = {}


class WorkerConnectError(Exception):
    """A worker could not open its connection (e.g. the server has no slot left)."""


def _scan_in_worker(url: str, snapshot: str, task: RangeTask) -> RangeEnd:
    """In a worker process: its one connection, in the caller's snapshot, scans a range."""
    conn = _connections.get(url)
    if conn is None or conn.closed:
        try:
            conn = psycopg.connect(url, connect_timeout=5, client_encoding="UTF8")
        except psycopg.OperationalError as exc:
            raise WorkerConnectError(str(exc)) from None
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        _connections[url] = conn
        Finalize(None, conn.close, exitpriority=10)  # say goodbye when the pool ends
    try:
        conn.execute(SQL("SET TRANSACTION SNAPSHOT {}").format(Literal(snapshot)))
        return scan_range_on(conn, task)
    finally:
        conn.rollback()


Joined = tuple[ScanEnd, bytes | None]
"""The joined scan's end (as the serial walk's) and the stopped row's successor."""


def scan_in_ranges(conn: psycopg.Connection[Any], chain: RangeTask, runner: RangeRunner,
                   progress: Callable[[int], None] | None) -> Joined | None:
    """The serial walk's end over ``chain`` (a task for the whole chain), from ranges
    joined in order; None when it is too short to split, or when a worker cannot
    connect (the server is out of connection slots): then walk it serially."""
    row = conn.execute(SQL("SELECT max(notification_id) FROM {s}.{t}").format(
        s=Identifier(chain.schema), t=Identifier(chain.table))).fetchone()
    head = int(row[0]) if row and row[0] is not None else 0
    bounds = runner.plan.bounds(head, runner.workers)
    if not bounds:
        return None
    tasks = [replace(chain, first=first, last=last) for first, last in bounds]
    try:
        return _join(tasks, runner.run(conn, tasks), progress)
    except WorkerConnectError:
        return None


def _join(tasks: list[RangeTask], ranges: Ends,
          progress: Callable[[int], None] | None) -> Joined:
    """The first range that stopped, or the last one, once all before it were clean."""
    with closing(ranges) as ends:
        for task, end in zip(tasks, ends, strict=True):
            if not end.seeded:  # impossible after clean ranges (see the module's docstring)
                raise RuntimeError(f"range from {task.first} has no seed after clean ranges")
            if end.stopped_at is not None or task is tasks[-1]:
                return (ScanEnd(end.checked, end.head, end.before_head, end.stopped_at),
                        end.successor)
            if end.checked != task.last + 1:
                raise RuntimeError(f"range to {task.last} ended cleanly at {end.checked}")
            if progress is not None:
                progress(task.last)
    raise RuntimeError("no range to join")  # pragma: no cover - bounds are never empty here
