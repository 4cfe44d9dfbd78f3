"""The read-side verbs through ``ledger.cli.main``: JSON, tables, HTML, LEDES file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from commands.service import BillingService
from ledger.cli import main
from ledger.store.firm import FirmStore
from projections.ledes_parse import parse
from tests.support.quarter import record_quarter


@pytest.fixture
def cli_env(firm_store: FirmStore, monkeypatch: pytest.MonkeyPatch) -> FirmStore:
    monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
    monkeypatch.setenv("LEDGER_FIRM", firm_store.firm)
    return firm_store


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_report_verbs(service: BillingService, cli_env: FirmStore,
                      capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    q = record_quarter(service)
    nw = str(q.northwind)
    st = json.loads(run(capsys, "report", "statement", nw, "--period",
                        "2024-01-01..2024-03-31", "--json"))
    assert st["closing_balance_minor"] == 30_000 and st["as_of"] is None
    at = cli_env.head().recorded_at
    assert at is not None
    then = json.loads(run(capsys, "report", "statement", nw, "--period",
                          "2024-01-01..2024-03-31", "--as-of", at.isoformat(), "--json"))
    assert then["closing_balance_minor"] == 30_000 and then["as_of"] == at.isoformat()
    page = run(capsys, "report", "statement", nw, "--period", "2024-01-01..2024-03-31", "--html")
    assert page.startswith("<!DOCTYPE html>") and "USD 300.00" in page
    table = run(capsys, "report", "statement", nw, "--period", "2024-01-01..2024-03-31")
    assert "Closing balance USD 300.00" in table
    listed = json.loads(run(capsys, "invoices", "list", "--json"))
    assert [i["number"] for i in listed["invoices"]][:2] == ["INV-00001", "INV-00002"]
    assert "INV-00005" in run(capsys, "invoices", "list")
    for verb in (["aging", "--on", "2024-03-31"], ["wip"], ["invoices"], ["writeoffs"],
                 ["access", "--on", "2024-03-15"], ["verification"]):
        assert json.loads(run(capsys, "report", *verb, "--json"))["position"] > 0
        assert run(capsys, "report", *verb)
    out = tmp_path / "inv.ledes"
    run(capsys, "export", "ledes", "INV-00003", "--out", str(out), "--law-firm-id", "24-6789012")
    [invoice] = parse(out.read_text())
    assert invoice.total_minor == 103_800
    assert "rebuilt" in run(capsys, "projections", "rebuild", "statements")
    status = json.loads(run(capsys, "projections", "status", "--json"))
    assert {m["name"] for m in status["models"]} == {
        "directory", "balances", "statements", "wip", "audit"}


def test_bad_period_is_refused(cli_env: FirmStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "statement", "00000000-0000-0000-0000-000000000000",
                 "--period", "2024-03-31"]) == 2
    assert "--period" in capsys.readouterr().err
