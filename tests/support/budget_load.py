"""A real ``ledger serve`` under a mixed load, and the connections it holds.

(No tests here.) Used by ``test_connection_budget.py`` and, as a script, to
measure any checkout the same way::

    LEDGER_DATABASE_URL=... python -m tests.support.budget_load [--pool-size N]

prints the most connections the server process held at once (all of them,
and those tagged ``legal-ledger/serve``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
from psycopg.conninfo import conninfo_to_dict

ROOT = Path(__file__).resolve().parent.parent
_keys = itertools.count(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ledger_env(url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "LEDGER_DATABASE_URL": url, "PYTHONPATH": str(ROOT), **extra}


def ledger_cli(url: str, firm: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ledger", "--firm", firm, *argv],
                          env=ledger_env(url), capture_output=True, text=True, timeout=120,
                          check=False)


@dataclass
class Served:
    """A ``ledger serve`` subprocess and what the test knows about it."""

    process: subprocess.Popen[str]
    base: str
    url: str
    firm: str
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def headers(self, who: str = "admin", *, post: bool = False) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.tokens[who]}"}
        if post:
            h["Idempotency-Key"] = f"budget-{uuid.uuid4().hex}-{next(_keys)}"
        return h


@contextmanager
def serve(url: str, firm: str, *argv: str, env: dict[str, str] | None = None,
          serve_argv: tuple[str, ...] = ()) -> Iterator[Served]:
    """``ledger --firm FIRM [ARGV] serve [SERVE_ARGV]`` on a free loopback port, stopped
    on exit."""
    port = free_port()
    made = ledger_cli(url, firm, "keys", "create", "--principal", "admin",
                      "--role", "firm_admin", "--json")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    process = subprocess.Popen(
        [sys.executable, "-m", "ledger", "--firm", firm, *argv, "serve", "--port", str(port),
         *serve_argv],
        env={**ledger_env(url), **(env or {})}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True)
    served = Served(process, f"http://127.0.0.1:{port}", url, firm, {"admin": token})
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                if httpx.get(served.base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "ledger serve did not start"
            time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def over_tcp(url: str) -> bool:
    host = str(conninfo_to_dict(url).get("host") or "")
    return not host.startswith("/")


def held_connections(conn: psycopg.Connection[Any], pid: int, role: str,
                     *, tcp: bool = True, every_client: bool = False
                     ) -> tuple[int, int, list[str]]:
    """(connections of process ``pid``, those of them tagged ``legal-ledger/<role>``,
    their application names), from ``pg_stat_activity`` joined on the process's
    TCP source ports. Over a Unix socket (the tests' private embedded server) a
    connection has no port: those tagged with the role are counted instead, or
    with ``every_client`` every client but this one (a server of the run's own,
    for a build that tags nothing)."""
    tag = f"legal-ledger/{role}"
    if not tcp:
        rows = conn.execute(
            "SELECT application_name FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
            " AND backend_type = 'client backend' AND (%s OR application_name LIKE %s)",
            (every_client, tag + "%")).fetchall()
        names = sorted(str(r[0]) for r in rows)
        return len(names), sum(1 for n in names if n.startswith(tag)), names
    try:
        ports = {c.laddr.port for c in psutil.Process(pid).net_connections(kind="tcp")
                 if c.raddr and c.status == psutil.CONN_ESTABLISHED}
    except psutil.Error:
        return 0, 0, []
    if not ports:
        return 0, 0, []
    rows = conn.execute(
        "SELECT application_name FROM pg_stat_activity WHERE client_port = ANY(%s)"
        " AND pid <> pg_backend_pid()", (sorted(ports),)).fetchall()
    names = sorted(str(r[0]) for r in rows)
    return len(names), sum(1 for n in names if n.startswith(tag)), names


class Sampler:
    """Samples :func:`held_connections` every ``every`` seconds in a thread."""

    def __init__(self, url: str, pid: int, role: str = "serve", every: float = 0.02, *,
                 every_client: bool = False) -> None:
        self.url, self.pid, self.role, self.every = url, pid, role, every
        self.tcp, self.every_client = over_tcp(url), every_client
        self.most = self.most_tagged = 0
        self.names_at_most: list[str] = []
        self.samples = 0
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # One connection of its own for the whole run: a busy server may refuse new ones.
        with psycopg.connect(self.url, autocommit=True) as conn:
            self._ready.set()
            while not self._stop.is_set():
                self._sample(conn)
                self._stop.wait(self.every)

    def _sample(self, conn: psycopg.Connection[Any]) -> None:
        total, tagged, names = held_connections(conn, self.pid, self.role, tcp=self.tcp,
                                                every_client=self.every_client)
        self.samples += 1
        if total > self.most:
            self.most, self.names_at_most = total, names
        self.most_tagged = max(self.most_tagged, tagged)

    def __enter__(self) -> Sampler:
        self._thread.start()
        assert self._ready.wait(20), "the sampler could not connect"
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def seed(served: Served) -> dict[str, str]:
    """Firm, timekeeper, a client with a matter: what the load's commands need."""
    def ok(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = httpx.post(served.base + path, json=body, headers=served.headers(post=True),
                       timeout=30)
        assert r.status_code == 201, r.text
        data: dict[str, Any] = r.json()
        return data

    ok("/v1/firm/setup", {"currency": "USD", "invoice_prefix": "INV-",
                          "effective_on": "2024-01-01"})
    ok("/v1/timekeepers", {"timekeeper_id": "tk1", "name": "Pat Partner", "title": "PARTNR",
                           "default_rate_minor_per_hour": 50000, "effective_on": "2024-01-01"})
    client = ok("/v1/clients", {"name": "Load Client", "billing_contact": "ap@load.example",
                                "currency": "USD", "payment_terms_days": 30,
                                "effective_on": "2024-01-02"})["client_id"]
    matter = ok(f"/v1/clients/{client}/matters", {"title": "Load matter",
                                                  "opened_on": "2024-01-03"})["matter_id"]
    return {"client": client, "matter": matter}


Job = Callable[[httpx.Client], httpx.Response]


def requests_mix(served: Served, ids: dict[str, str], count: int) -> list[Job]:
    """``count`` requests: commands (time entries), reads, the pull feed, readiness."""
    days = itertools.count(1)

    def log_time(c: httpx.Client) -> httpx.Response:
        # A day each, as a team's entries would be, so commands rarely retry.
        work_on = f"2024-{1 + next(days) % 12:02d}-{1 + next(days) % 28:02d}"
        return c.post(f"/v1/matters/{ids['matter']}/time-entries", headers=served.headers(
            post=True), json={"timekeeper_id": "tk1", "work_on": work_on,
                              "minutes": 30, "narrative": "Load"})

    def statement(c: httpx.Client) -> httpx.Response:
        return c.get(f"/v1/clients/{ids['client']}/statement", headers=served.headers())

    def feed(c: httpx.Client) -> httpx.Response:
        return c.get("/v1/events", params={"after": 0, "limit": 50}, headers=served.headers())

    def ready(c: httpx.Client) -> httpx.Response:
        return c.get("/readyz")

    kinds = [log_time, log_time, statement, feed, ready]
    return [kinds[i % len(kinds)] for i in range(count)]


@dataclass
class LoadResult:
    statuses: list[int]
    failures: list[str]
    stream_events: int
    webhook_deliveries: int
    seconds: float


def drive(served: Served, ids: dict[str, str], *, concurrent: int = 50,
          hook_url: str | None = None, delivered: Callable[[], int] = lambda: 0
          ) -> LoadResult:
    """An open SSE stream, then ``concurrent`` mixed requests all at once."""
    seen: list[int] = []
    streaming = threading.Event()

    def stream() -> None:
        with httpx.stream("GET", served.base + "/v1/events/stream", timeout=60,
                          params={"after": 0, "heartbeat": 0.2},
                          headers=served.headers()) as r:
            streaming.set()
            for line in r.iter_lines():
                if line.startswith("id: "):
                    seen.append(int(line[4:]))
                if len(seen) >= 20:
                    return

    reader = threading.Thread(target=stream, daemon=True)
    reader.start()
    streaming.wait(20)
    if hook_url is not None:
        r = httpx.post(served.base + "/v1/webhooks", headers=served.headers(post=True),
                       json={"url": hook_url, "scope": ["firm"]}, timeout=30)
        assert r.status_code == 201, r.text
    jobs = requests_mix(served, ids, concurrent)
    start = threading.Barrier(concurrent)
    with httpx.Client(base_url=served.base, timeout=60,
                      limits=httpx.Limits(max_connections=concurrent)) as client:
        def run(job: Job) -> httpx.Response:
            start.wait()
            return job(client)

        started = time.monotonic()
        with ThreadPoolExecutor(concurrent) as pool:
            responses = list(pool.map(run, jobs))
        seconds = time.monotonic() - started
    reader.join(timeout=20)
    return LoadResult([r.status_code for r in responses],
                      [f"{r.request.url.path}: {r.status_code} {r.text[:200]}"
                       for r in responses if r.status_code >= 300], len(seen), delivered(),
                      seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pool-size", type=int, default=None)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--every-client", action="store_true",
                        help="over a Unix socket, count every client of the server")
    args = parser.parse_args()
    url = os.environ["LEDGER_DATABASE_URL"]
    firm = "bud" + uuid.uuid4().hex[:10]
    extra = ["--pool-size", str(args.pool_size)] if args.pool_size else []
    try:
        with serve(url, firm, *extra) as served:
            ids = seed(served)
            with Sampler(url, served.pid, every_client=args.every_client) as sampler:
                result = drive(served, ids, concurrent=args.concurrent)
                time.sleep(1.0)
            print(json.dumps({"max_held": sampler.most, "max_tagged": sampler.most_tagged,
                              "samples": sampler.samples,
                              "statuses": sorted(set(result.statuses)),
                              "failures": result.failures, "seconds": round(result.seconds, 2),
                              "stream_events": result.stream_events,
                              "names_at_max": sampler.names_at_most}))
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "firm_{firm}" CASCADE')
            conn.execute(f'DROP ROLE IF EXISTS "firm_{firm}_app"')


if __name__ == "__main__":
    main()
