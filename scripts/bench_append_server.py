"""Server-side cost of one append (not a test): the chain's append function versus
the plain recorder's ``LOCK`` + ``NOTIFY`` + ``INSERT``, with no client in the loop.

Each measurement runs N appends inside one ``DO`` block, so it times only what
the server does while it holds the table's EXCLUSIVE lock: the part that limits
throughput when writers queue on the lock. Rounds alternate the kinds and the
median is printed.

    python scripts/bench_append_server.py [--appends 1500] [--batches 1,100] [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventsourcing.postgres import PostgresApplicationRecorder

from ledger.database import locate_database
from ledger.settings import Settings
from ledger.store.firm import FirmStore

FIRM = "bench_server"
TOPIC = "'ledger.domain.events:TimeLogged'"
STATE = "decode(repeat('ab', 200), 'hex')"  # a 200-byte payload


def statements(schema: str, batch: int) -> dict[str, str]:
    def array(item: str) -> str:
        return "ARRAY[" + ",".join([item] * batch) + "]"

    chained = (f"PERFORM * FROM {schema}.events_append({array('gen_random_uuid()')},"
               f" {array('1::bigint')}, {array(TOPIC)}, {array(STATE)});")
    plain = (f"LOCK TABLE {schema}.plain_events IN EXCLUSIVE MODE; NOTIFY plain_events;"
             f" INSERT INTO {schema}.plain_events (originator_id, originator_version, topic,"
             f" state) SELECT gen_random_uuid(), 1, {TOPIC}, {STATE}"
             f" FROM generate_series(1, {batch});")
    return {"plain": plain, "chained": chained}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appends", type=int, default=1500, help="appends per measurement")
    parser.add_argument("--batches", default="1,100", help="events per append")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    location = locate_database(Settings())
    store = FirmStore(location, FIRM)
    with location.connect() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
    store.ensure()
    datastore = store.datastore()
    PostgresApplicationRecorder(datastore, events_table_name="plain_events").create_table()
    datastore.close()
    print(f"database: {location.masked_url}")
    print(f"{'batch':>5} | {'plain us/event':>14} {'chained us/event':>16} {'difference':>10}")
    try:
        with location.connect() as conn:
            for batch in [int(b) for b in args.batches.split(",")]:
                appends = max(1, args.appends // batch * (1 if batch == 1 else 4))
                times: dict[str, list[float]] = {"plain": [], "chained": []}
                for _ in range(args.rounds):
                    for kind, body in statements(store.schema, batch).items():
                        started = time.perf_counter()
                        conn.execute(f"DO $$ BEGIN FOR i IN 1..{appends} LOOP {body}"
                                     " END LOOP; END $$")
                        elapsed = time.perf_counter() - started
                        times[kind].append(elapsed / appends / batch * 1e6)
                plain, chained = (statistics.median(times[k]) for k in ("plain", "chained"))
                print(f"{batch:>5} | {plain:>14.1f} {chained:>16.1f} {chained - plain:>+10.1f}",
                      flush=True)
    finally:
        with location.connect() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
