"""The ``ledger`` command line: one parser, one module per verb group.

Every verb works on one firm's ledger, chosen with ``--firm`` or ``LEDGER_FIRM``.
Exit codes: 0 success, 1 verification found damage, 2 a refused or failed command.

Each module of this package adds its verbs through ``ledger.cli.verbs.Verbs``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from ledger import __version__, bootstrap
from ledger.cli import (
    billing,
    keys,
    proofs,
    reports,
    serve,
    store,
    subscribers,
    trust,
    trust_reports,
)
from ledger.cli.verbs import Verbs
from ledger.errors import LedgerError
from ledger.logs import configure_logging
from ledger.settings import Settings

MAX_POOL_SIZE = 100

REGISTRARS = (store.register, billing.register, reports.register, trust.register,
              trust_reports.register, proofs.register, keys.register, serve.register,
              subscribers.register)
"""Every module that adds verbs, in the order ``ledger --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledger", description="Event-sourced, hash-chained billing ledger for law firms."
    )
    parser.add_argument("--version", action="version", version=f"ledger {__version__}")
    parser.add_argument("--firm", help="firm whose ledger to use (default: LEDGER_FIRM or "
                        "'default')")
    parser.add_argument("--pool-size", type=pool_size, metavar="N",
                        help="PostgreSQL connections this process may hold in its pool, "
                        "1-100 (default: LEDGER_POOL_SIZE or 10; LISTEN adds one)")
    verbs = Verbs(parser.add_subparsers(dest="verb", metavar="VERB", required=True))
    for register in REGISTRARS:
        register(verbs)
    return parser


def pool_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_POOL_SIZE:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {MAX_POOL_SIZE}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = Settings()
    except ValidationError as exc:  # e.g. LEDGER_POOL_SIZE=0: one line, not a traceback
        first = exc.errors()[0]
        name = "LEDGER_" + "_".join(str(p) for p in first.get("loc", ())).upper()
        print(f"error: {name}: {first.get('msg', 'invalid value')}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.pool_size is not None:
        settings = settings.model_copy(update={"pool_size": args.pool_size})
    try:
        code: int = args.handler(args, settings)
    except LedgerError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        bootstrap.close_process()  # the process's pool, opened by its first store
    return code
