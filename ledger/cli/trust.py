"""Trust verbs of the ``ledger`` command line (write side); they call ``BillingService``.

The verbs are the command registry's ``trust`` rows (``commands.trust.registry``
holds their flags). ``register(verbs)`` adds, each with ``--json``, ``--as PRINCIPAL``,
``--as-role ROLE`` and ``--key IDEMPOTENCY_KEY``::

    ledger trust open-account --bank B --account-number N --currency C --jurisdiction J
                              [--no-iolta] [--cushion MINOR] --date D
    ledger trust deposit --account A --client C --matter M --amount MINOR --currency C
                         --payor P --purpose retainer|settlement|cost_advance --reference R --date D
    ledger trust reverse-deposit --account A --deposit DEP --reason R [--reference R]
                                 [--after-use] --date D
    ledger trust cover-shortfall --account A --matter M --amount MINOR --reference R --date D
    ledger trust signer-add --account A --principal P [--firm-admin] --date D
    ledger trust signer-remove --account A --principal P --date D
    ledger trust disburse --account A --client C --matter M --amount MINOR --currency C
                          --payee P --purpose TEXT --method check|wire --reference CHECK_OR_WIRE
                          --authorised-by PRINCIPAL [--memo MEMO] --date D
    ledger trust to-operating --account A --matter M --amount MINOR [--invoice I]
                              --reference R --notice-sent-on D --notice-ref R
                              [--authorised-by P] --date D
    ledger trust between-matters --account A --from-matter M --to-matter M --amount MINOR
                                 --consent-ref R --consent-on D [--authorised-by P] --date D
                                 [--direction-ref R --direction-on D --approved-by ADMIN]
                                 (the last three when the matters' clients differ)
    ledger trust request-replenishment --account A --matter M --floor MINOR [--target MINOR]
                                       --due-on D --date D
    ledger trust dispute|resolve-dispute ...   ledger trust firm-funds|bank-charge ...
    ledger trust import-statement --account A --from D --to D --opening MINOR --closing MINOR
                                  --csv FILE          (format: ledger.domain.trust.statements)
    ledger trust reconcile --account A --period-end D --date D     (sign a balanced month;
                                                                    the actor must be a signer)

The read-side verbs of the same group (ledgers, journals, reconciliation
report...) come from ``ledger.cli.trust_reports``; whichever registers first
creates the ``trust`` group.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from commands.registry import COMMANDS
from commands.service import BillingService
from ledger.cli.command_verbs import Extra, add_command_verbs
from ledger.cli.output import open_store
from ledger.cli.verbs import Verbs
from ledger.errors import LedgerError
from ledger.settings import Settings


def _csv_add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--csv", required=True, metavar="FILE",
                        help="date,description,amount_minor,reference")


def _csv_text(args: argparse.Namespace, data: dict[str, Any]) -> None:
    try:
        data["csv"] = Path(args.csv).read_text(encoding="utf-8")
    except OSError as exc:
        raise LedgerError(f"cannot read the statement file: {exc.strerror}",
                          field="csv") from None


EXTRAS = {"import_bank_statement": Extra(_csv_add, _csv_text)}
"""What the registry's flags cannot say: the statement is a file the shell reads."""


def _service(args: argparse.Namespace, settings: Settings) -> BillingService:
    return BillingService(open_store(args, settings))


def register(verbs: Verbs) -> None:
    """Add the registry's ``trust`` command verbs to the ``ledger`` command line."""
    verbs.group("trust")
    rows = [spec for spec in COMMANDS.values() if spec.cli and spec.cli.group == "trust"]
    add_command_verbs(verbs, rows, _service, EXTRAS)
