"""Billing verbs for the ``ledger`` command line; they call ``BillingService``.

``register(verbs)`` adds the verbs of the command registry's rows (built by
``ledger.cli.command_verbs``), each with ``--json``, ``--as PRINCIPAL``,
``--as-role ROLE`` and ``--key IDEMPOTENCY_KEY``:

    ledger firm setup          ledger timekeepers add     ledger clients onboard|balance
    ledger matters open|close  ledger rates set           ledger time log|correct|void
    ledger expenses log        ledger recoveries record   ledger access grant|revoke
    ledger invoices draft|write-down|issue|void|write-off|credit-note|show
    ledger payments record|allocate                       ledger demo

Without ``--key`` a fresh key is generated (pass one to make a retry safe).
The command line runs as a firm admin unless ``--as``/``--as-role`` say otherwise.

``clients balance`` and ``invoices show`` answer from the read model (caught up
to the head first), the one source of the figures the API and the reports show.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from typing import Any

from commands.demo import record_demo_scenario
from commands.registry import COMMANDS
from commands.service import BillingService
from ledger.cli.command_verbs import Extra, add_command_verbs, add_common, principal_from
from ledger.cli.output import emit, open_store, parse_id
from ledger.cli.verbs import Verbs
from ledger.errors import LedgerError
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from projections import reports
from projections.query import open_books, statement_report

__all__ = ["principal_from", "record_demo_scenario", "register"]


def _open_matter_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--arrangement", default="hourly",
                        choices=["hourly", "flat_fee", "contingency"])
    parser.add_argument("--increment", type=int, default=6)
    parser.add_argument("--fee", type=int, help="flat fee in minor units")
    parser.add_argument("--percentage-bp", type=int, help="contingency, basis points")


def _open_matter_terms(args: argparse.Namespace, data: dict[str, Any]) -> None:
    terms: dict[str, Any] = {"kind": args.arrangement}
    if args.arrangement == "hourly":
        terms["increment_minutes"] = args.increment
    elif args.arrangement == "flat_fee":
        terms["amount_minor"] = args.fee
    else:
        terms["percentage_bp"] = args.percentage_bp
    data["arrangement"] = terms


def _allocate_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allocate", action="append", metavar="INVOICE=AMOUNT")


def _allocations(args: argparse.Namespace, data: dict[str, Any]) -> None:
    allocations = []
    for pair in args.allocate or []:
        invoice, _, amount = pair.partition("=")
        if not amount.isdigit():
            raise LedgerError("--allocate is INVOICE_ID=AMOUNT_MINOR", field="allocations")
        allocations.append({"invoice_id": invoice, "amount_minor": int(amount)})
    data["allocations"] = allocations


EXTRAS: dict[str, Extra] = {
    "open_matter": Extra(_open_matter_add, _open_matter_terms),
    "record_payment": Extra(_allocate_add, _allocations),
    "allocate_payment": Extra(_allocate_add, _allocations),
}
"""What the registry's flags cannot say: nested terms and repeated allocations."""


def _service(args: argparse.Namespace, settings: Settings) -> BillingService:
    return BillingService(open_store(args, settings))


def _today() -> date:
    return datetime.now(UTC).date()


def _firm_store(service: BillingService) -> FirmStore:
    """The service's PostgreSQL store, where the read model lives (never a memory store here)."""
    store = service.store
    assert isinstance(store, FirmStore), "the command line runs on a firm's PostgreSQL store"
    return store


def _show_balance(args: argparse.Namespace, settings: Settings) -> int:
    """The client's figures from the read model, as ``GET /v1/clients/{id}/balance``."""
    with _service(args, settings) as service:
        who, client_id = principal_from(args), parse_id(args.client, "client")
        service.require_read(who, client_id)
        body = statement_report(_firm_store(service), client_id, date(1900, 1, 1), _today())
    aging = body["aging"]
    data = {"client_id": args.client, "open_balance_minor": aging["total_open_minor"],
            "unapplied_credit_minor": aging["unapplied_credit_minor"]}
    emit(args, data, [f"{k}: {v}" for k, v in data.items()])
    return 0


SHOWN = ("invoice_id", "status", "number", "currency", "total_minor", "paid_minor",
         "credited_minor", "written_off_minor", "open_balance_minor", "due_on")


def _show_invoice(args: argparse.Namespace, settings: Settings) -> int:
    """The invoice's figures from the read model, as ``GET /v1/invoices/{id}``."""
    with _service(args, settings) as service:
        invoice_id = parse_id(args.invoice, "invoice")
        invoice = service.invoice(principal_from(args), invoice_id)  # exists, may be read
        with open_books(_firm_store(service), ["directory", "balances"], None,
                        invoice.client_id) as books:
            rows = reports.invoice_balances(books.reader, _today(), invoice.client_id)
    row = next(r for r in rows if r["invoice_id"] == str(invoice_id))
    data = {k: row["open_minor" if k == "open_balance_minor" else k] for k in SHOWN}
    emit(args, data, [f"{k}: {v}" for k, v in data.items()])
    return 0


def register(verbs: Verbs) -> None:
    """Add the registry's billing verbs (every group but ``trust``) and the two queries."""
    rows = [spec for spec in COMMANDS.values() if spec.cli and spec.cli.group != "trust"]
    # Looked up when run, not now, so ``_service`` can be substituted (tests do).
    add_command_verbs(verbs, rows, lambda a, s: _service(a, s), EXTRAS)  # noqa: PLW0108
    balance = verbs.group("clients").add_parser("balance", help="a client's open balance")
    balance.add_argument("client")
    add_common(balance)
    balance.set_defaults(handler=_show_balance)
    show = verbs.group("invoices").add_parser("show", help="an invoice's state")
    show.add_argument("invoice")
    add_common(show)
    show.set_defaults(handler=_show_invoice)
