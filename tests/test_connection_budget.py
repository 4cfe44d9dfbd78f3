"""One connection budget per process: a real ``ledger serve`` never holds more than
its pool plus LISTEN (and one COPY), every connection is tagged, and a spent pool
is a clear 503 / exit 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from ledger import bootstrap
from ledger.cli import main
from ledger.database import DatabaseLocation
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from tests.support.budget_load import Sampler, drive, ledger_env, seed, serve
from tests.support.firms import drop_firm, new_firm_name
from tests.support.subscribers import Receiver, wait_until

POOL_SIZE = 10
EXTRA = 2
"""Outside the pool: the one LISTEN connection, and one COPY at most."""


@pytest.fixture
def firm(database: DatabaseLocation) -> Iterator[FirmStore]:
    """A firm name of its own for the server (its schema is made by the server)."""
    store = FirmStore(database, new_firm_name())
    try:
        yield store
    finally:
        drop_firm(database, store)


def test_serve_stays_within_its_budget_under_fifty_concurrent_mixed_requests(
        firm: FirmStore) -> None:
    url = firm.location.url
    receiver = Receiver()
    with serve(url, firm.firm, "--pool-size", str(POOL_SIZE)) as served:
        ids = seed(served)
        deliverer = subprocess.Popen(
            [sys.executable, "-m", "ledger", "--firm", firm.firm, "--pool-size", "2",
             "webhooks", "deliver", "--seconds", "60"],
            env=ledger_env(url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            with Sampler(url, served.pid) as sampler, \
                    Sampler(url, deliverer.pid, "webhooks") as worker:
                result = drive(served, ids, concurrent=50, hook_url=receiver.url,
                               delivered=lambda: len(receiver.received))
                wait_until(lambda: len(receiver.received) > 0, timeout=30)
                time.sleep(0.5)
        finally:
            deliverer.terminate()
            deliverer.wait(timeout=20)
            receiver.close()
    assert set(result.statuses) <= {200, 201}, result.failures
    assert result.stream_events >= 20
    assert receiver.received, "the webhook endpoint got nothing"
    assert sampler.samples >= 5
    # Every connection of the server process is tagged, and there are never more
    # than the pool plus its extras.
    assert 0 < sampler.most <= POOL_SIZE + EXTRA, sampler.names_at_most
    assert all(n.startswith("legal-ledger/serve") for n in sampler.names_at_most)
    assert "legal-ledger/serve-listen" in sampler.names_at_most or sampler.most <= POOL_SIZE
    assert 0 < worker.most <= 2 + EXTRA, worker.names_at_most
    assert all(n.startswith("legal-ledger/webhooks") for n in worker.names_at_most)


def test_a_spent_pool_answers_503_database_busy_with_retry_after(firm: FirmStore) -> None:
    url = firm.location.url
    with serve(url, firm.firm, "--pool-size", "1", serve_argv=("--no-follow",),
               env={"LEDGER_POOL_WAIT_SECONDS": "0.5"}) as served:
        ids = seed(served)
        # A command that waits for a table lock keeps the pool's one connection busy.
        with psycopg.connect(url, autocommit=True) as locker, locker.transaction():
            locker.execute(f'LOCK TABLE "{firm.schema}".events IN ACCESS EXCLUSIVE MODE')
            slow: list[int] = []
            waiting = threading.Thread(target=lambda: slow.append(httpx.post(
                f"{served.base}/v1/matters/{ids['matter']}/time-entries",
                headers=served.headers(post=True), timeout=60,
                json={"timekeeper_id": "tk1", "work_on": "2024-02-01", "minutes": 6,
                      "narrative": "Blocked"}).status_code))
            waiting.start()
            wait_until(lambda: _waiting_on_lock(url, firm.schema), timeout=20)
            busy = httpx.get(f"{served.base}/v1/me", headers=served.headers(), timeout=30)
        waiting.join(timeout=30)
        after = httpx.get(f"{served.base}/v1/me", headers=served.headers(), timeout=30)
    assert busy.status_code == 503, busy.text
    assert busy.headers["content-type"].startswith("application/problem+json")
    assert busy.headers["retry-after"] == "1"
    body = busy.json()
    assert body["type"].endswith("/database-busy")
    assert body["status"] == 503 and "busy" in body["detail"]
    assert slow == [201], "the held request finishes once the lock is gone"
    assert after.status_code == 200


def _waiting_on_lock(url: str, schema: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s"
            " AND wait_event_type = 'Lock'", ("legal-ledger/serve",)).fetchone()
    return bool(row and row[0] > 0)


def test_a_spent_pool_is_one_error_line_and_exit_2_on_the_command_line(
        firm: FirmStore, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LEDGER_DATABASE_URL", firm.location.url)
    monkeypatch.setenv("LEDGER_POOL_WAIT_SECONDS", "0.3")
    bootstrap.close_process()
    process = bootstrap.open_process(Settings(pool_size=1), role="cli")
    held = process.location.connect()  # the process's one pooled connection, kept busy
    try:
        started = time.monotonic()
        code = main(["--firm", firm.firm, "info"])
        waited = time.monotonic() - started
    finally:
        held.close()
        bootstrap.close_process()
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "busy" in err and "Traceback" not in err
    assert waited < 5


def test_pool_size_flag_and_application_name(firm: FirmStore) -> None:
    """``--pool-size`` is checked like any flag; a verb's connections say ``legal-ledger/cli``."""
    bad = subprocess.run([sys.executable, "-m", "ledger", "--pool-size", "0", "info"],
                         env=ledger_env(firm.location.url), capture_output=True, text=True,
                         timeout=60, check=False)
    assert bad.returncode == 2 and "--pool-size" in bad.stderr
    bad_env = subprocess.run([sys.executable, "-m", "ledger", "info"],
                             env={**ledger_env(firm.location.url), "LEDGER_POOL_SIZE": "0"},
                             capture_output=True, text=True, timeout=60, check=False)
    assert bad_env.returncode == 2
    assert bad_env.stderr.startswith("error: LEDGER_POOL_SIZE: ")
    assert bad_env.stderr.count("\n") == 1
    code = (
        "import psycopg, sys\n"
        "from ledger import bootstrap\n"
        "from ledger.settings import Settings\n"
        "store = bootstrap.open_store(Settings(), role='cli')\n"
        "with store.location.connect() as conn:\n"
        "    print(conn.execute('SELECT current_setting(%s)', ('application_name',))"
        ".fetchone()[0])\n"
        "bootstrap.close_process()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**ledger_env(firm.location.url), "LEDGER_FIRM": firm.firm},
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "legal-ledger/cli"
