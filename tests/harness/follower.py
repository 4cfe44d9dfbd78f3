"""A projection follower process: keeps every read model caught up during the run.

It is the "live" read side the checker compares with a rebuild from zero. It
runs the tracked catch-up in a loop, so it suffers the same terminated
connections and server restart as the writers (and may itself be SIGKILLed).
"""

from __future__ import annotations

import time
from pathlib import Path

from ledger.database import DatabaseLocation
from ledger.store.firm import FirmStore
from projections.catalog import MODELS
from projections.tracking import catch_up
from tests.harness.journal import Fixture

POLL_SECONDS = 0.3
MAX_ROUNDS = 100_000


def follower_main(workdir: str) -> None:
    import logging

    logging.disable(logging.CRITICAL)
    fixture = Fixture.load(Path(workdir) / "run.json")
    store = FirmStore(DatabaseLocation(fixture.url, embedded=True), fixture.firm, pool_size=2)
    models = list(MODELS.values())
    for _ in range(MAX_ROUNDS):
        if time.time() >= fixture.deadline:
            return
        try:
            catch_up(store, models, page=200)
        except Exception:  # lost connection, server restarting: try again
            time.sleep(0.5)
            continue
        time.sleep(POLL_SECONDS)
