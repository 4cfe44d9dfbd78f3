"""A new registry row runs through the command line and over HTTP on a real ledger, and the
CLI's balances are the read model's, as the API shows them (the registry's coverage
without a database: tests/unit/test_command_registry.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

import ledger.cli
import ledger.cli.billing
from commands.registry import COMMANDS
from commands.service import BillingService
from commands.spec import CommandSpec
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from tests.support.api import make_api, seed
from tests.support.billing import ADMIN, client, matter, set_up_firm
from tests.support.registry import NEW


@pytest.fixture
def new_row(monkeypatch: pytest.MonkeyPatch) -> Iterator[CommandSpec]:
    monkeypatch.setitem(COMMANDS, NEW.name, NEW)
    yield NEW


def _cli(firm_store: FirmStore, capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch, *argv: str) -> Any:
    monkeypatch.setattr(ledger.cli.billing, "_service", lambda a, s: BillingService(firm_store))
    args = ledger.cli.build_parser().parse_args([*argv, "--json"])
    assert args.handler(args, Settings()) == 0
    return json.loads(capsys.readouterr().out)


def test_a_new_row_is_run_by_the_cli_and_over_http(
        new_row: CommandSpec, service: BillingService, firm_store: FirmStore,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    set_up_firm(service)
    c = client(service)
    by_cli, by_http = (matter(service, c) for _ in range(2))

    out = _cli(firm_store, capsys, monkeypatch, "matters", "shut", "--matter", str(by_cli),
               "--reason", "engagement ended", "--closed-on", "2024-06-30")
    assert out == {"command": "shut_matter", "matter_id": str(by_cli)}

    for api in make_api(firm_store):
        api.key("admin", "firm_admin")
        answer = api.ok("admin", f"/v1/matters/{by_http}/shut",
                        {"reason": "engagement ended", "closed_on": "2024-06-30"})
        assert answer == {"command": "shut_matter", "matter_id": str(by_http)}
    assert [service.app.repository.get(x).is_open for x in (by_cli, by_http)] == [False, False]


def test_cli_balances_are_the_read_models_as_the_api_shows_them(
        firm_store: FirmStore, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for api in make_api(firm_store):
        seed(api)
        c1, i1 = api.ids["c1"], api.ids["i1"]
        # An unallocated payment and a credit note, so both figures move.
        api.ok("admin", "/v1/payments", {
            "client_id": c1, "amount_minor": 5_000, "currency": "USD", "method": "check",
            "reference": "CHK-2", "received_on": "2024-02-20"})
        api.ok("admin", f"/v1/invoices/{i1}/credit-notes", {
            "amount_minor": 1_000, "reason": "courtesy discount", "issued_on": "2024-02-21"})
        over_http = api.get("admin", f"/v1/clients/{c1}/balance").json()
        invoice_http = api.get("admin", f"/v1/invoices/{i1}").json()
    capsys.readouterr()  # the app's request log lines

    balance = _cli(firm_store, capsys, monkeypatch, "clients", "balance", c1)
    assert balance == {"client_id": c1,
                       "open_balance_minor": over_http["open_invoices_minor"],
                       "unapplied_credit_minor": over_http["unapplied_credit_minor"]}
    # 90 min at 500.00/h = 750.00, less 200.00 paid and 10.00 credited; 50.00 unapplied.
    assert (balance["open_balance_minor"], balance["unapplied_credit_minor"]) == (
        54_000, 5_000)

    shown = _cli(firm_store, capsys, monkeypatch, "invoices", "show", i1)
    assert shown["open_balance_minor"] == invoice_http["open_minor"] == 54_000
    assert {k: v for k, v in shown.items() if k != "open_balance_minor"} == {
        k: invoice_http[k] for k in shown if k != "open_balance_minor"}

    with BillingService(firm_store) as svc:  # the aggregates agree, by the same formula
        assert svc.client_open_balance(ADMIN, UUID(c1)) == 54_000
        assert svc.client_unapplied_credit(ADMIN, UUID(c1)) == 5_000
        assert svc.invoice_state(ADMIN, UUID(i1)) == shown
