"""What field sealing costs a read-model rebuild (not a test).

Two firms get the same events through the application path (time entries with a
narrative, expenses with a description, ``--batch`` to a transaction): one with
the AES-256-GCM field sealer, one with confidential fields in clear. Both are
then rebuilt from position 0, alternately, ``--rounds`` times; the medians and
their ratio are printed. The difference is the cost of opening sealed fields.

    python scripts/bench_rebuild_sealed.py [--events 200000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_app_path  # a sibling script module

from commands.ledger_app import BillingLedger
from ledger.crypto import close_engines
from ledger.database import locate_database
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from projections.catalog import MODELS
from projections.tracking import catch_up

KINDS = {"clear": "bench_rb_clear", "sealed": "bench_rb_sealed"}
CLIENTS = 20


def fill(url: str, firm: str, sealed: bool, events: int, batch: int) -> None:
    store = FirmStore(locate_database(Settings()), firm)
    with store.location.connect() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
    store.ensure()
    env = bench_app_path.app_env(url, "ledger", firm)
    if not sealed:
        del env["CIPHER_TOPIC"]
    app = BillingLedger(env=env)
    try:
        matters = [bench_app_path.new_matter() for _ in range(CLIENTS)]
        for matter in matters:
            app.save(matter)
        written, n = 0, 0
        while written < events:
            matter = matters[n % CLIENTS]
            n += 1
            if len(matter.entries) >= bench_app_path.ENTRIES_PER_MATTER:
                matter = matters[n % CLIENTS] = bench_app_path.new_matter(matter.client_id)
                app.save(matter)
            for i in range(batch):
                matter.log_time(actor="bench", entry_id=uuid4(), timekeeper_id="PA",
                                work_on=date(2024, 1 + i % 12, 1 + i % 28), minutes=42,
                                task_code=None, activity_code=None, billable=True,
                                narrative=bench_app_path.NARRATIVE)
            app.save(matter)
            written += batch
    finally:
        app.close()
        close_engines()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=100, help="events per transaction")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bench_app_path.ensure_kek()
    location = locate_database(Settings())
    print(f"database: {location.masked_url}")
    for kind, firm in KINDS.items():
        started = time.perf_counter()
        fill(location.url, firm, kind == "sealed", args.events, args.batch)
        print(f"filled {kind}: {args.events:,} events in {time.perf_counter() - started:.1f} s",
              flush=True)
    rates: dict[str, list[float]] = {k: [] for k in KINDS}
    try:
        for _ in range(args.rounds):
            for kind, firm in KINDS.items():
                store = FirmStore(location, firm)
                started = time.perf_counter()
                head = catch_up(store, list(MODELS.values()), rebuild=True)
                rates[kind].append(head / (time.perf_counter() - started))
    finally:
        close_engines()
        for firm in KINDS.values():
            store = FirmStore(location, firm)
            with location.connect() as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
                conn.execute(f'DROP ROLE IF EXISTS "{store.app_role}"')
    clear, sealed = (statistics.median(rates[k]) for k in KINDS)
    print(f"rebuild, median of {args.rounds}: clear {clear:,.0f} ev/s, sealed {sealed:,.0f} ev/s,"
          f" sealed/clear {sealed / clear:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
