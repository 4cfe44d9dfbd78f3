"""What every verb of the command line shares: the firm's store and how results print.

Results print as aligned text lines, or as one JSON document with ``--json``
(sorted keys, so a script can diff two runs).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from ledger import bootstrap
from ledger.errors import LedgerError
from ledger.settings import Settings
from ledger.store.firm import FirmStore

ROLES = {"cmd_serve": "serve", "cmd_rebuild": "rebuild", "cmd_run": "projections",
         "cmd_webhooks_deliver": "webhooks", "cmd_relay_run": "relay", "cmd_tail": "tail"}
"""``application_name`` suffix of the verbs that run long; every other verb is ``cli``."""


def role_of(args: argparse.Namespace) -> str:
    handler = getattr(args, "handler", None)
    return ROLES.get(getattr(handler, "__name__", ""), "cli")


def open_store(args: argparse.Namespace, settings: Settings, *, create: bool = True) -> FirmStore:
    """The firm's store on the process's one pool (see ``ledger.bootstrap``), created
    on first use (schema, tables, triggers, role)."""
    return bootstrap.open_store(settings, role=role_of(args), firm=args.firm, create=create)


def emit(args: argparse.Namespace, data: dict[str, Any], lines: Sequence[str]) -> None:
    """Print ``data`` as JSON under ``--json``, else the human-readable ``lines``."""
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, default=str, sort_keys=True))
    else:
        for line in lines:
            print(line)


def parse_id(text: str, field: str) -> UUID:
    """An id given on the command line, or one clear refusal naming the flag's field."""
    try:
        return UUID(text)
    except ValueError:
        raise LedgerError(f"{field} must be an id (a UUID)", field=field) from None
