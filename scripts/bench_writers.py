"""Concurrent writer processes for the append benchmarks (used by ``scripts/bench``).

A writer is a function ``(url, kind, firm, batch, seconds, queue)`` that appends for
``seconds`` and puts ``(events appended, [latency of each append in s])`` on the queue.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

Figures = tuple[float, float, float]
"""Events/s over all writers, and p50 / p99 append latency in ms."""
Writer = Callable[[str, str, str, int, float, Any], None]


def run_writers(target: Writer, url: str, kind: str, firm: str, writers: int, batch: int,
                seconds: float) -> Figures:
    """Run ``writers`` processes of ``target`` at once and combine what they measured."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=target, args=(url, kind, firm, batch, seconds, queue))
             for _ in range(writers)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(x for r in results for x in r[1])
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return sum(r[0] for r in results) / seconds, p50, p99
