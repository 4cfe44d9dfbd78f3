"""The command line under a reader that stops early, and its date flags at the edge.

``ledger report wip --json | head`` must end quietly: the reader closes the
pipe, the verb exits 0 and stderr stays empty (no ``BrokenPipeError``
traceback, no "Exception ignored" line at interpreter exit). The tests use a
real pipe whose reading end is closed before the verb writes a byte.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from commands.service import BillingService
from ledger.cli import main
from ledger.store.firm import FirmStore
from tests.support.quarter import record_quarter

ROOT = Path(__file__).resolve().parents[1]


def _env(store: FirmStore) -> dict[str, str]:
    return {**os.environ, "LEDGER_DATABASE_URL": store.location.url,
            "LEDGER_FIRM": store.firm, "PYTHONPATH": str(ROOT)}


def _into_closed_pipe(store: FirmStore, *argv: str) -> tuple[int, str]:
    """Run ``ledger ARGV`` with stdout a pipe nobody reads any more."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte is written
    try:
        done = subprocess.run([sys.executable, "-m", "ledger", *argv], stdout=write_end,
                              stderr=subprocess.PIPE, env=_env(store), cwd=ROOT,
                              timeout=120, check=False)
    finally:
        os.close(write_end)
    return done.returncode, done.stderr.decode()


@pytest.mark.parametrize("argv", [
    ["report", "wip", "--json"],
    ["report", "invoices"],
    ["access", "who", "--client", "00000000-0000-0000-0000-000000000001",
     "--from", "2024-01-01T00:00Z", "--to", "2030-01-01T00:00Z"],
    ["keys", "list", "--json"],
    ["--help"],
], ids=lambda a: " ".join(a[:2]))
def test_a_closed_pipe_ends_the_verb_quietly_with_exit_0(
        service: BillingService, firm_store: FirmStore,
        argv: list[str]) -> None:
    record_quarter(service)
    code, err = _into_closed_pipe(firm_store, *argv)
    assert (code, err) == (0, "")


def test_a_failure_is_still_one_line_when_stdout_is_closed(firm_store: FirmStore) -> None:
    code, err = _into_closed_pipe(firm_store, "report", "aging", "--on", "0001-01-01")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: --on must fall between")


@pytest.fixture
def cli_env(firm_store: FirmStore, monkeypatch: pytest.MonkeyPatch) -> FirmStore:
    monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
    monkeypatch.setenv("LEDGER_FIRM", firm_store.firm)
    return firm_store


@pytest.mark.parametrize(("argv", "flag"), [
    (["report", "invoices", "--as-of", "9999-12-31T23:59:59-14:00"], "--as-of"),
    (["report", "aging", "--as-of", "0001-01-01T00:00:00+14:00"], "--as-of"),
    (["report", "aging", "--on", "9999-12-31"], "--on"),
    (["report", "writeoffs", "--period", "0001-01-01..2024-01-01"], "--period"),
    (["access", "what", "--principal", "admin", "--from", "0001-01-01T00:00+01:00",
      "--to", "2024-01-01T00:00Z"], "--from"),
    (["access", "who", "--client", "00000000-0000-0000-0000-000000000001",
      "--from", "2024-01-01T00:00Z", "--to", "9999-12-31T23:00-05:00"], "--to"),
])
def test_date_flags_out_of_range_exit_2_in_one_line(
        cli_env: FirmStore, capsys: pytest.CaptureFixture[str], argv: list[str],
        flag: str) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"error: {flag} must fall between 0001-01-02 and 9999-12-30\n"


def test_an_inverted_period_or_window_is_refused(cli_env: FirmStore,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "writeoffs", "--period", "2024-03-01..2024-01-01"]) == 2
    assert main(["access", "what", "--principal", "admin", "--from", "2024-03-01T00:00Z",
                 "--to", "2024-01-01T00:00Z"]) == 2
    assert capsys.readouterr().err.count("the period starts after it ends") == 2
