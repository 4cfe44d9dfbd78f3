"""Appends through the whole application path: the plain eventsourcing recorder
versus the ledger (hash chain *and* per-client sealing), same events, same run.

Each writer process runs the project's eventsourcing application: a ``Matter``
aggregate logs time entries with a narrative (a confidential field, so every
event is sealed on the ledger side) and saves them, ``batch`` events a save.
The two kinds differ only in what the library is told to use:

* ``plain``: the library's own PostgreSQL persistence (``eventsourcing.postgres``),
  no field sealing: the baseline;
* ``ledger``: the chained recorder and the AES-256-GCM field sealer, as in
  production.

Used by ``scripts/bench``; not a test.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import secrets
import time
from datetime import date
from uuid import UUID, uuid4

from commands.ledger_app import BillingLedger, ledger_env
from ledger.crypto import close_engines
from ledger.database import DatabaseLocation
from ledger.domain.events import Arrangement
from ledger.domain.matter import Matter
from ledger.store.firm import FirmStore

KINDS = ("plain", "ledger")
NARRATIVE = "Reviewed the counterparty's disclosure and drafted a privileged memo " * 2
ENTRIES_PER_MATTER = 2_000  # a new matter after this many, so loading stays cheap


def ensure_kek() -> None:
    """A throwaway key-encryption key for the run, unless one is configured."""
    if not any(os.environ.get(v) for v in ("LEDGER_KEK", "LEDGER_KEK_FILE",
                                           "LEDGER_KEK_PROVIDER")):
        os.environ["LEDGER_KEK"] = base64.b64encode(secrets.token_bytes(32)).decode()


def app_env(url: str, kind: str, firm: str, *, create: bool = False) -> dict[str, str]:
    store = FirmStore(DatabaseLocation(url, False), firm, pool_size=2)
    env = {**ledger_env(store), "CREATE_TABLE": "yes" if create else "no"}
    if kind == "plain":
        del env["CIPHER_TOPIC"]
        del env["EVENTS_TABLE"]
        env["PERSISTENCE_MODULE"] = "eventsourcing.postgres"
    return env


def prepare(url: str, kind: str, firm: str) -> None:
    """A fresh schema, with its tables made once (writers must not race to create)."""
    store = FirmStore(DatabaseLocation(url, False), firm)
    with store.location.connect() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
        conn.execute(f'CREATE SCHEMA "{store.schema}"')
    if kind == "ledger":
        store.ensure()
    BillingLedger(env=app_env(url, kind, firm, create=True)).close()


def new_matter(client_id: UUID | None = None) -> Matter:
    matter = Matter.open(matter_id=uuid4(), actor="bench", effective_on=date(2024, 1, 2),
                         client_id=client_id or uuid4(), currency="USD", utbms=False,
                         arrangement=Arrangement(kind="hourly", increment_minutes=6),
                         title="Bench v. Mark")
    return matter


def writer(url: str, kind: str, firm: str, batch: int, seconds: float,
           out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    os.environ["LEDGER_DATABASE_URL"] = url
    app = BillingLedger(env=app_env(url, kind, firm))
    matter = new_matter()
    app.save(matter)  # the client's data key is made here, outside the measurement
    latencies: list[float] = []
    count = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        if len(matter.entries) >= ENTRIES_PER_MATTER:
            matter = new_matter(matter.client_id)
            app.save(matter)
        for _ in range(batch):
            matter.log_time(actor="bench", entry_id=uuid4(), timekeeper_id="PA",
                            work_on=date(2024, 1, 3), minutes=42, task_code=None,
                            activity_code=None, billable=True, narrative=NARRATIVE)
        started = time.perf_counter()
        app.save(matter)
        latencies.append(time.perf_counter() - started)
        count += batch
    app.close()
    close_engines()
    out.put((count, latencies))


def drop(url: str, firm: str) -> None:
    """Drop a bench firm: its schema, then its application role."""
    store = FirmStore(DatabaseLocation(url, False), firm)
    with store.location.connect() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
        conn.execute(f'DROP ROLE IF EXISTS "{store.app_role}"')
