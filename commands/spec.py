"""The shape of one row of the command registry (``commands.registry``).

A row is plain data: the command model, its handler, and for each entry point
what it needs to expose the command (a service method name, an HTTP path with
the roles that may call it, a command-line verb with its flags). The write side
may not import the shell (``ledger.api``, ``ledger.cli``), so the shell reads
these rows and builds its routes and verbs from them; nothing here knows about
FastAPI or argparse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from commands.decision import Handler
from commands.models import Command
from ledger.domain.roles import Role

if TYPE_CHECKING:
    from commands.auth import Principal
    from commands.service import BillingService, CommandResult

    Runner = Callable[[BillingService, Principal, Any], CommandResult]


@dataclass(frozen=True)
class Http:
    """``POST path``: the ids in ``{braces}`` come from the path, the rest from the body."""

    path: str
    roles: frozenset[Role]
    summary: str
    tag: str = "commands"

    @property
    def path_fields(self) -> list[str]:
        return [p.strip("{}") for p in self.path.split("/") if p.startswith("{")]


@dataclass(frozen=True)
class Flag:
    """A command-line flag that fills one field of the command.

    ``switch`` is ``None`` for a flag taking a value (parsed with ``kind``); ``True``
    for a flag whose presence sets the field true (``--utbms``), ``False`` for one
    whose presence sets it false (``--non-billable``); a switch always sets its field.
    """

    flag: str
    field: str
    kind: Callable[[str], Any] = str
    required: bool = True
    switch: bool | None = None
    help: str | None = None


def opt(flag: str, field: str, kind: Callable[[str], Any] = str, help: str | None = None) -> Flag:
    """An optional flag (the model's default applies when it is left out)."""
    return Flag(flag, field, kind, required=False, help=help)


def switch(flag: str, field: str, *, sets: bool, help: str | None = None) -> Flag:
    return Flag(flag, field, required=False, switch=sets, help=help)


@dataclass(frozen=True)
class Cli:
    """``ledger GROUP VERB --flag ...``; the shell adds ``--json --as --as-role --key``.

    ``by_hand`` names a verb the shell builds itself (other arguments, other
    output); the registry still records that the command is on the command line.
    """

    group: str
    verb: str
    help: str
    flags: tuple[Flag, ...] = ()
    by_hand: bool = False


@dataclass(frozen=True)
class CommandSpec:
    """One command: its model, its handler and its entry points.

    ``name`` is the ``BillingService`` method, the command record's ``command``
    and the API's ``command`` field. ``http`` or ``cli`` is ``None`` where the
    command is deliberately not offered there (the row says why). A command
    with an effect outside the chain (erasure destroys keys after recording)
    has a ``run`` instead of a handler: it calls ``execute`` itself.
    """

    name: str
    model: type[Command]
    handler: Handler | None
    http: Http | None
    cli: Cli | None
    run: Runner | None = None

    def __post_init__(self) -> None:
        if (self.handler is None) == (self.run is None):
            raise ValueError(f"{self.name}: give a handler or a runner, not both or neither")
