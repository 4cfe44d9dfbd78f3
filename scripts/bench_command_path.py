"""The command path's cost against a matter's history: single-entry ``log_time``
commands through ``BillingService`` on a fresh matter and on matters already
holding N entries, with the aggregate cache off (every load replays the stream)
and on (``LEDGER_AGGREGATE_CACHE``), same run, same firm.

    PYTHONPATH=. python scripts/bench_command_path.py [--sizes 3000,30000]
        [--commands 200] [--baseline-commands 20]

Prints commands/s and p50/p99 latency per (cache, history) pair. The history is
loaded fast (1,000 ``TimeLogged`` a transaction, straight on the aggregate).
Drops the firm schema it made. Not a test.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import time
from datetime import date, timedelta
from uuid import UUID, uuid4

from commands import models as m
from commands.auth import Principal
from commands.service import BillingService
from ledger.crypto import close_engines
from ledger.database import DatabaseLocation
from ledger.domain.matter import Matter
from ledger.store.firm import FirmStore
from scripts.bench_app_path import ensure_kek

ADMIN = Principal(id="admin@firm", roles=frozenset({"firm_admin"}))
BATCH = 1_000
_keys = itertools.count(1)


def key() -> str:
    return f"bench-{next(_keys):09d}-{uuid4().hex[:8]}"


def set_up(svc: BillingService) -> UUID:
    svc.set_up_firm(ADMIN, m.SetUpFirm(idempotency_key=key(), currency="USD",
                                       invoice_prefix="INV-", number_digits=5,
                                       effective_on=date(2024, 1, 1)))
    svc.register_timekeeper(ADMIN, m.RegisterTimekeeper(
        idempotency_key=key(), timekeeper_id="PA", name="Person A", title="PARTNR",
        default_rate_minor_per_hour=30_000, effective_on=date(2024, 1, 1)))
    result = svc.onboard_client(ADMIN, m.OnboardClient(
        idempotency_key=key(), name="Acme Holdings", billing_contact="ap@acme.example",
        currency="USD", payment_terms_days=30, effective_on=date(2024, 1, 2)))
    return UUID(str(result["client_id"]))


def open_matter(svc: BillingService, client_id: UUID) -> UUID:
    result = svc.open_matter(ADMIN, m.OpenMatter(
        idempotency_key=key(), client_id=client_id, title="Acme v. Widget Co", utbms=False,
        arrangement=m.HourlyTerms(), opened_on=date(2024, 1, 3)))
    return UUID(str(result["matter_id"]))


def preload(svc: BillingService, matter_id: UUID, entries: int) -> None:
    """``entries`` time entries on the matter, ``BATCH`` per transaction (work dates in
    2020, away from the measured commands' days)."""
    done = 0
    matter = svc.app.repository.get(matter_id)
    assert isinstance(matter, Matter)
    while done < entries:
        for i in range(min(BATCH, entries - done)):
            matter.log_time(actor=ADMIN.id, entry_id=uuid4(), timekeeper_id="PA",
                            work_on=date(2020, 1, 1) + timedelta(days=(done + i) % 365),
                            minutes=6, task_code=None, activity_code=None, billable=True,
                            narrative="Reviewed the counterparty's disclosure")
        svc.app.save(matter)
        done += min(BATCH, entries - done)


def measure(svc: BillingService, matter_id: UUID, commands: int, day0: date) -> dict[str, float]:
    # one warm-up command (fills the cache, when there is one)
    svc.log_time(ADMIN, m.LogTime(idempotency_key=key(), matter_id=matter_id,
                                  timekeeper_id="PA", work_on=day0, minutes=6,
                                  narrative="warm-up"))
    latencies = []
    start = time.perf_counter()
    for i in range(commands):
        t = time.perf_counter()
        svc.log_time(ADMIN, m.LogTime(
            idempotency_key=key(), matter_id=matter_id, timekeeper_id="PA",
            work_on=day0 + timedelta(days=1 + i // 100), minutes=6,
            narrative="Drafted the reply brief"))
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - start
    q = statistics.quantiles(latencies, n=100)
    return {"rate": commands / elapsed, "p50": q[49] * 1000, "p99": q[98] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="3000,30000")
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--baseline-commands", type=int, default=20,
                        help="commands per matter with the cache off (each replays it all)")
    parser.add_argument("--modes", default="off,on")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    url = os.environ["LEDGER_DATABASE_URL"]
    ensure_kek()
    location = DatabaseLocation(url, False)
    store = FirmStore(location, "bench_cmd_" + uuid4().hex[:8], pool_size=4)
    store.ensure()
    try:
        with BillingService(store, aggregate_cache=0) as loader:
            client_id = set_up(loader)
            matters = {n: open_matter(loader, client_id) for n in [0, *sizes]}
            for n in sizes:
                t = time.perf_counter()
                preload(loader, matters[n], n)
                print(f"preloaded {n} entries in {time.perf_counter() - t:.1f}s", flush=True)
        print(f"{'cache':>5} {'history':>8} {'cmd/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'vs fresh':>8}")
        day = date(2025, 1, 1)
        for mode in args.modes.split(","):
            with BillingService(store, aggregate_cache=0 if mode == "off" else 1000) as svc:
                fresh = None
                for n, matter_id in matters.items():
                    count = args.baseline_commands if mode == "off" else args.commands
                    r = measure(svc, matter_id, count, day)
                    day += timedelta(days=count // 100 + 2)
                    fresh = fresh or r["rate"]
                    print(f"{mode:>5} {n:>8} {r['rate']:>7.1f} {r['p50']:>7.1f} "
                          f"{r['p99']:>7.1f} {r['rate'] / fresh:>7.2f}x", flush=True)
    finally:
        close_engines()
        with location.connect() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
            conn.execute(f'DROP ROLE IF EXISTS "{store.app_role}"')


if __name__ == "__main__":
    main()
