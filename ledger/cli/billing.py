"""Billing verbs for the ``ledger`` command line; they call ``BillingService``.

``register(verbs)`` adds, each with ``--json``, ``--as PRINCIPAL``,
``--as-role ROLE`` and ``--key IDEMPOTENCY_KEY``:

    ledger firm setup          ledger timekeepers add     ledger clients onboard|balance
    ledger matters open|close  ledger rates set           ledger time log|correct|void
    ledger expenses log        ledger recoveries record   ledger access grant|revoke
    ledger invoices draft|write-down|issue|void|write-off|credit-note|show
    ledger payments record|allocate                       ledger demo

Without ``--key`` a fresh key is generated (pass one to make a retry safe).
The command line runs as a firm admin unless ``--as``/``--as-role`` say otherwise.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from commands import models as m
from commands.auth import Principal
from commands.demo import record_demo_scenario
from commands.errors import InvalidCommandError
from commands.service import BillingService
from ledger.cli.output import emit, open_store
from ledger.cli.verbs import Verbs
from ledger.errors import LedgerError
from ledger.settings import Settings

__all__ = ["record_demo_scenario", "register"]

# (group, verb, service method, model, help, [(flag, field, type, required)])
Arg = tuple[str, str, Callable[[str], Any], bool]
VERBS: list[tuple[str, str, str, type[m.Command], str, list[Arg]]] = [
    ("firm", "setup", "set_up_firm", m.SetUpFirm, "set the firm's currency and invoice series",
     [("--currency", "currency", str, True), ("--prefix", "invoice_prefix", str, False),
      ("--first", "first_invoice_number", int, False), ("--digits", "number_digits", int, False)]),
    ("timekeepers", "add", "register_timekeeper", m.RegisterTimekeeper, "register a timekeeper",
     [("--id", "timekeeper_id", str, True), ("--name", "name", str, True),
      ("--title", "title", str, True), ("--rate", "default_rate_minor_per_hour", int, True)]),
    ("clients", "onboard", "onboard_client", m.OnboardClient, "onboard a client",
     [("--name", "name", str, True), ("--contact", "billing_contact", str, True),
      ("--currency", "currency", str, True), ("--terms", "payment_terms_days", int, True)]),
    ("matters", "open", "open_matter", m.OpenMatter, "open a matter",
     [("--client", "client_id", str, True), ("--title", "title", str, True),
      ("--opened-on", "opened_on", str, True)]),
    ("matters", "close", "close_matter", m.CloseMatter, "close a matter",
     [("--matter", "matter_id", str, True), ("--reason", "reason", str, True),
      ("--closed-on", "closed_on", str, True)]),
    ("rates", "set", "set_rate", m.SetRate, "set a timekeeper's rate on a matter",
     [("--matter", "matter_id", str, True), ("--timekeeper", "timekeeper_id", str, True),
      ("--rate", "rate_minor_per_hour", int, True), ("--from", "effective_from", str, True)]),
    ("time", "log", "log_time", m.LogTime, "log time",
     [("--matter", "matter_id", str, True), ("--timekeeper", "timekeeper_id", str, True),
      ("--date", "work_on", str, True), ("--minutes", "minutes", int, True),
      ("--narrative", "narrative", str, True), ("--task", "task_code", str, False),
      ("--activity", "activity_code", str, False)]),
    ("time", "correct", "correct_time", m.CorrectTime, "correct an unbilled time entry",
     [("--matter", "matter_id", str, True), ("--entry", "entry_id", str, True),
      ("--minutes", "minutes", int, False), ("--date", "work_on", str, False),
      ("--reason", "reason", str, True), ("--corrected-on", "corrected_on", str, True)]),
    ("time", "void", "void_entry", m.VoidEntry, "void an unbilled time or expense entry",
     [("--matter", "matter_id", str, True), ("--entry", "entry_id", str, True),
      ("--reason", "reason", str, True), ("--voided-on", "voided_on", str, True)]),
    ("expenses", "log", "log_expense", m.LogExpense, "log an expense",
     [("--matter", "matter_id", str, True), ("--date", "spent_on", str, True),
      ("--amount", "amount_minor", int, True), ("--currency", "currency", str, True),
      ("--description", "description", str, True), ("--code", "expense_code", str, False)]),
    ("recoveries", "record", "record_recovery", m.RecordRecovery, "record a recovery",
     [("--matter", "matter_id", str, True), ("--amount", "amount_minor", int, True),
      ("--date", "recovered_on", str, True)]),
    ("invoices", "draft", "draft_invoice", m.DraftInvoice, "draft an invoice for a period",
     [("--matter", "matter_id", str, True), ("--from", "period_start", str, True),
      ("--to", "period_end", str, True), ("--drafted-on", "drafted_on", str, True)]),
    ("invoices", "write-down", "write_down", m.WriteDown, "write a draft's line down",
     [("--invoice", "invoice_id", str, True), ("--line", "line_no", int, True),
      ("--amount", "amount_minor", int, True), ("--reason", "reason", str, True),
      ("--date", "written_down_on", str, True)]),
    ("invoices", "issue", "issue_invoice", m.IssueInvoice, "issue a draft (numbers it)",
     [("--invoice", "invoice_id", str, True), ("--date", "issued_on", str, True)]),
    ("invoices", "void", "void_invoice", m.VoidInvoice, "void an unpaid invoice",
     [("--invoice", "invoice_id", str, True), ("--reason", "reason", str, True),
      ("--date", "voided_on", str, True)]),
    ("invoices", "write-off", "write_off", m.WriteOff, "write off an uncollectible balance",
     [("--invoice", "invoice_id", str, True), ("--amount", "amount_minor", int, True),
      ("--reason", "reason", str, True), ("--approved-by", "approved_by", str, True),
      ("--date", "written_off_on", str, True)]),
    ("invoices", "credit-note", "issue_credit_note", m.IssueCreditNote, "issue a credit note",
     [("--invoice", "invoice_id", str, True), ("--amount", "amount_minor", int, True),
      ("--reason", "reason", str, True), ("--date", "issued_on", str, True)]),
    ("payments", "record", "record_payment", m.RecordPayment, "record a payment received",
     [("--client", "client_id", str, True), ("--amount", "amount_minor", int, True),
      ("--currency", "currency", str, True), ("--method", "method", str, True),
      ("--reference", "reference", str, True), ("--date", "received_on", str, True)]),
    ("payments", "allocate", "allocate_payment", m.AllocatePayment, "allocate a payment",
     [("--payment", "payment_id", str, True), ("--date", "allocated_on", str, True)]),
    ("access", "grant", "grant_access", m.GrantAccess, "grant access to a client or matter",
     [("--principal", "principal_id", str, True), ("--scope", "scope", str, True),
      ("--scope-id", "scope_id", str, True), ("--role", "role", str, True),
      ("--reason", "reason", str, True), ("--expires-on", "expires_on", str, False)]),
    ("access", "revoke", "revoke_access", m.RevokeAccess, "revoke a grant",
     [("--principal", "principal_id", str, True), ("--grant", "grant_id", str, True),
      ("--reason", "reason", str, True)]),
]


def principal_from(args: argparse.Namespace) -> Principal:
    roles = frozenset(args.as_roles or ["firm_admin"])
    return Principal.model_validate({"id": args.principal, "roles": roles})


def _allocations(pairs: list[str] | None) -> list[dict[str, str]]:
    allocations = []
    for pair in pairs or []:
        invoice, _, amount = pair.partition("=")
        if not amount.isdigit():
            raise LedgerError("--allocate is INVOICE_ID=AMOUNT_MINOR", field="allocations")
        allocations.append({"invoice_id": invoice, "amount_minor": amount})
    return allocations


def command_data(args: argparse.Namespace, model: type[m.Command],
                 spec: list[Arg]) -> dict[str, Any]:
    data: dict[str, Any] = {"idempotency_key": args.key or f"cli-{uuid.uuid4()}"}
    for _flag, field, _type, _required in spec:
        value = getattr(args, field)
        if value is not None:
            data[field] = value
    if model is m.OpenMatter:
        terms: dict[str, Any] = {"kind": args.arrangement}
        if args.arrangement == "hourly":
            terms["increment_minutes"] = args.increment
        elif args.arrangement == "flat_fee":
            terms["amount_minor"] = args.fee
        else:
            terms["percentage_bp"] = args.percentage_bp
        data["arrangement"] = terms
        data["utbms"] = args.utbms
    if model is m.LogTime:
        data["billable"] = not args.non_billable
    if model in (m.RecordPayment, m.AllocatePayment):
        data["allocations"] = [
            {**a, "amount_minor": int(a["amount_minor"])} for a in _allocations(args.allocate)
        ]
    return data


def _service(args: argparse.Namespace, settings: Settings) -> BillingService:

    return BillingService(open_store(args, settings))


def _runner(method: str, model: type[m.Command], spec: list[Arg]) -> Callable[..., int]:
    def run(args: argparse.Namespace, settings: Settings) -> int:

        command = m.parse(model, command_data(args, model, spec))
        with _service(args, settings) as service:
            result = getattr(service, method)(principal_from(args), command)
        emit(args, {"command": result.command, **result.data},
             [f"{result.command}: ok"] + [f"  {k}: {v}" for k, v in result.data.items()])
        return 0

    return run


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--as", dest="principal", default="cli-admin", help="acting principal")
    parser.add_argument("--as-role", dest="as_roles", action="append",
                        help="the acting principal's role (repeatable)")
    parser.add_argument("--key", help="idempotency key (default: a fresh one)")


def parse_id(text: str, field: str) -> UUID:
    """An id from the command line, or one clear refusal naming the field."""
    try:
        return UUID(text)
    except ValueError:
        raise InvalidCommandError(f"{field} must be an id (a UUID)", field=field) from None


def _show_balance(args: argparse.Namespace, settings: Settings) -> int:

    with _service(args, settings) as service:
        who, client_id = principal_from(args), parse_id(args.client, "client")
        data = {"client_id": args.client,
                "open_balance_minor": service.client_open_balance(who, client_id),
                "unapplied_credit_minor": service.client_unapplied_credit(who, client_id)}
    emit(args, data, [f"{k}: {v}" for k, v in data.items()])
    return 0


def _show_invoice(args: argparse.Namespace, settings: Settings) -> int:

    with _service(args, settings) as service:
        data = service.invoice_state(principal_from(args), parse_id(args.invoice, "invoice"))
    emit(args, dict(data), [f"{k}: {v}" for k, v in data.items()])
    return 0


def register(verbs: Verbs) -> None:
    """Add the billing verbs to the ``ledger`` command line."""
    for group, verb, method, model, help_text, spec in VERBS:
        parser = verbs.group(group).add_parser(verb, help=help_text)
        for flag, field, kind, required in spec:
            parser.add_argument(flag, dest=field, type=kind, required=required)
        _common(parser)
        if model is m.OpenMatter:
            parser.add_argument("--arrangement", default="hourly",
                                choices=["hourly", "flat_fee", "contingency"])
            parser.add_argument("--increment", type=int, default=6)
            parser.add_argument("--fee", type=int, help="flat fee in minor units")
            parser.add_argument("--percentage-bp", type=int, help="contingency, basis points")
            parser.add_argument("--utbms", action="store_true")
        if model is m.LogTime:
            parser.add_argument("--non-billable", action="store_true")
        if model in (m.RecordPayment, m.AllocatePayment):
            parser.add_argument("--allocate", action="append", metavar="INVOICE=AMOUNT")
        parser.set_defaults(handler=_runner(method, model, spec))
    balance = verbs.group("clients").add_parser("balance", help="a client's open balance")
    balance.add_argument("client")
    _common(balance)
    balance.set_defaults(handler=_show_balance)
    show = verbs.group("invoices").add_parser("show", help="an invoice's state")
    show.add_argument("invoice")
    _common(show)
    show.set_defaults(handler=_show_invoice)
