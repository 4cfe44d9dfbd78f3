"""Reading the command surfaces back (OpenAPI operations, CLI verbs, service methods), and a
made-up registry row, for the registry tests."""

from __future__ import annotations

import argparse
from datetime import date
from functools import partial
from uuid import UUID

import ledger.cli
from commands import models as m
from commands.handlers import matters
from commands.service import BillingService
from commands.spec import Cli, CommandSpec, Flag, Http
from ledger.api import ApiConfig, create_app
from ledger.database import DatabaseLocation
from ledger.domain.roles import BILLING
from ledger.store.firm import FirmStore

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


class ShutMatter(m.Command):
    """A made-up command for the tests: closes a matter, under another name."""

    matter_id: UUID
    reason: m.Reason
    closed_on: date


NEW = CommandSpec(
    "shut_matter", ShutMatter, matters.close_matter,
    Http("/v1/matters/{matter_id}/shut", BILLING, "Shut a matter"),
    Cli("matters", "shut", "shut a matter", (
        Flag("--matter", "matter_id"), Flag("--reason", "reason"),
        Flag("--closed-on", "closed_on"))))
"""One registry row as a new command would add it: a model, a handler, the row."""
