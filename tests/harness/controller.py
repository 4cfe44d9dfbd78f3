"""The controller: own embedded server, firm set-up, writers, faults, then the checker.

Faults, at random moments within the run (the first of each kind at a fixed
fraction of the run so that every run has at least one of each):

* ``SIGKILL`` of a random writer, immediately replaced by a new process that
  continues the dead one's journal (its pending command first, same key);
* ``pg_terminate_backend`` of random client backends of the ledger's database
  (writers, the projection follower, whoever holds a connection);
* ``pg_ctl restart -m fast`` of the embedded server the harness started itself.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from commands import models as m
from commands.auth import Principal
from commands.service import BillingService
from commands.trust import models as t
from ledger.database import DatabaseLocation, start_embedded, stop_embedded
from ledger.store.firm import FirmStore
from tests.harness.checker import Verdict, check
from tests.harness.follower import follower_main
from tests.harness.journal import Fixture
from tests.harness.writer import principal_id, writer_main

ADMIN = Principal(id="harness-admin", roles=frozenset({"firm_admin"}))
FIRM = "harness"
JOIN_GRACE_SECONDS = 90.0
"""After the deadline, how long writers may take to finish their last command."""
MAX_FAULTS = 10_000


@dataclass(frozen=True)
class HarnessConfig:
    writers: int = 3
    seconds: float = 60.0
    seed: int = 1
    restarts: int = 1
    """Server restarts per run (the first at 45 % of the run, others at random)."""
    fault_gap: tuple[float, float] = (1.0, 4.0)
    """Seconds between two faults, drawn uniformly."""
    keep_workdir: bool = False


@dataclass
class HarnessReport:
    config: HarnessConfig
    workdir: str
    kills: int = 0
    terminations: int = 0
    termination_calls: int = 0
    restarts: int = 0
    restart_seconds: list[float] = field(default_factory=list)
    follower_kills: int = 0
    hung_writers: int = 0
    run_seconds: float = 0.0
    check_seconds: float = 0.0
    verdict: Verdict | None = None

    @property
    def ok(self) -> bool:
        return self.verdict is not None and self.verdict.ok and self.hung_writers == 0

    def summary(self) -> str:
        v = self.verdict
        lines = [
            f"harness: {self.config.writers} writers, {self.config.seconds:.0f} s planned, "
            f"seed {self.config.seed}",
            f"faults: {self.kills} writer SIGKILLs, {self.follower_kills} follower SIGKILLs, "
            f"{self.terminations} backends terminated in {self.termination_calls} calls, "
            f"{self.restarts} server restarts "
            f"({', '.join(f'{s:.1f} s' for s in self.restart_seconds)}), "
            f"{self.hung_writers} hung writers",
            f"time: {self.run_seconds:.1f} s of load, {self.check_seconds:.1f} s of checking",
        ]
        if v is not None:
            lines.append(v.summary())
        return "\n".join(lines)


def _server_user() -> str | None:
    return "embedded_postgres" if os.geteuid() == 0 else None


def restart_server(pgdata: Path, url: str) -> float:
    """``pg_ctl restart -m fast`` of the harness's own server; seconds until it answers."""
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    started = time.monotonic()
    pg_ctl(["-w", "-t", "60", "-m", "fast", "-l", str(pgdata / "log"), "restart"],
           pgdata=pgdata, user=_server_user(), timeout=90)
    for _ in range(300):
        try:
            psycopg.connect(url, connect_timeout=2).close()
            break
        except psycopg.OperationalError:
            time.sleep(0.1)
    return time.monotonic() - started


def terminate_backends(url: str, rng: random.Random) -> int:
    """Terminate 1-3 random client backends of the ledger's database."""
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend' ORDER BY random() LIMIT %s",
            (rng.randint(1, 3),)).fetchall()
    return sum(1 for r in rows if r[0])


MAX_WRITERS = 16
"""Writers the trust account has signers for (a run has fewer)."""


def set_up(store: FirmStore, url: str, seed: int, deadline: float) -> Fixture:
    """A firm with four timekeepers, two clients, three hourly matters, a closed one and
    a trust account."""
    store.ensure()
    keys = iter(range(1, 1000))

    def k() -> str:
        return f"setup-{seed}-{next(keys):04d}"

    day = date(2024, 1, 1)
    with BillingService(store) as svc:
        svc.set_up_firm(ADMIN, m.SetUpFirm(idempotency_key=k(), currency="USD",
                                           invoice_prefix="H-", effective_on=day))
        timekeepers = ["PA", "AS", "PL", "OC"]
        for n, tk in enumerate(timekeepers):
            svc.register_timekeeper(ADMIN, m.RegisterTimekeeper(
                idempotency_key=k(), timekeeper_id=tk, name=f"Timekeeper {tk}",
                title="ASSOC", default_rate_minor_per_hour=20_000 + 7_919 * n,
                effective_on=day))
        clients = [str(svc.onboard_client(ADMIN, m.OnboardClient(
            idempotency_key=k(), name=f"Client {n}", billing_contact="ap@client.example",
            currency="USD", payment_terms_days=30, effective_on=day))["client_id"])
            for n in range(2)]
        matters: dict[str, str] = {}
        for client in (clients[0], clients[0], clients[1]):
            mid = str(svc.open_matter(ADMIN, m.OpenMatter(
                idempotency_key=k(), client_id=UUID(client), title="Shared matter",
                opened_on=day))["matter_id"])
            matters[mid] = client
        matter = str(svc.open_matter(ADMIN, m.OpenMatter(
            idempotency_key=k(), client_id=UUID(clients[0]), title="Closed matter",
            opened_on=day))["matter_id"])
        svc.set_rate(ADMIN, m.SetRate(idempotency_key=k(), matter_id=UUID(matter),
                                      timekeeper_id="PA", rate_minor_per_hour=33_333,
                                      effective_from=day))
        svc.close_matter(ADMIN, m.CloseMatter(idempotency_key=k(), matter_id=UUID(matter),
                                              reason="engagement ended", closed_on=day))
        account = str(svc.open_trust_account(ADMIN, t.OpenTrustAccount(
            idempotency_key=k(), bank="Harness Bank", account_number="000111222",
            currency="USD", iolta=True, jurisdiction="US-AZ", opened_on=day))["account_id"])
        for writer in range(MAX_WRITERS):  # each writer authorises its own disbursements
            svc.add_trust_signer(ADMIN, t.AddTrustSigner(
                idempotency_key=k(), account_id=UUID(account), principal_id=principal_id(writer),
                added_on=day))
    return Fixture(url=url, firm=store.firm, seed=seed, deadline=deadline, currency="USD",
                   timekeepers=timekeepers, clients=clients, matters=matters,
                   closed_matter=matter, trust_account=account)


class _Processes:
    def __init__(self, workdir: Path, writers: int) -> None:
        self.ctx = multiprocessing.get_context("spawn")
        self.workdir = workdir
        self.writers: list[BaseProcess] = [self._writer(i) for i in range(writers)]
        self.follower = self._follower()

    def _writer(self, index: int) -> BaseProcess:
        p = self.ctx.Process(target=writer_main, args=(str(self.workdir), index),
                             name=f"harness-writer-{index}", daemon=True)
        p.start()
        return p

    def _follower(self) -> BaseProcess:
        p = self.ctx.Process(target=follower_main, args=(str(self.workdir),),
                             name="harness-follower", daemon=True)
        p.start()
        return p

    def kill_writer(self, index: int) -> bool:
        p = self.writers[index]
        if not p.is_alive() or p.pid is None:
            return False
        os.kill(p.pid, signal.SIGKILL)
        p.join(10)
        self.writers[index] = self._writer(index)
        return True

    def kill_follower(self) -> bool:
        p = self.follower
        if not p.is_alive() or p.pid is None:
            return False
        os.kill(p.pid, signal.SIGKILL)
        p.join(10)
        self.follower = self._follower()
        return True

    def join(self, until: float) -> int:
        """Wait for every process until ``until``; SIGKILL and count the ones still alive."""
        hung = 0
        for p in [*self.writers, self.follower]:
            p.join(max(until - time.time(), 0.1))
            if p.is_alive() and p.pid is not None:
                hung += p is not self.follower
                os.kill(p.pid, signal.SIGKILL)
                p.join(10)
        return hung


def _faults(cfg: HarnessConfig, procs: _Processes, report: HarnessReport, pgdata: Path,
            url: str, start: float, deadline: float) -> None:
    rng = random.Random(f"faults:{cfg.seed}")
    span = deadline - start
    # The first of each kind at a fixed fraction of the run; the rest at random.
    forced = [(0.15, "kill"), (0.25, "terminate"), (0.45, "restart"), (0.6, "follower")]
    forced += [(rng.uniform(0.3, 0.8), "restart") for _ in range(cfg.restarts - 1)]
    forced.sort()
    next_random = start + rng.uniform(*cfg.fault_gap)
    for _ in range(MAX_FAULTS):
        now = time.time()
        if now >= deadline - 0.05 * span:
            return
        if forced and now >= start + forced[0][0] * span:
            action = forced.pop(0)[1]
        elif now >= next_random:
            action = rng.choice(["kill", "terminate", "terminate"])
            next_random = now + rng.uniform(*cfg.fault_gap)
        else:
            time.sleep(0.05)
            continue
        if action == "kill":
            report.kills += procs.kill_writer(rng.randrange(cfg.writers))
        elif action == "follower":
            report.follower_kills += procs.kill_follower()
        elif action == "terminate":
            with contextlib.suppress(psycopg.OperationalError):
                report.terminations += terminate_backends(url, rng)
                report.termination_calls += 1
        else:
            report.restart_seconds.append(restart_server(pgdata, url))
            report.restarts += 1


def run_harness(cfg: HarnessConfig, *, log: Any = None) -> HarnessReport:
    """Run the harness once and return its figures and the checker's verdict."""
    workdir = Path(tempfile.mkdtemp(prefix="ledger-harness-"))
    pgdata = workdir / "pgdata"
    report = HarnessReport(cfg, str(workdir))
    say = log or (lambda _text: None)
    try:
        url = start_embedded(pgdata)
        store = FirmStore(DatabaseLocation(url, embedded=True), FIRM, pool_size=2)
        say(f"harness: own server in {pgdata}; setting up the firm")
        setup_started = time.time()
        deadline = setup_started + 5 + cfg.seconds  # writers need a few seconds to start
        fixture = set_up(store, url, cfg.seed, deadline)
        fixture.save(workdir / "run.json")
        start = time.time()
        procs = _Processes(workdir, cfg.writers)
        _faults(cfg, procs, report, pgdata, url, start, deadline)
        report.hung_writers = procs.join(deadline + JOIN_GRACE_SECONDS)
        report.run_seconds = time.time() - start
        say(f"harness: load done after {report.run_seconds:.1f} s; checking")
        checked = time.monotonic()
        report.verdict = check(workdir, store, cfg.writers)
        report.check_seconds = time.monotonic() - checked
        return report
    finally:
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            stop_embedded(pgdata)
        if not cfg.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
