"""What every verb of the command line shares: the firm's store and how results print.

Results print as aligned text lines, or as one JSON document with ``--json``
(sorted keys, so a script can diff two runs).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from ledger.database import locate_database
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from ledger.store.schema import schema_for_firm


def open_store(args: argparse.Namespace, settings: Settings, *, create: bool = True) -> FirmStore:
    """The firm's store, created on first use (schema, tables, triggers, role)."""
    firm = args.firm or settings.firm
    schema_for_firm(firm)  # refuse a bad name before starting or reaching any server
    store = FirmStore(locate_database(settings), firm, pool_size=settings.pool_size)
    if create:
        store.ensure()
    return store


def emit(args: argparse.Namespace, data: dict[str, Any], lines: Sequence[str]) -> None:
    """Print ``data`` as JSON under ``--json``, else the human-readable ``lines``."""
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, default=str, sort_keys=True))
    else:
        for line in lines:
            print(line)
