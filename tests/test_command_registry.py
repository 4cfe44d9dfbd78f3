"""The command registry is the one list of commands: the service, the HTTP routes (as the
OpenAPI document shows them) and the command line are all built from it."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import date
from functools import partial
from typing import Any
from uuid import UUID

import pytest

import ledger.cli
import ledger.cli.billing
from commands import models as m
from commands.handlers import matters
from commands.registry import COMMANDS
from commands.service import BillingService
from commands.spec import Cli, CommandSpec, Flag, Http
from ledger.api import ApiConfig, create_app
from ledger.database import DatabaseLocation
from ledger.domain.roles import BILLING
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from tests.billing_fixtures import ADMIN, client, key, matter, service, set_up_firm
from tests.test_api_fixtures import make_api

__all__ = ["service"]

_OFFLINE = FirmStore(DatabaseLocation("postgresql://offline@127.0.0.1:1/none", False), "offline")


def openapi_commands() -> dict[str, str]:
    """Command name → path of every POST operation the app documents as a command."""
    doc = create_app(_OFFLINE, ApiConfig()).openapi()
    found = {}
    for path, operations in doc["paths"].items():
        post = operations.get("post")
        if post is not None and {"commands", "trust"} & set(post.get("tags", [])):
            found[post["operationId"].split("_v1_")[0]] = path
    return found


def cli_verbs() -> dict[tuple[str, str], str | None]:
    """(group, verb) → the registry command its handler runs (None for other verbs)."""
    verbs: dict[tuple[str, str], str | None] = {}

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, (*path, name))
        if len(path) == 2:
            verbs[(path[0], path[1])] = parser.get_default("registry_command")

    walk(ledger.cli.build_parser(), ())
    return verbs


def service_commands(svc: BillingService) -> set[str]:
    """Every attribute of the service that runs a registry command."""
    return {name for name in dir(svc) if not name.startswith("_")
            and isinstance(getattr(svc, name), partial)}


def test_service_routes_and_verbs_cover_exactly_the_registry(service: BillingService) -> None:
    names = set(COMMANDS)
    assert len(names) == 35  # 22 billing + 13 trust commands
    assert service_commands(service) == names
    with pytest.raises(AttributeError):
        service.no_such_command  # noqa: B018 - the lookup itself must refuse

    over_http = {n for n, spec in COMMANDS.items() if spec.http is not None}
    assert over_http == names - {"erase_client_data"}  # the one CLI-only command
    assert openapi_commands() == {n: COMMANDS[n].http.path for n in over_http}  # type: ignore[union-attr]

    verbs = cli_verbs()
    generated = {cmd for cmd in verbs.values() if cmd is not None}
    by_hand = {n for n, spec in COMMANDS.items() if spec.cli and spec.cli.by_hand}
    assert generated | by_hand == names and not generated & by_hand
    for name, spec in COMMANDS.items():
        assert spec.cli is not None
        assert (spec.cli.group, spec.cli.verb) in verbs, name


class ReopenMatter(m.Command):
    """A made-up command for the test: closes the matter again under another name."""

    matter_id: UUID
    reason: m.Reason
    closed_on: date


NEW = CommandSpec(
    "shut_matter", ReopenMatter, matters.close_matter,
    Http("/v1/matters/{matter_id}/shut", BILLING, "Shut a matter"),
    Cli("matters", "shut", "shut a matter", (
        Flag("--matter", "matter_id"), Flag("--reason", "reason"),
        Flag("--closed-on", "closed_on"))))


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


def test_a_new_row_appears_on_every_surface(
        new_row: CommandSpec, service: BillingService, firm_store: FirmStore,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert openapi_commands()["shut_matter"] == "/v1/matters/{matter_id}/shut"
    assert cli_verbs()[("matters", "shut")] == "shut_matter"
    assert "shut_matter" in service_commands(service)

    set_up_firm(service)
    c = client(service)
    first, second, third = (matter(service, c) for _ in range(3))
    done = service.shut_matter(ADMIN, ReopenMatter(
        idempotency_key=key(), matter_id=first, reason="engagement ended",
        closed_on=date(2024, 6, 30)))
    assert (done.command, done["matter_id"]) == ("shut_matter", str(first))

    out = _cli(firm_store, capsys, monkeypatch, "matters", "shut", "--matter", str(second),
               "--reason", "engagement ended", "--closed-on", "2024-06-30")
    assert out == {"command": "shut_matter", "matter_id": str(second)}

    for api in make_api(firm_store):
        api.key("admin", "firm_admin")
        answer = api.ok("admin", f"/v1/matters/{third}/shut",
                        {"reason": "engagement ended", "closed_on": "2024-06-30"})
        assert answer == {"command": "shut_matter", "matter_id": str(third)}
    assert [service.app.repository.get(x).is_open for x in (first, second, third)] == [
        False, False, False]


def test_a_command_of_another_model_is_refused(service: BillingService) -> None:
    from commands.errors import InvalidCommandError

    with pytest.raises(InvalidCommandError):
        service.close_matter(ADMIN, m.SetUpFirm(idempotency_key=key(), currency="USD"))
    assert service.event_count() == 0


def test_cli_balances_are_the_read_models_as_the_api_shows_them(
        firm_store: FirmStore, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_api_fixtures import seed

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
