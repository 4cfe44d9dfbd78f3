"""Command-line verbs built from the command registry (``commands.registry``).

Each row's ``cli`` part (group, verb, help, flags) becomes ``ledger GROUP VERB``
with its flags plus ``--json``, ``--as PRINCIPAL``, ``--as-role ROLE`` and
``--key IDEMPOTENCY_KEY``; running it parses the flags into the command model
and calls ``BillingService.run``. Nothing here names a command: what a row's
flags cannot say (nested terms, repeated allocations, a file to read) is a
:class:`Extra` the verb group's module passes in by command name.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from commands import models as m
from commands.auth import Principal
from commands.service import BillingService
from commands.spec import CommandSpec, Flag
from ledger.cli.output import emit
from ledger.cli.verbs import Verbs
from ledger.domain.roles import ADMIN
from ledger.settings import Settings

ServiceFor = Callable[[argparse.Namespace, Settings], BillingService]


@dataclass(frozen=True)
class Extra:
    """Shell-only arguments of one command: ``add`` them to its parser, ``shape`` the data."""

    add: Callable[[argparse.ArgumentParser], None]
    shape: Callable[[argparse.Namespace, dict[str, Any]], None]


def principal_from(args: argparse.Namespace) -> Principal:
    """The acting principal: ``--as`` (default ``cli-admin``) with ``--as-role`` (default admin)."""
    roles = frozenset(args.as_roles or [ADMIN])
    return Principal.model_validate({"id": args.principal, "roles": roles})


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--as", dest="principal", default="cli-admin", help="acting principal")
    parser.add_argument("--as-role", dest="as_roles", action="append",
                        help="the acting principal's role (repeatable)")
    parser.add_argument("--key", help="idempotency key (default: a fresh one)")


def add_flag(parser: argparse.ArgumentParser, flag: Flag) -> None:
    if flag.switch is None:
        parser.add_argument(flag.flag, dest=flag.field, type=flag.kind, required=flag.required,
                            help=flag.help)
    else:
        parser.add_argument(flag.flag, dest=flag.field, help=flag.help,
                            action="store_true" if flag.switch else "store_false")


def command_data(args: argparse.Namespace, flags: Iterable[Flag]) -> dict[str, Any]:
    """The flags given (and every switch) as the command's fields, with an idempotency key."""
    data: dict[str, Any] = {"idempotency_key": args.key or f"cli-{uuid.uuid4()}"}
    for flag in flags:
        value = getattr(args, flag.field)
        if value is not None:
            data[flag.field] = value
    return data


def _runner(spec: CommandSpec, service_for: ServiceFor,
            extra: Extra | None) -> Callable[[argparse.Namespace, Settings], int]:
    assert spec.cli is not None
    flags = spec.cli.flags

    def run(args: argparse.Namespace, settings: Settings) -> int:
        data = command_data(args, flags)
        if extra is not None:
            extra.shape(args, data)
        command = m.parse(spec.model, data)
        with service_for(args, settings) as service:
            result = service.run(spec.name, principal_from(args), command)
        emit(args, {"command": result.command, **result.data},
             [f"{result.command}: ok"] + [f"  {k}: {v}" for k, v in result.data.items()])
        return 0

    return run


def add_command_verbs(verbs: Verbs, specs: Iterable[CommandSpec], service_for: ServiceFor,
                      extras: dict[str, Extra] | None = None) -> None:
    """One verb per row with a ``cli`` part that the shell does not build by hand."""
    for spec in specs:
        if spec.cli is None or spec.cli.by_hand:
            continue
        parser = verbs.group(spec.cli.group).add_parser(spec.cli.verb, help=spec.cli.help)
        for flag in spec.cli.flags:
            add_flag(parser, flag)
        add_common(parser)
        extra = (extras or {}).get(spec.name)
        if extra is not None:
            extra.add(parser)
        parser.set_defaults(handler=_runner(spec, service_for, extra), registry_command=spec.name)
