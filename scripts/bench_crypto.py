"""Append throughput with confidential fields sealed (AES-256-GCM per client) versus
stored in clear (not a test). Target: sealing costs at most 15 %.

Both runs go through the same eventsourcing application path (aggregate ->
TypedMapper -> chained recorder) against the same PostgreSQL, in two firms of
their own; the only difference is ``CIPHER_TOPIC`` (the field sealer). The
events are ``TimeLogged`` with a narrative, i.e. every event is sealed (the
worst case: in a real ledger most events carry no confidential field). Rounds
alternate on/off and the median is reported, so drift hits both alike.

    python scripts/bench_crypto.py [--seconds 3] [--rounds 3] [--batches 1,20]
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from commands.ledger_app import BillingLedger, ledger_env
from ledger.crypto import close_engines
from ledger.database import locate_database
from ledger.domain.events import Arrangement
from ledger.domain.matter import Matter
from ledger.settings import Settings
from ledger.store.firm import FirmStore

NARRATIVE = "Reviewed the counterparty's disclosure and drafted a privileged memo " * 2


def prepared(location: object, firm: str) -> FirmStore:
    store = FirmStore(location, firm, pool_size=2)  # type: ignore[arg-type]
    with store.location.connect() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
    store.ensure()
    return store


def app_for(store: FirmStore, sealed: bool) -> BillingLedger:
    env = ledger_env(store)
    if not sealed:
        env.pop("CIPHER_TOPIC")
    return BillingLedger(env=env)


def new_matter(actor: str) -> Matter:
    return Matter.open(matter_id=uuid4(), actor=actor, effective_on=date(2024, 1, 2),
                       client_id=uuid4(), currency="USD", utbms=False,
                       arrangement=Arrangement(kind="hourly", increment_minutes=6),
                       title="Bench v. Mark")


def run(app: BillingLedger, batch: int, seconds: float) -> float:
    """Events appended per second for ``seconds`` (one transaction per ``batch``)."""
    matter = new_matter("bench")
    app.save(matter)  # the client's key is created here, outside the measurement
    count, deadline = 0, time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        if len(matter.entries) > 2_000:
            client_id = matter.client_id
            matter = new_matter("bench")
            matter.client_id = client_id
            app.save(matter)
        for _ in range(batch):
            matter.log_time(actor="bench", entry_id=uuid4(), timekeeper_id="PA",
                            work_on=date(2024, 1, 3), minutes=42, task_code=None,
                            activity_code=None, billable=True, narrative=NARRATIVE)
        app.save(matter)
        count += batch
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="alternating on/off rounds")
    parser.add_argument("--batches", default="1,20", help="events per transaction")
    args = parser.parse_args()
    if not any(os.environ.get(v) for v in ("LEDGER_KEK", "LEDGER_KEK_FILE",
                                           "LEDGER_KEK_PROVIDER")):
        os.environ["LEDGER_KEK"] = base64.b64encode(secrets.token_bytes(32)).decode()
    location = locate_database(Settings())
    print(f"database: {location.masked_url}; cpus: {os.cpu_count()}")
    print(f"{'batch':>5} | {'clear ev/s':>11} {'sealed ev/s':>12} {'slower':>7}")
    stores = {sealed: prepared(location, f"bench_crypto_{'on' if sealed else 'off'}")
              for sealed in (False, True)}
    apps = {sealed: app_for(store, sealed) for sealed, store in stores.items()}
    try:
        for batch in [int(b) for b in args.batches.split(",")]:
            figures: dict[bool, list[float]] = {False: [], True: []}
            run(apps[False], batch, 0.5)  # warm both paths (connections, prepared plans)
            run(apps[True], batch, 0.5)
            for _ in range(args.rounds):
                for sealed in (False, True):
                    figures[sealed].append(run(apps[sealed], batch, args.seconds))
            clear, sealed_rate = (statistics.median(figures[k]) for k in (False, True))
            print(f"{batch:>5} | {clear:>11,.0f} {sealed_rate:>12,.0f} "
                  f"{(1 - sealed_rate / clear) * 100:>6.1f}%", flush=True)
    finally:
        for app in apps.values():
            app.close()
        close_engines()
        for store in stores.values():
            with store.location.connect() as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
                conn.execute(f'DROP ROLE IF EXISTS "{store.app_role}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
