"""The billing verbs and the demo scenario, called directly (no subprocess)."""

from __future__ import annotations

import argparse
import json
from typing import Any

import pytest

from commands.service import BillingService
from ledger.cli import billing as cli
from ledger.cli.verbs import Verbs
from ledger.settings import Settings
from ledger.store.firm import FirmStore


def test_demo_scenario_prints_each_clients_balance(service: BillingService) -> None:
    lines = cli.record_demo_scenario(service)
    text = "\n".join(lines)
    balances = {line.split("  ")[0]: line.split("open balance")[1].split()[:2]
                for line in lines if "open balance" in line}
    # By hand: Northwind 805.00 + 1,038.00 - 1,000.00 paid - 43.00 credited = 800.00;
    # Contoso 4,045.00 - 3,000.00 - 45.00 written off (February voided) = 1,000.00;
    # Fabrikam 49,995.00 + 2,500.00 - 50,000.00 = 2,495.00.
    assert balances == {"Northwind (hourly)": ["USD", "800.00"],
                        "Contoso (flat fee)": ["USD", "1,000.00"],
                        "Fabrikam (contingency)": ["USD", "2,495.00"]}
    assert "issued INV-00005" in text
    # Fabrikam's 50,000.00 came out of its 60,000.00 trust deposit, not from nowhere.
    assert ("paid INV-00005 from Fabrikam's trust money: USD 50,000.00 to operating, "
            "USD 10,000.00 left in trust") in text
    count = service.event_count()
    assert cli.record_demo_scenario(service)[-4:] == lines[-4:]  # idempotent re-run
    assert service.event_count() == count


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ledger")
    root.add_argument("--firm")
    cli.register(Verbs(root.add_subparsers(dest="verb", required=True)))
    return root


def run(firm_store: FirmStore, capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    args = parser().parse_args(["--firm", firm_store.firm, *argv, "--json"])
    settings = Settings()
    import ledger.cli.billing as module

    original = module._service
    module._service = lambda a, s: BillingService(firm_store)  # type: ignore[assignment]
    try:
        assert args.handler(args, settings) == 0
    finally:
        module._service = original
    return json.loads(capsys.readouterr().out)


def test_verbs_go_through_the_service(firm_store: FirmStore,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    run(firm_store, capsys, "firm", "setup", "--currency", "USD", "--prefix", "F-")
    run(firm_store, capsys, "timekeepers", "add", "--id", "PA", "--name", "Pat",
        "--title", "PARTNR", "--rate", "40000")
    client = run(firm_store, capsys, "clients", "onboard", "--name", "Client", "--contact",
                 "ap", "--currency", "USD", "--terms", "30")["client_id"]
    matter = run(firm_store, capsys, "matters", "open", "--client", client, "--title", "M",
                 "--opened-on", "2024-01-01")["matter_id"]
    run(firm_store, capsys, "time", "log", "--matter", matter, "--timekeeper", "PA",
        "--date", "2024-01-05", "--minutes", "45", "--narrative", "Research")
    invoice = run(firm_store, capsys, "invoices", "draft", "--matter", matter, "--from",
                  "2024-01-01", "--to", "2024-01-31", "--drafted-on", "2024-01-31")["invoice_id"]
    issued = run(firm_store, capsys, "invoices", "issue", "--invoice", invoice,
                 "--date", "2024-02-01")
    assert (issued["number"], issued["total_minor"], issued["due_on"]) == (
        "F-00001", 32_000, "2024-03-02")  # 45 min → 48 min × 400.00/h
    run(firm_store, capsys, "payments", "record", "--client", client, "--amount", "10000",
        "--currency", "USD", "--method", "check", "--reference", "CHK 1", "--date",
        "2024-02-10", "--allocate", f"{invoice}=10000")
    balance = run(firm_store, capsys, "clients", "balance", client)
    assert balance["open_balance_minor"] == 22_000
