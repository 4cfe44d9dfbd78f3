"""How the modules of ``ledger.cli`` add their verbs to the one parser.

:class:`Verbs` creates a verb group (``clients``, ``trust``, ...) once, with the help
text of :data:`GROUPS`, so a group may collect verbs from several modules without any
of them knowing which came first (and without reaching into argparse's internals).
"""

from __future__ import annotations

import argparse
from typing import Any

GROUPS: dict[str, str] = {
    "access": "access grants and breach-scope reports",
    "audit": "what the ledger still exposes (unkeyed fingerprints)",
    "clients": "clients: onboard, balances, erasure, data keys",
    "db": "database set-up and the embedded server",
    "events": "the event feed",
    "expenses": "expenses",
    "export": "exports",
    "firm": "the firm's currency and invoice series",
    "invoices": "invoices: draft, issue, void, write-offs, credit notes, listings",
    "keys": "API keys and data keys",
    "matters": "matters",
    "payments": "payments received and their allocation",
    "projections": "read models: rebuild, status, run live",
    "rates": "timekeepers' rates on matters",
    "recoveries": "contingency recoveries",
    "relay": "publish the ledger to NATS JetStream",
    "report": "reports (live or --as-of)",
    "time": "time entries",
    "timekeepers": "timekeepers",
    "trust": "client trust (IOLTA) accounting",
    "webhooks": "webhook endpoints and their delivery",
}
"""Every verb group and its help line (the one place a group is described)."""


class Verbs:
    """The top-level verbs and verb groups of the ``ledger`` parser."""

    def __init__(self, subparsers: Any) -> None:
        self._subparsers = subparsers
        self._groups: dict[str, Any] = {}

    def verb(self, name: str, help_text: str) -> argparse.ArgumentParser:
        """A top-level verb (``serve``, ``verify``, ...)."""
        parser: argparse.ArgumentParser = self._subparsers.add_parser(name, help=help_text)
        return parser

    def group(self, name: str) -> Any:
        """The ACTION subparsers of a verb group, made on first use."""
        if name not in self._groups:
            parent = self._subparsers.add_parser(name, help=GROUPS[name])
            self._groups[name] = parent.add_subparsers(dest=f"{name}_verb", metavar="ACTION",
                                                       required=True)
        return self._groups[name]
