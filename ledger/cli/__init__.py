"""The ``ledger`` command line: one parser, one module per verb group.

Every verb works on one firm's ledger, chosen with ``--firm`` or ``LEDGER_FIRM``.
Exit codes: 0 success, 1 verification found damage, 2 a refused or failed command.

Output: every failure is one line on stderr (``error: ...``), never a
traceback (``LEDGER_LOG_LEVEL=DEBUG`` shows the traceback of an unexpected
failure). A reader that closes the pipe early (``ledger report wip | head``)
ends the verb quietly with exit 0, as ``SIGPIPE`` ends a Unix filter; this is
handled here once, for every verb, by flushing stdout inside the guard and then
pointing the descriptor at ``/dev/null`` so the interpreter's own final flush
cannot fail again.

Each module of this package adds its verbs through ``ledger.cli.verbs.Verbs``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from ledger import __version__, bootstrap
from ledger.cli import (
    audit,
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
              trust_reports.register, proofs.register, keys.register, audit.register,
              serve.register, subscribers.register)
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
    """Run one verb; a closed stdout (even under ``--help``) ends it quietly with 0."""
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # a closed pipe shows here, inside the guard
    except BrokenPipeError:
        _silence_stdout()
        return 0


def _run(argv: Sequence[str] | None) -> int:
    try:
        settings = Settings()
    except ValidationError as exc:  # e.g. LEDGER_POOL_SIZE=0: one line, not a traceback
        first = exc.errors()[0]
        name = "LEDGER_" + "_".join(str(p) for p in first.get("loc", ())).upper()
        _fail(f"{name}: {first.get('msg', 'invalid value')}")
        return 2
    configure_logging(settings.log_level, settings.log_format)
    args = build_parser().parse_args(argv)
    if args.pool_size is not None:
        settings = settings.model_copy(update={"pool_size": args.pool_size})
    try:
        code: int = args.handler(args, settings)
    except BrokenPipeError:
        raise
    except LedgerError as exc:
        _fail(exc.message)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if settings.log_level.upper() == "DEBUG":
            raise
        # The class name only: a library's message may quote the data it choked on.
        _fail(f"unexpected {type(exc).__name__} (LEDGER_LOG_LEVEL=DEBUG shows where)")
        return 2
    finally:
        bootstrap.close_process()  # the process's pool, opened by its first store
    return code


def _fail(message: str) -> None:
    with contextlib.suppress(OSError):  # nobody is reading stderr either
        print(f"error: {' '.join(message.split())}", file=sys.stderr, flush=True)


def _silence_stdout() -> None:
    """Point stdout's descriptor at /dev/null: the unwritten rest is dropped quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass  # stdout is not a real descriptor (captured in tests): nothing to flush
