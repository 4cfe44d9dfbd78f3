"""Tracked writing of read models: the library's tracking recorder, extended with
the model's tables, and the batch driver used to catch up and to rebuild.

Exactly once: every transaction that changes a model's rows also moves the
model's tracking position (``PostgresTrackingRecorder._insert_tracking``, which
refuses to move it backwards or sideways), under a per-model advisory lock, and
first checks that the position is still the one the rows were folded from. A
crash anywhere loses the whole transaction, rows and position together, and the
next run starts after the last committed position.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.utils import Environment
from psycopg import Cursor
from psycopg.sql import SQL, Identifier

from ledger.codec import MAPPER_TOPIC, TRANSCODER_TOPIC
from ledger.crypto.sealing import SEALER_TOPIC, sealing_for_store
from ledger.store.firm import FirmStore
from projections.events import decoders
from projections.model import ReadModel
from projections.rows import Rows, pg_loader, write_changes

APPLICATION_NAME = "BillingLedger"
"""The name the write side's application records under (tracking rows carry it)."""
PAGE_EVENTS = 50_000

Progress = Callable[[int], None]


class LedgerReader(Application[UUID]):
    """The firm's ledger opened for reading: same store, same codec, same name."""

    name = APPLICATION_NAME


def reader_env(store: FirmStore) -> dict[str, str]:
    return {**store.environment(), "TRANSCODER_TOPIC": TRANSCODER_TOPIC,
            "MAPPER_TOPIC": MAPPER_TOPIC, "CIPHER_TOPIC": SEALER_TOPIC}


class ReadModelRecorder(PostgresTrackingRecorder):
    """A materialised view: the library's tracking table plus a model's tables."""

    def ensure_model(self, model: ReadModel) -> None:
        with self.datastore.transaction(commit=True) as curs:
            lock(curs, model)
            for t in model.tables:
                curs.execute(t.create(self.datastore.schema))
                for statement in t.create_indexes(self.datastore.schema):
                    curs.execute(statement)

    def reset_model(self, model: ReadModel) -> None:
        """Drop the model's rows and its position, in one transaction."""
        with self.datastore.transaction(commit=True) as curs:
            lock(curs, model)
            for t in model.tables:
                curs.execute(t.drop(self.datastore.schema))
                curs.execute(t.create(self.datastore.schema))
                for statement in t.create_indexes(self.datastore.schema):
                    curs.execute(statement)
            curs.execute(SQL("DELETE FROM {s}.{t} WHERE application_name = %s").format(
                s=Identifier(self.datastore.schema), t=Identifier(self.tracking_table_name)),
                (APPLICATION_NAME,))

    def position_for_update(self, curs: Cursor[Any]) -> int:
        curs.execute(SQL("SELECT notification_id FROM {s}.{t} WHERE application_name = %s "
                         "FOR UPDATE").format(s=Identifier(self.datastore.schema),
                                              t=Identifier(self.tracking_table_name)),
                     (APPLICATION_NAME,))
        row = curs.fetchone()
        return int(row["notification_id"]) if row else 0

    def track(self, curs: Cursor[Any], position: int) -> None:
        self._insert_tracking(curs, Tracking(APPLICATION_NAME, position))


def lock(curs: Cursor[Any], model: ReadModel) -> None:
    """Serialise writers of one model (rebuild, catch-up, live) within a transaction."""
    curs.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                 (f"legal-ledger read model {model.projection_name}",))


def open_view(store: FirmStore, model: ReadModel) -> ReadModelRecorder:
    """The model's view through the library's factory, as ``ProjectionRunner`` builds it."""
    env = Environment(model.projection_name, reader_env(store))
    view = InfrastructureFactory[ReadModelRecorder].construct(env=env).tracking_recorder(
        ReadModelRecorder)
    view.ensure_model(model)
    return view


@contextmanager
def opened_views(store: FirmStore, models: list[ReadModel]) -> Iterator[list[ReadModelRecorder]]:
    views = [open_view(store, m) for m in models]
    try:
        yield views
    finally:
        for v in views:
            v.datastore.close()


class PositionMovedError(Exception):
    """Another writer moved a model's position: fold again from the new one."""


def head_position(store: FirmStore) -> int:
    with store.location.connect() as conn:
        row = conn.execute(SQL("SELECT coalesce(max(notification_id), 0) FROM {s}.{t}").format(
            s=Identifier(store.schema), t=Identifier(store.events_table))).fetchone()
    return int(row[0]) if row else 0


def read_events(conn: Any, store: FirmStore, after: int, upto: int,
                topics: list[str]) -> list[tuple[int, UUID, int, str, bytes]]:
    """Events in ``(after, upto]`` with these topics, in position order."""
    return list(conn.execute(
        SQL("SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {s}.{t} WHERE notification_id > %s AND notification_id <= %s "
            "AND topic = ANY(%s) ORDER BY notification_id").format(
            s=Identifier(store.schema), t=Identifier(store.events_table)),
        (after, upto, topics), binary=True).fetchall())


def catch_up(store: FirmStore, models: list[ReadModel], *, rebuild: bool = False,
             page: int = PAGE_EVENTS, upto: int | None = None,
             progress: Progress | None = None) -> int:
    """Bring the models' tables up to the head (or ``upto``); returns the position.

    One pass over the events feeds every model; each page is one transaction
    per all models: rows written with COPY, positions moved. With ``rebuild``
    the models are dropped first and rebuilt from position 0.
    """
    with opened_views(store, models) as views:
        if rebuild:
            for model, view in zip(models, views, strict=True):
                view.reset_model(model)
        # The fold allocates many small, long-lived dicts: the cyclic collector's
        # full passes over them would dominate a rebuild, and rows hold no cycles.
        collecting = gc.isenabled()
        gc.disable()
        try:
            while True:
                try:
                    return _catch_up(store, models, views, page=page, upto=upto,
                                     progress=progress)
                except PositionMovedError:
                    continue
        finally:
            if collecting:
                gc.enable()


def _catch_up(store: FirmStore, models: list[ReadModel], views: list[ReadModelRecorder],
              *, page: int, upto: int | None, progress: Progress | None) -> int:
    positions = [v.max_tracking_id(APPLICATION_NAME) or 0 for v in views]
    topics = sorted({t for m in models for t in m.topics})
    decode = decoders(set(topics), sealing_for_store(store).open)
    folds = [m.fold_for_topic() for m in models]
    # From position 0 the rows in memory are the whole model: no lookups needed.
    loaders: list[Any] = [None if p == 0 else "db" for p in positions]
    rows_of: list[Rows] = [m.new_rows() for m in models]
    for i, loader in enumerate(loaders):
        if loader is not None:
            rows_of[i].written = None  # rows already in the table: always upsert
    start = min(positions)
    with store.location.connect() as read:
        while True:
            head = upto if upto is not None else head_position(store)
            if start >= head:
                return head
            end = min(start + page, head)
            events = read_events(read, store, start, end, topics)
            with views[0].datastore.transaction(commit=True) as curs:
                for i, model in enumerate(models):
                    lock(curs, model)
                    if views[i].position_for_update(curs) != positions[i]:
                        raise PositionMovedError
                    if loaders[i] is not None:
                        rows_of[i].loader = pg_loader(curs, store.schema)
                for pos, oid, version, topic, state in events:
                    fact = decode[topic](oid, version, topic, state)
                    for i, fold_of in enumerate(folds):
                        fold = fold_of.get(topic)
                        if fold is not None and pos > positions[i]:
                            fold(rows_of[i], pos, oid, fact)
                for i in range(len(models)):
                    if end > positions[i]:
                        write_changes(curs, store.schema, rows_of[i])
                        views[i].track(curs, end)
            for i in range(len(models)):
                rows_of[i].committed()
                positions[i] = max(positions[i], end)
            start = end
            if progress:
                progress(end)


def apply_one(view: ReadModelRecorder, model: ReadModel, position: int, oid: UUID,
              fact: Any) -> bool:
    """Apply one event in its own transaction (the live path); False if already applied."""
    fold = model.fold_for_topic().get(_topic_of(fact))
    with view.datastore.transaction(commit=True) as curs:
        lock(curs, model)
        if view.position_for_update(curs) >= position:
            return False
        schema = view.datastore.schema
        rows = model.new_rows(pg_loader(curs, schema))
        if fold is not None:
            fold(rows, position, oid, fact)
        write_changes(curs, schema, rows)
        view.track(curs, position)
    return True


def _topic_of(fact: Any) -> str:
    from projections.events import TOPIC_OF

    return TOPIC_OF[type(fact)]
