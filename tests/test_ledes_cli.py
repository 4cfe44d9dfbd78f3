"""``ledger export ledes`` on a real ledger: a field over the standard's limit refuses the
export (exit 2, one line naming the lines and fields, nothing written) unless
``--truncate``, which cuts it and says so on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.cli import main
from ledger.store.firm import FirmStore
from projections.ledes_parse import parse

LONG_NAME = "Maximiliana Bartholomew-Fitzgerald Smythe"  # "Smythe, Maximiliana …" is 42


@pytest.fixture
def cli_env(firm_store: FirmStore, monkeypatch: pytest.MonkeyPatch) -> FirmStore:
    monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
    monkeypatch.setenv("LEDGER_FIRM", firm_store.firm)
    return firm_store


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, str]:
    assert main([*argv, "--json"]) == 0
    out: dict[str, str] = json.loads(capsys.readouterr().out)
    return out


def issue_invoice(capsys: pytest.CaptureFixture[str]) -> str:
    return issue_invoices(capsys)[0]


def issue_invoices(capsys: pytest.CaptureFixture[str]) -> tuple[str, str, str]:
    """March's invoice of a new client and matter: (number, client id, matter id)."""
    run(capsys, "firm", "setup", "--currency", "USD")
    run(capsys, "timekeepers", "add", "--id", "MS", "--name", LONG_NAME, "--title", "PARTNR",
        "--rate", "40000")
    client = run(capsys, "clients", "onboard", "--name", "Müller Maschinenbau GmbH",
                 "--contact", "ap@example.com", "--currency", "USD", "--terms", "30")
    matter = run(capsys, "matters", "open", "--client", client["client_id"],
                 "--title", "Überprüfung der Verträge", "--opened-on", "2026-03-01")
    run(capsys, "time", "log", "--matter", matter["matter_id"], "--timekeeper", "MS",
        "--date", "2026-03-02", "--minutes", "42", "--narrative", "Prüfung — „Vertrag“ §4")
    draft = run(capsys, "invoices", "draft", "--matter", matter["matter_id"], "--from",
                "2026-03-01", "--to", "2026-03-31", "--drafted-on", "2026-03-31")
    issued = run(capsys, "invoices", "issue", "--invoice", draft["invoice_id"],
                 "--date", "2026-04-01")
    return issued["number"], client["client_id"], matter["matter_id"]


def test_over_long_name_refused_then_truncated_on_request(
        cli_env: FirmStore, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    number = issue_invoice(capsys)
    out = tmp_path / "inv.ledes"
    assert main(["export", "ledes", number, "--out", str(out),
                 "--law-firm-id", "24-6789012"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "line 1 TIMEKEEPER_NAME: 42 characters" in err
    assert LONG_NAME not in err and not out.exists()

    assert main(["export", "ledes", number, "--out", str(out), "--law-firm-id", "24-6789012",
                 "--truncate"]) == 0
    assert "truncated: line 1 TIMEKEEPER_NAME" in capsys.readouterr().err
    text = out.read_text(encoding="ascii")
    [invoice] = parse(text)
    [line] = invoice.lines
    assert line["TIMEKEEPER_NAME"] == "Smythe, Maximiliana Bartholome"
    assert line["INVOICE_DESCRIPTION"] == "Uberprufung der Vertrage"
    assert line["LINE_ITEM_DESCRIPTION"] == 'Prufung - "Vertrag" S.4'
    assert (line["LINE_ITEM_NUMBER_OF_UNITS"], line["LINE_ITEM_ADJUSTMENT_AMOUNT"],
            line["LINE_ITEM_TOTAL"]) == ("0.7", "0.00", "280.00")


def test_over_long_law_firm_id_is_refused(cli_env: FirmStore,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    number = issue_invoice(capsys)
    assert main(["export", "ledes", number, "--law-firm-id", "9" * 21, "--truncate"]) == 0
    assert "truncated: line 1 LAW_FIRM_ID: 21 characters" in capsys.readouterr().err
    assert main(["export", "ledes", number, "--law-firm-id", "9" * 21]) == 2
    assert "LAW_FIRM_ID: 21 characters, the limit is 20" in capsys.readouterr().err


def test_a_clients_invoices_of_a_period_in_one_file(
        cli_env: FirmStore, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    march, client, matter = issue_invoices(capsys)
    run(capsys, "time", "log", "--matter", matter, "--timekeeper", "MS",
        "--date", "2026-04-06", "--minutes", "10", "--narrative", "Call")
    draft = run(capsys, "invoices", "draft", "--matter", matter, "--from", "2026-04-01",
                "--to", "2026-04-30", "--drafted-on", "2026-04-30")
    april = run(capsys, "invoices", "issue", "--invoice", draft["invoice_id"],
                "--date", "2026-05-01")["number"]
    out = tmp_path / "client.ledes"
    assert main(["export", "ledes", "--client", client, "--period", "2026-04-01..2026-05-31",
                 "--out", str(out), "--law-firm-id", "24-6789012", "--truncate"]) == 0
    assert "truncated: " + march + " line 1 TIMEKEEPER_NAME" in capsys.readouterr().err
    invoices = parse(out.read_text(encoding="ascii"))
    assert [i.number for i in invoices] == [march, april]
    assert [i.total_minor for i in invoices] == [28_000, 8_000]  # 10 min billed as 0.2 h
    assert main(["export", "ledes", "--client", client, "--period", "2026-06-01..2026-06-30",
                 "--law-firm-id", "24-6789012"]) == 2
    assert "no issued invoice" in capsys.readouterr().err
    assert main(["export", "ledes", march, "--client", client, "--period",
                 "2026-04-01..2026-05-31", "--law-firm-id", "24-6789012"]) == 2
    assert main(["export", "ledes", "--client", client, "--law-firm-id", "24-6789012"]) == 2
