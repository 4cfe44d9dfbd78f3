"""Keeping read models live: the library's ``ProjectionRunner`` per model,
subscribed to the store through LISTEN/NOTIFY, applying each event in its own
tracked transaction.

A runner starts after the model's tracked position. Before starting runners,
``run_live`` catches up in batches (much faster than one transaction per event
when far behind). A rebuild running meanwhile holds the model's advisory lock;
the runner waits for it and then skips whatever the rebuild already applied.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from ledger.store.firm import FirmStore
from projections.events import from_domain_event, slim_for_topic
from projections.model import ReadModel
from projections.reading import APPLICATION_NAME
from projections.tracking import (
    LedgerReader,
    ReadModelRecorder,
    apply_one,
    catch_up,
    reader_env,
)


class ReadModelProjection(Projection[ReadModelRecorder]):
    """The library's projection applying one model's folds, one event per transaction."""

    model: ClassVar[ReadModel]

    def __init__(self, view: ReadModelRecorder) -> None:
        super().__init__(view)
        view.ensure_model(self.model)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        slim = slim_for_topic(get_topic(type(domain_event)))
        if slim is None:  # pragma: no cover - the subscription filters by topic
            return
        apply_one(self.view, self.model, tracking.notification_id,
                  domain_event.originator_id, from_domain_event(slim, domain_event))


def projection_class(model: ReadModel) -> type[ReadModelProjection]:
    """A projection class for one model (named after it: names its tracking table)."""
    return type(f"{model.name.title()}Projection", (ReadModelProjection,), {
        "name": model.projection_name, "topics": model.topics, "model": model})


Runner = ProjectionRunner[LedgerReader, ReadModelRecorder]


@contextmanager
def live_runners(store: FirmStore, models: list[ReadModel]) -> Iterator[list[Runner]]:
    """Started runners for the models (stopped on exit)."""
    with ExitStack() as stack:
        runners: list[Runner] = []
        for model in models:
            runner: Runner = ProjectionRunner(
                application_class=LedgerReader, projection_class=projection_class(model),
                view_class=ReadModelRecorder, env=reader_env(store))
            runners.append(stack.enter_context(runner))
        yield runners


def wait_for(store: FirmStore, runners: list[Runner], position: int,
             timeout: float = 10.0) -> None:
    """Block until every runner's model has applied everything up to ``position``.

    A model tracks only the events of its topics, so it waits for the last of
    those at or before ``position``.
    """
    for runner in runners:
        assert isinstance(runner.projection, ReadModelProjection)
        last = last_position_of(store, runner.projection.model.topics, position)
        if last:
            runner.wait(last, timeout=timeout)


def last_position_of(store: FirmStore, topics: tuple[str, ...], upto: int) -> int:
    with store.location.connect() as conn:
        row = conn.execute(SQL(
            "SELECT max(notification_id) FROM {s}.{t} WHERE notification_id <= %s "
            "AND topic = ANY(%s)").format(s=Identifier(store.schema),
                                         t=Identifier(store.events_table)),
            (upto, list(topics))).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def run_live(store: FirmStore, models: list[ReadModel], stop: threading.Event,
             poll_seconds: float = 0.5) -> None:
    """Catch up in batches, then follow the ledger until ``stop`` is set."""
    catch_up(store, models)
    with live_runners(store, models) as runners:
        while not stop.is_set():
            for runner in runners:
                runner.run_forever(timeout=poll_seconds / max(len(runners), 1))


__all__ = ["APPLICATION_NAME", "live_runners", "projection_class", "run_live", "wait_for"]
