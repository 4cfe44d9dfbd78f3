"""Tracked writing of read models: the library's tracking recorder, extended with
the model's tables, and the batch driver used to catch up and to rebuild.

Exactly once: every transaction that changes a model's rows also moves the
model's tracking position (``PostgresTrackingRecorder._insert_tracking``, which
refuses to move it backwards or sideways), under a per-model advisory lock, and
first checks that the position is still the one the rows were folded from. A
crash anywhere loses the whole transaction, rows and position together, and the
next run starts after the last committed position.

How a rebuild is fast and still exactly once: the next page of events is read
by a thread while the current one folds; from position 0 (no fold reads the
tables) a page's rows are encoded as COPY text and handed to a writer thread,
which runs the same transaction as above (lock, position check, rows, position)
while the next page folds, and at most one such write is in flight. A large
rebuild splits the models in two groups, the second folded by a child process
with transactions of its own: each model's rows and position still move
together, and a failure on either side leaves every model at its last commit.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
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
from ledger.errors import LedgerError
from ledger.store.firm import FirmStore
from projections.events import Decode, decoders
from projections.model import Fold, ReadModel
from projections.reading import (
    APPLICATION_NAME,
    head_if_current,
    head_position,
    read_pages,
)
from projections.rows import (
    Rows,
    TableChanges,
    encode_changes,
    pg_loader,
    write_changes,
    write_encoded,
)

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

    def reset_model(self, model: ReadModel, *, indexes: bool = True) -> None:
        """Drop the model's rows and its position, in one transaction. Without
        ``indexes`` the tables get only their primary keys: a rebuild loads them
        first and indexes them after (``ensure_model``), which is much cheaper
        than keeping secondary indexes up to date row by row."""
        with self.datastore.transaction(commit=True) as curs:
            lock(curs, model)
            for t in model.tables:
                curs.execute(t.drop(self.datastore.schema))
                curs.execute(t.create(self.datastore.schema))
                for statement in t.create_indexes(self.datastore.schema) if indexes else ():
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


SPLIT_EVENTS = 200_000
"""A rebuild of at least this many events (of several models, on a machine with more
than one core) folds its models in two processes."""


def catch_up(store: FirmStore, models: list[ReadModel], *, rebuild: bool = False,
             page: int = PAGE_EVENTS, upto: int | None = None,
             progress: Progress | None = None, processes: int | None = None) -> int:
    """Bring the models' tables up to the head (or ``upto``); returns the position.

    One pass over the events feeds every model; each page is one transaction
    per all models: rows written with COPY, positions moved. With ``rebuild``
    the models are dropped first and rebuilt from position 0, with their
    secondary indexes made at the end, and (``processes=2``, the default for a
    large ledger) split in two groups folded by two processes, each group
    tracked exactly as above: the fold is Python and takes one core, PostgreSQL
    and the other group the other.
    """
    if not rebuild and upto is None and (current := head_if_current(store, models)) is not None:
        return current
    # One catch-up at a time in a process: concurrent ones (every read request
    # when the models lag) would each hold pool connections while waiting on the
    # first one's advisory locks, and can spend the whole pool between them.
    with _catch_up_lock(store):
        if not rebuild and upto is None and (
                current := head_if_current(store, models)) is not None:
            return current
        return _catch_up_now(store, models, rebuild=rebuild, page=page, upto=upto,
                             progress=progress, processes=processes)


_CATCH_UPS: dict[tuple[str, str], threading.Lock] = {}
_CATCH_UPS_LOCK = threading.Lock()


def _catch_up_lock(store: FirmStore) -> threading.Lock:
    with _CATCH_UPS_LOCK:
        return _CATCH_UPS.setdefault((store.location.url, store.schema), threading.Lock())


def _catch_up_now(store: FirmStore, models: list[ReadModel], *, rebuild: bool, page: int,
                  upto: int | None, progress: Progress | None, processes: int | None) -> int:
    with opened_views(store, models) as views:
        if rebuild:
            for model, view in zip(models, views, strict=True):
                view.reset_model(model, indexes=False)
            if processes is None:
                processes = _processes_for(store, models, upto)
        groups = split_models(models, processes or 1)
        if len(groups) > 1:
            upto = head_position(store) if upto is None else upto  # one end for both
            position = _in_two_processes(store, models, views, groups, page=page, upto=upto,
                                         progress=progress)
        else:
            position = _tracked(store, models, views, page=page, upto=upto, progress=progress)
        if rebuild:  # the indexes left out (``open_view`` makes them if this was cut short)
            for model, view in zip(models, views, strict=True):
                view.ensure_model(model)
        return position


def _tracked(store: FirmStore, models: list[ReadModel], views: list[ReadModelRecorder], *,
             page: int, upto: int | None, progress: Progress | None) -> int:
    # The fold allocates many small, long-lived dicts: the cyclic collector's
    # full passes over them would dominate a rebuild, and rows hold no cycles.
    collecting = gc.isenabled()
    gc.disable()
    try:
        while True:
            try:
                return _catch_up(store, models, views, page=page, upto=upto, progress=progress)
            except PositionMovedError:
                continue
    finally:
        if collecting:
            gc.enable()


def _processes_for(store: FirmStore, models: list[ReadModel], upto: int | None) -> int:
    """Two for a large rebuild of the catalog's models with a spare core, else one."""
    from projections.catalog import MODELS

    if len(models) < 2 or (os.cpu_count() or 1) < 2:
        return 1
    if any(MODELS.get(m.name) is not m for m in models):
        return 1  # the other process can only look models up by name in the catalog
    size = upto if upto is not None else head_position(store)
    return 2 if size >= SPLIT_EVENTS else 1


def split_models(models: list[ReadModel], parts: int) -> list[list[ReadModel]]:
    """The models in at most ``parts`` groups of about equal weight (heaviest first)."""
    groups: list[list[ReadModel]] = [[] for _ in range(max(1, min(parts, len(models))))]
    weights = [0] * len(groups)
    for model in sorted(models, key=lambda m: -m.weight):
        lightest = weights.index(min(weights))
        groups[lightest].append(model)
        weights[lightest] += model.weight
    return [g for g in groups if g]


class RebuildError(LedgerError):
    """The process rebuilding the other group of models failed."""

    type = "rebuild-failed"


def _in_two_processes(store: FirmStore, models: list[ReadModel],
                      views: list[ReadModelRecorder], groups: list[list[ReadModel]], *,
                      page: int, upto: int, progress: Progress | None) -> int:
    """Fold the first group here and the second in a child Python process (started
    afresh, not forked: a fork would copy this process's pool threads and
    connections). If this side fails, the child is killed: its open transaction
    is lost, never half-applied, and the next catch-up resumes from its positions."""
    mine, theirs = groups
    own_views = [views[models.index(m)] for m in mine]
    budget = store.location.budget
    request = json.dumps({
        "url": store.location.url, "embedded": store.location.embedded, "firm": store.firm,
        "events_table": store.events_table,
        "pool_size": budget.size if budget is not None else store.pool_size,
        "models": [m.name for m in theirs], "page": page, "upto": upto})
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen(
        [sys.executable, "-c", "from projections.tracking import child_main; child_main()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(request)
        child.stdin.close()
        position = _tracked(store, mine, own_views, page=page, upto=upto, progress=progress)
        out = child.stdout.read()
        child.wait()
    except BaseException:
        child.kill()
        child.wait()
        raise
    answer = json.loads(out or "{}")
    if child.returncode != 0 or "position" not in answer:
        raise RebuildError(f"rebuilding {', '.join(m.name for m in theirs)} failed: "
                           f"{answer.get('error', f'exit status {child.returncode}')}")
    return min(position, int(answer["position"]))


def child_main() -> None:
    """The child of :func:`_in_two_processes`: a JSON request on stdin, a JSON answer
    (the position, or the error) on stdout; a traceback goes to stderr."""
    from ledger.database import DatabaseLocation
    from ledger.settings import Settings
    from ledger.store.pool import budgeted
    from projections.catalog import MODELS

    request = json.loads(sys.stdin.read())
    # This worker is a process of its own: its own budget, tagged legal-ledger/rebuild
    # (the budget alone: a worker needs no other part of the composition root).
    location = budgeted(DatabaseLocation(request["url"], request["embedded"]),
                        role="rebuild", size=request["pool_size"],
                        wait=Settings().pool_wait_seconds)
    store = FirmStore(location, request["firm"], events_table=request["events_table"],
                      pool_size=request["pool_size"])
    try:
        position = catch_up(store, [MODELS[n] for n in request["models"]],
                            page=request["page"], upto=request["upto"], processes=1)
    except Exception as exc:
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), flush=True)
        raise
    finally:
        assert location.budget is not None
        location.budget.close()
    print(json.dumps({"position": position}), flush=True)


def _write_page(store: FirmStore, models: list[ReadModel], views: list[ReadModelRecorder], *,
                positions: list[int], end: int, changes: list[list[TableChanges]]) -> None:
    """One transaction: check every model is still where its rows were folded from,
    write the rows, move the positions to ``end``."""
    with views[0].datastore.transaction(commit=True) as curs:
        for i, model in enumerate(models):
            lock(curs, model)
            if views[i].position_for_update(curs) != positions[i]:
                raise PositionMovedError
        for i in range(len(models)):
            if end > positions[i]:
                write_encoded(curs, store.schema, changes[i])
                views[i].track(curs, end)


def _catch_up(store: FirmStore, models: list[ReadModel], views: list[ReadModelRecorder],
              *, page: int, upto: int | None, progress: Progress | None) -> int:
    positions = [v.max_tracking_id(APPLICATION_NAME) or 0 for v in views]
    topics = sorted({t for m in models for t in m.topics})
    decode = decoders(set(topics), sealing_for_store(store).open)
    folds = [m.fold_for_topic() for m in models]
    # From position 0 the rows in memory are the whole model: no lookups needed, so a
    # page's rows are encoded here and written by another thread while the next page
    # folds. Otherwise a fold may load rows inside the page's own transaction.
    from_scratch = not any(positions)
    rows_of: list[Rows] = [m.new_rows() for m in models]
    for rows, position in zip(rows_of, positions, strict=True):
        if position:
            rows.written = None  # rows already in the table: always upsert
    head = start = min(positions)
    with ThreadPoolExecutor(1, thread_name_prefix="read-model-writer") as writer:
        writing: Future[None] | None = None
        writing_end = start
        with closing(read_pages(store, start, topics, page=page, upto=upto)) as pages:
            for end, events in pages:
                head = end
                if from_scratch:
                    _fold_page(events, decode, folds, rows_of, positions)
                    changes = [encode_changes(rows) for rows in rows_of]
                    for rows in rows_of:
                        rows.committed()
                    if writing is not None:
                        writing.result()
                        if progress:
                            progress(writing_end)
                    writing = writer.submit(_write_page, store, models, views,
                                            positions=list(positions), end=end, changes=changes)
                    writing_end = end
                else:
                    with views[0].datastore.transaction(commit=True) as curs:
                        for i, model in enumerate(models):
                            lock(curs, model)
                            if views[i].position_for_update(curs) != positions[i]:
                                raise PositionMovedError
                            if positions[i]:
                                rows_of[i].loader = pg_loader(curs, store.schema)
                        _fold_page(events, decode, folds, rows_of, positions)
                        for i in range(len(models)):
                            if end > positions[i]:
                                write_changes(curs, store.schema, rows_of[i])
                                views[i].track(curs, end)
                    for rows in rows_of:
                        rows.committed()
                    if progress:
                        progress(end)
                positions = [max(p, end) for p in positions]
        if writing is not None:
            writing.result()
            if progress:
                progress(writing_end)
    return head if upto is None else upto


def _fold_page(events: list[tuple[int, UUID, int, str, bytes]], decode: dict[str, Decode],
               folds: list[dict[str, Fold]], rows_of: list[Rows], positions: list[int]) -> None:
    """Fold one page of events into every model past its position."""
    plans: dict[str, list[tuple[Fold, Rows, int]]] = {
        topic: [(f[topic], rows_of[i], positions[i]) for i, f in enumerate(folds)
                if topic in f] for topic in decode}
    for pos, oid, version, topic, state in events:
        fact = decode[topic](oid, version, topic, state)
        for fold, rows, position in plans[topic]:
            if pos > position:
                fold(rows, pos, oid, fact)


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
