"""The command registry is the one list of commands: the service, the HTTP routes (as the
OpenAPI document shows them) and the command line are all built from it (no database:
the service runs on the in-memory store, the app and the parser are only built)."""

from __future__ import annotations

from datetime import date

import pytest

from commands import models as m
from commands.errors import InvalidCommandError
from commands.registry import COMMANDS
from commands.service import BillingService
from tests.support.billing import ADMIN, client, key, matter, set_up_firm
from tests.support.registry import NEW, ShutMatter, cli_verbs, openapi_commands, service_commands


def test_service_routes_and_verbs_cover_exactly_the_registry(
        memory_service: BillingService) -> None:
    names = set(COMMANDS)
    assert len(names) == 38  # 22 billing + 16 trust commands
    assert service_commands(memory_service) == names
    with pytest.raises(AttributeError):
        memory_service.no_such_command  # noqa: B018 - the lookup itself must refuse

    over_http = {n for n, spec in COMMANDS.items() if spec.http is not None}
    assert over_http == names - {"erase_client_data"}  # the one command not over HTTP
    assert openapi_commands() == {n: COMMANDS[n].http.path  # type: ignore[union-attr]
                                  for n in over_http}

    verbs = cli_verbs()
    generated = {cmd for cmd in verbs.values() if cmd is not None}
    by_hand = {n for n, spec in COMMANDS.items() if spec.cli and spec.cli.by_hand}
    assert generated | by_hand == names and not generated & by_hand
    for name, spec in COMMANDS.items():
        assert spec.cli is not None
        assert (spec.cli.group, spec.cli.verb) in verbs, name


def test_a_new_row_appears_on_every_surface(memory_service: BillingService,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(COMMANDS, NEW.name, NEW)
    assert openapi_commands()["shut_matter"] == "/v1/matters/{matter_id}/shut"
    assert cli_verbs()[("matters", "shut")] == "shut_matter"
    assert "shut_matter" in service_commands(memory_service)

    set_up_firm(memory_service)
    matter_id = matter(memory_service, client(memory_service))
    done = memory_service.shut_matter(ADMIN, ShutMatter(
        idempotency_key=key(), matter_id=matter_id, reason="engagement ended",
        closed_on=date(2024, 6, 30)))
    assert (done.command, done["matter_id"]) == ("shut_matter", str(matter_id))
    assert not memory_service.app.repository.get(matter_id).is_open


def test_a_command_of_another_model_is_refused(memory_service: BillingService) -> None:
    with pytest.raises(InvalidCommandError):
        memory_service.close_matter(ADMIN, m.SetUpFirm(idempotency_key=key(), currency="USD"))
    assert memory_service.event_count() == 0
