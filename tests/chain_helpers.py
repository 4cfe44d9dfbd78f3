"""Helpers for store and verification tests: real events, raw superuser access."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from ledger.store.chain import ChainHasher, to_micros
from ledger.store.firm import FirmStore
from ledger.store.recorder import ChainedApplicationRecorder

TOPIC = "eventsourcing.domain:Aggregate.Created"
OTHER_TOPIC = "eventsourcing.domain:Aggregate.Event"


def stored_event(i: int, topic: str = TOPIC) -> Any:
    from eventsourcing.persistence import StoredEvent

    return StoredEvent(uuid.uuid4(), 1, topic, f'{{"n":{i},"note":"event {i}"}}'.encode())


_open_datastores: list[Any] = []


def close_datastores() -> None:
    """Close the pools the helpers opened (called when a test's firm is dropped)."""
    while _open_datastores:
        _open_datastores.pop().close()


def append(store: FirmStore, count: int, batch: int = 1) -> ChainedApplicationRecorder:
    datastore = store.datastore()
    _open_datastores.append(datastore)
    recorder = ChainedApplicationRecorder(datastore, events_table_name=store.events_table)
    for start in range(0, count, batch):
        recorder.insert_events(
            [stored_event(i, OTHER_TOPIC if i % 3 else TOPIC)
             for i in range(start, min(count, start + batch))]
        )
    return recorder


def superuser_sql(store: FirmStore, statement: str, params: Any = None) -> None:
    """Run SQL with the triggers off, as an attacker with superuser rights would."""
    with psycopg.connect(store.location.url, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(statement.replace("EV", f'"{store.schema}".events'), params)


def rehash(store: FirmStore, position: int, *, all_after: bool = False) -> None:
    """What an attacker who knows the layout does: recompute hashes from a position on."""
    with store.location.connect() as conn:
        rows = conn.execute(
            f'SELECT notification_id, originator_id, originator_version, topic, state,'
            f' recorded_at, prev_hash FROM "{store.schema}".events'
            f' WHERE notification_id >= %s ORDER BY notification_id', (position,)).fetchall()
    hasher = ChainHasher(uuid.UUID(store.head().ledger_id))
    prev = None
    for pos, oid, version, topic, state, at, prev_hash in rows:
        prev = bytes(prev_hash) if prev is None else prev
        digest = hasher.event_hash(position=pos, prev_hash=prev, originator_id=oid,
                                   originator_version=version, topic=topic, state=bytes(state),
                                   recorded_at_micros=to_micros(at))
        superuser_sql(store, "UPDATE EV SET prev_hash = %s, hash = %s WHERE notification_id = %s",
                      (prev, digest, pos))
        prev = digest
        if not all_after:
            return
