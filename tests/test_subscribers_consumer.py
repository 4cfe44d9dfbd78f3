"""Tracked consumers: killed at random points and restarted, each event applied once, in order."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
import time
from typing import Any

from psycopg import Cursor

from ledger.store.firm import FirmStore
from ledger.subscribers.consumer import TrackedConsumer
from ledger.subscribers.feed import FeedEvent
from tests.support.subscribers import Recorder

CONSUMER = textwrap.dedent("""
    import sys, time
    from ledger.database import DatabaseLocation
    from ledger.store.firm import FirmStore
    from ledger.subscribers.consumer import TrackedConsumer

    store = FirmStore(DatabaseLocation(sys.argv[1], False), sys.argv[2], pool_size=2)
    table = f'"{store.schema}".consumed'

    def apply(event, curs):
        time.sleep(0.002)  # a consumer with some work to do: kills land mid-stream
        curs.execute(f"INSERT INTO {table} (position, hash) VALUES (%s, %s)",
                     (event.position, event.hash))

    with TrackedConsumer(store, "killable") as consumer:
        until = int(sys.argv[4]) if len(sys.argv) > 4 else None
        consumer.run(apply, timeout=float(sys.argv[3]), until=until)
""")


def applied(store: FirmStore) -> list[tuple[int, bytes]]:
    with store.location.connect() as conn:
        return conn.execute(f'SELECT position, hash FROM "{store.schema}".consumed '
                            "ORDER BY seq").fetchall()


def test_killed_consumer_applies_every_event_exactly_once_in_order(
        firm_store: FirmStore, recorder: Recorder) -> None:
    with firm_store.location.connect() as conn:
        conn.execute(f'CREATE TABLE "{firm_store.schema}".consumed '
                     "(seq bigserial PRIMARY KEY, position bigint NOT NULL, hash text)")
    rng = random.Random(6)
    _, matter = recorder.client()
    recorder.time(matter, 200)
    args = [sys.executable, "-c", CONSUMER, firm_store.location.url, firm_store.firm]
    for _ in range(6):  # killed at random points, with events still arriving
        proc = subprocess.Popen([*args, "30"])
        time.sleep(rng.uniform(0.3, 1.2))
        recorder.time(matter, rng.randint(5, 40))
        proc.kill()
        proc.wait(timeout=10)
    recorder.client()
    head = firm_store.head().position
    proc = subprocess.Popen([*args, "45", str(head)])
    assert proc.wait(timeout=60) == 0
    with firm_store.location.connect() as conn:
        log = conn.execute(f'SELECT notification_id, encode(hash, \'hex\') FROM '
                           f'"{firm_store.schema}".events ORDER BY notification_id').fetchall()
    assert applied(firm_store) == [tuple(r) for r in log]
    assert [p for p, _ in applied(firm_store)] == list(range(1, head + 1))


def test_consumer_follows_live_events_and_resumes_by_name(
        firm_store: FirmStore, recorder: Recorder) -> None:
    seen: list[int] = []

    def apply(event: FeedEvent, curs: Cursor[Any]) -> None:
        seen.append(event.position)

    recorder.client()
    with TrackedConsumer(firm_store, "follower", types=["MatterOpened"]) as consumer:
        assert consumer.run(apply, until=2, timeout=10) == 2
        recorder.client()
        consumer.run(apply, until=4, timeout=10)
        assert consumer.position() == 4
    assert seen == [2, 4]  # only its type, each once
