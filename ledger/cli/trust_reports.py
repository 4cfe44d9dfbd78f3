"""Trust reports on the ``ledger`` command line (read side), in the ``trust`` group::

    ledger trust ledgers --account A [--client C] [--on DATE]
    ledger trust journals --account A --period FROM..TO
    ledger trust trial-balance --account A [--on DATE]
    ledger trust reconciliation --account A --period-end DATE
    ledger trust evergreen [--on DATE]
    ledger trust exceptions [--on DATE] [--stale-days N]
    ledger trust signers --account A

Each takes ``--as-of T`` (the books as recorded up to that moment) and ``--json``.
Without ``--json`` a short summary is printed; the JSON is the full report.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from ledger.cli.output import emit, parse_id
from ledger.cli.reports import _store, parse_day, parse_moment, parse_period
from ledger.cli.verbs import Verbs
from ledger.settings import Settings
from projections.trust import reports as r
from projections.trust.books import load_books

Report = Callable[[Any, argparse.Namespace, date], dict[str, Any]]


def _on(args: argparse.Namespace) -> date:
    if getattr(args, "on", None):
        return parse_day(args.on)
    moment = parse_moment(args.as_of) if args.as_of else datetime.now(UTC)
    return moment.astimezone(UTC).date()


def _summary(report: dict[str, Any]) -> list[str]:
    lines = [f"{k}: {v}" for k, v in report.items() if not isinstance(v, (list, dict))]
    for client in report.get("clients", []):  # a ledger is read by the client's name
        lines.append(f"  {client['client_name'] or '-':24} {client['client_id']}  "
                     f"balance {client['balance_minor']}")
    for signer in report.get("signers", []):
        admin = "firm admin" if signer["firm_admin"] else "signer"
        lines.append(f"  {signer['principal_id']:24} {admin:10}  added {signer['added_on']} "
                     f"by {signer['added_by']}")
    return lines


def _run(report: Report) -> Callable[[argparse.Namespace, Settings], int]:
    def run(args: argparse.Namespace, settings: Settings) -> int:

        as_of = parse_moment(args.as_of) if args.as_of else None
        books = load_books(_store(args, settings), as_of)
        data = report(books, args, _on(args))
        emit(args, data, _summary(data))
        return 0

    return run


def _account(args: argparse.Namespace) -> Any:
    return parse_id(args.account, "account")


REPORTS: list[tuple[str, str, Report, list[str]]] = [
    ("ledgers", "per-client and per-matter trust ledgers with running balances",
     lambda b, a, on: r.client_ledgers(b, _account(a), on,
                                       parse_id(a.client, "client") if a.client else None),
     ["account", "client", "on"]),
    ("journals", "receipts and disbursements journals and the firm ledger",
     lambda b, a, on: r.journals(b, _account(a), *parse_period(a.period)),
     ["account", "period"]),
    ("trial-balance", "client-ledger trial balance",
     lambda b, a, on: r.trial_balance(b, _account(a), on), ["account", "on"]),
    ("reconciliation", "three-way reconciliation of a month end",
     lambda b, a, on: r.three_way(b, _account(a), parse_day(a.period_end, "period_end")),
     ["account", "period_end"]),
    ("evergreen", "evergreen retainers against their floors",
     lambda b, a, on: r.evergreen(b, on), ["on"]),
    ("signers", "the account's current authorised signers",
     lambda b, a, on: r.signers(b, _account(a)), ["account"]),
    ("exceptions", "stale balances, unidentified funds, transfers without notice...",
     lambda b, a, on: r.exceptions(b, on, a.stale_days), ["on", "stale_days"]),
]

FLAGS: dict[str, tuple[str, dict[str, Any]]] = {
    "account": ("--account", {"required": True, "help": "trust account id"}),
    "client": ("--client", {"help": "one client only"}),
    "on": ("--on", {"help": "business date (default: today, or as-of's date)"}),
    "period": ("--period", {"required": True, "metavar": "FROM..TO"}),
    "period_end": ("--period-end", {"required": True, "help": "the statement's closing date"}),
    "stale_days": ("--stale-days", {"type": int, "default": r.STALE_DAYS}),
}


def register(verbs: Verbs) -> None:
    trust = verbs.group("trust")
    for name, help_text, report, flags in REPORTS:
        parser = trust.add_parser(name, help=help_text)
        for flag in flags:
            option, kwargs = FLAGS[flag]
            parser.add_argument(option, dest=flag, **kwargs)
        parser.add_argument("--as-of", help="ISO 8601 moment: the books as recorded then")
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.set_defaults(handler=_run(report))
