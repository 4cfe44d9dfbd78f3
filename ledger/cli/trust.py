"""Trust verbs of the ``ledger`` command line (write side); they call ``BillingService``.

``register(verbs)`` adds, each with ``--json``, ``--as PRINCIPAL``,
``--as-role ROLE`` and ``--key IDEMPOTENCY_KEY``::

    ledger trust open-account --bank B --account-number N --currency C --jurisdiction J
                              [--no-iolta] [--cushion MINOR] --date D
    ledger trust deposit --account A --client C --matter M --amount MINOR --currency C
                         --payor P --purpose retainer|settlement|cost_advance --reference R --date D
    ledger trust reverse-deposit --account A --deposit DEP --reason R [--reference R] --date D
    ledger trust disburse --account A --client C --matter M --amount MINOR --currency C
                          --payee P --purpose TEXT --method check|wire --reference CHECK_OR_WIRE
                          --authorised-by PRINCIPAL [--memo MEMO] --date D
    ledger trust to-operating --account A --matter M --amount MINOR [--invoice I]
                              --reference R --notice-sent-on D --notice-ref R --date D
    ledger trust between-matters --account A --from-matter M --to-matter M --amount MINOR
                                 --consent-ref R --consent-on D --date D
    ledger trust request-replenishment --account A --matter M --floor MINOR [--target MINOR]
                                       --due-on D --date D
    ledger trust dispute|resolve-dispute ...   ledger trust firm-funds|bank-charge ...
    ledger trust import-statement --account A --from D --to D --opening MINOR --closing MINOR
                                  --csv FILE          (format: ledger.domain.trust.statements)
    ledger trust reconcile --account A --period-end D --date D     (sign a balanced month)

The read-side verbs of the same group (ledgers, journals, reconciliation
report...) come from ``ledger.cli.trust_reports``; whichever registers first
creates the ``trust`` group.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from commands import models as m
from commands.service import BillingService
from commands.trust import models as t
from ledger.cli.billing import command_data, principal_from
from ledger.cli.output import emit, open_store
from ledger.cli.verbs import Verbs
from ledger.errors import LedgerError
from ledger.settings import Settings

Arg = tuple[str, str, Callable[[str], Any], bool]
A = ("--account", "account_id", str, True)

VERBS: list[tuple[str, str, type[m.Command], str, list[Arg]]] = [
    ("open-account", "open_trust_account", t.OpenTrustAccount, "open a trust bank account",
     [("--bank", "bank", str, True), ("--account-number", "account_number", str, True),
      ("--currency", "currency", str, True), ("--jurisdiction", "jurisdiction", str, True),
      ("--cushion", "bank_charge_cushion_minor", int, False),
      ("--date", "opened_on", str, True)]),
    ("deposit", "record_trust_deposit", t.RecordTrustDeposit, "record money received in trust",
     [A, ("--client", "client_id", str, True), ("--matter", "matter_id", str, True),
      ("--amount", "amount_minor", int, True), ("--currency", "currency", str, True),
      ("--payor", "payor", str, True), ("--purpose", "purpose", str, True),
      ("--reference", "reference", str, True), ("--date", "received_on", str, True)]),
    ("reverse-deposit", "reverse_trust_deposit", t.ReverseTrustDeposit,
     "reverse a deposit returned unpaid",
     [A, ("--deposit", "deposit_id", str, True), ("--reason", "reason", str, True),
      ("--reference", "reference", str, False), ("--date", "reversed_on", str, True)]),
    ("disburse", "record_trust_disbursement", t.RecordTrustDisbursement,
     "pay out of trust for a client",
     [A, ("--client", "client_id", str, True), ("--matter", "matter_id", str, True),
      ("--amount", "amount_minor", int, True), ("--currency", "currency", str, True),
      ("--payee", "payee", str, True), ("--purpose", "purpose", str, True),
      ("--method", "method", str, True), ("--reference", "reference", str, True),
      ("--authorised-by", "authorised_by", str, True),
      ("--memo", "authorisation_memo", str, False), ("--date", "paid_on", str, True)]),
    ("to-operating", "transfer_trust_to_operating", t.TransferTrustToOperating,
     "move earned money to operating (against an invoice, or an earned flat fee)",
     [A, ("--matter", "matter_id", str, True), ("--amount", "amount_minor", int, True),
      ("--invoice", "invoice_id", str, False), ("--reference", "reference", str, True),
      ("--notice-sent-on", "client_notice_sent_on", str, False),
      ("--notice-ref", "notice_reference", str, False),
      ("--date", "transferred_on", str, True)]),
    ("between-matters", "transfer_trust_between_matters", t.TransferTrustBetweenMatters,
     "move client money between matters (with the client's consent)",
     [A, ("--from-matter", "from_matter_id", str, True),
      ("--to-matter", "to_matter_id", str, True), ("--amount", "amount_minor", int, True),
      ("--consent-ref", "client_consent_ref", str, False),
      ("--consent-on", "consent_on", str, False), ("--date", "transferred_on", str, True)]),
    ("request-replenishment", "request_trust_replenishment", t.RequestTrustReplenishment,
     "ask the client to refill an evergreen retainer",
     [A, ("--matter", "matter_id", str, True), ("--floor", "floor_minor", int, True),
      ("--target", "target_minor", int, False), ("--due-on", "due_on", str, True),
      ("--date", "requested_on", str, True)]),
    ("dispute", "dispute_trust_funds", t.DisputeTrustFunds, "hold disputed money in trust",
     [A, ("--matter", "matter_id", str, True), ("--amount", "amount_minor", int, True),
      ("--reason", "reason", str, True), ("--date", "disputed_on", str, True)]),
    ("resolve-dispute", "resolve_trust_dispute", t.ResolveTrustDispute, "release a hold",
     [A, ("--dispute", "dispute_id", str, True), ("--resolution", "resolution", str, True),
      ("--date", "resolved_on", str, True)]),
    ("firm-funds", "deposit_firm_funds", t.DepositFirmFunds,
     "put firm money in trust for bank charges",
     [A, ("--amount", "amount_minor", int, True), ("--reference", "reference", str, True),
      ("--date", "deposited_on", str, True)]),
    ("bank-charge", "record_bank_charge", t.RecordBankCharge, "record a bank fee",
     [A, ("--amount", "amount_minor", int, True), ("--reference", "reference", str, True),
      ("--description", "description", str, True), ("--date", "charged_on", str, True)]),
    ("import-statement", "import_bank_statement", t.ImportBankStatement,
     "import a bank statement CSV",
     [A, ("--from", "period_start", str, True), ("--to", "statement_date", str, True),
      ("--opening", "opening_balance_minor", int, True),
      ("--closing", "closing_balance_minor", int, True)]),
    ("reconcile", "complete_trust_reconciliation", t.CompleteTrustReconciliation,
     "sign the three-way reconciliation of a month end",
     [A, ("--period-end", "period_end", str, True), ("--date", "signed_on", str, True)]),
]


def _runner(method: str, model: type[m.Command], spec: list[Arg]) -> Callable[..., int]:
    def run(args: argparse.Namespace, settings: Settings) -> int:

        data = command_data(args, model, spec)
        if model is t.OpenTrustAccount:
            data["iolta"] = not args.no_iolta
        if model is t.ImportBankStatement:
            try:
                data["csv"] = Path(args.csv).read_text(encoding="utf-8")
            except OSError as exc:
                raise LedgerError(f"cannot read the statement file: {exc.strerror}",
                                  field="csv") from None
        command = m.parse(model, data)
        with BillingService(open_store(args, settings)) as service:
            result = getattr(service, method)(principal_from(args), command)
        emit(args, {"command": result.command, **result.data},
             [f"{result.command}: ok"] + [f"  {k}: {v}" for k, v in result.data.items()])
        return 0

    return run


def register(verbs: Verbs) -> None:
    """Add the trust command verbs to the ``ledger`` command line."""
    trust = verbs.group("trust")
    for verb, method, model, help_text, spec in VERBS:
        parser = trust.add_parser(verb, help=help_text)
        for flag, field, kind, required in spec:
            parser.add_argument(flag, dest=field, type=kind, required=required)
        parser.add_argument("--json", action="store_true", help="print JSON")
        parser.add_argument("--as", dest="principal", default="cli-admin",
                            help="acting principal")
        parser.add_argument("--as-role", dest="as_roles", action="append",
                            help="the acting principal's role (repeatable)")
        parser.add_argument("--key", help="idempotency key (default: a fresh one)")
        if model is t.OpenTrustAccount:
            parser.add_argument("--no-iolta", action="store_true",
                                help="a separate (non-pooled) trust account")
        if model is t.ImportBankStatement:
            parser.add_argument("--csv", required=True, metavar="FILE",
                                help="date,description,amount_minor,reference")
        parser.set_defaults(handler=_runner(method, model, spec))
