"""The ``ledger`` command line: a thin shell over the kernel and the handlers.

Every verb works on one firm's ledger, chosen with ``--firm`` or ``LEDGER_FIRM``.
Exit codes: 0 success, 1 verification found damage, 2 a refused or failed command.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ledger import __version__
from ledger.database import locate_database, stop_embedded
from ledger.errors import LedgerError
from ledger.logs import configure_logging
from ledger.progress import ProgressLine
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from ledger.store.schema import schema_for_firm
from ledger.verify import KnownHead, VerificationReport, verify_chain

Handler = Callable[[argparse.Namespace, Settings], int]


def open_store(args: argparse.Namespace, settings: Settings, *, create: bool = True) -> FirmStore:
    """The firm's store, created on first use (schema, tables, triggers, role)."""
    firm = args.firm or settings.firm
    schema_for_firm(firm)  # refuse a bad name before starting or reaching any server
    store = FirmStore(locate_database(settings), firm, pool_size=settings.pool_size)
    if create:
        store.ensure()
    return store


def emit(args: argparse.Namespace, data: dict[str, Any], lines: Sequence[str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, indent=2, default=str, sort_keys=True))
    else:
        for line in lines:
            print(line)


def cmd_info(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args, settings)
    head = store.head()
    data = {
        "database_url": store.location.masked_url,
        "embedded": store.location.embedded,
        "firm": store.firm,
        "schema": store.schema,
        "events_table": f"{store.schema}.{store.events_table}",
        "app_role": store.app_role,
        "ledger_id": head.ledger_id,
        "head_position": head.position,
        "head_hash": head.hash,
        "head_recorded_at": head.recorded_at.isoformat() if head.recorded_at else None,
    }
    emit(args, data, [f"{key:17} {value}" for key, value in data.items()])
    return 0


def parse_head(text: str) -> KnownHead:
    try:
        position, digest = text.split(":", 1)
        head = KnownHead(int(position), bytes.fromhex(digest))
    except ValueError:
        raise LedgerError("--head must be POSITION:HASH (hash in hex)", field="head") from None
    if head.position < 1 or len(head.hash) != 32:
        raise LedgerError("--head needs a position >= 1 and a 64-digit hex hash", field="head")
    return head


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args, settings)
    known = parse_head(args.head) if args.head else None
    total = store.head().position
    if args.checkpoint:
        from pathlib import Path

        from ledger.proof.audit import trusted_key, verify_against_checkpoint
        from ledger.proof.checkpoint import read_document

        if known is not None:
            raise LedgerError("give --head or --checkpoint, not both", field="checkpoint")
        document = read_document(Path(args.checkpoint))
        pinned, source = trusted_key(settings, store.firm, args.public_key)
        bar = ProgressLine("verifying", total)
        outcome = verify_against_checkpoint(store, document, pinned_key=pinned,
                                            key_source=source, source=Path(args.checkpoint),
                                            progress=bar)
        bar.close()
        if args.json:
            emit(args, outcome.as_dict(), [])
        else:
            print_report(args, outcome.report)
            print("\n".join(outcome.lines()))
        return 0 if outcome.ok else 1
    bar = ProgressLine("verifying", total)
    report = verify_chain(store.location, store.schema, args.chain,
                          known_head=known, progress=bar)
    bar.close()
    print_report(args, report)
    return 0 if report.ok else 1


def print_report(args: argparse.Namespace, report: VerificationReport) -> None:
    if report.damage is None:
        lines = [f"OK: {report.checked} events verified in {report.schema}.{report.table}; "
                 f"head {report.head_position} {report.head_hash or '-'}"]
    else:
        d = report.damage
        lines = [f"DAMAGED at position {d.position}: {d.kind} ({d.detail}); "
                 f"{report.checked} events verified before it"]
    emit(args, report.as_dict(), lines)


def cmd_db_init(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args, settings)
    emit(args, {"schema": store.schema, "app_role": store.app_role,
                "database_url": store.location.masked_url},
         [f"ledger ready in schema {store.schema} of {store.location.masked_url}",
          f"application role {store.app_role}: SELECT and INSERT only on "
          f"{store.schema}.{store.events_table}"])
    return 0


def cmd_db_start(args: argparse.Namespace, settings: Settings) -> int:
    location = locate_database(settings)
    print(f"PostgreSQL ready at {location.masked_url}")
    return 0


def cmd_db_stop(args: argparse.Namespace, settings: Settings) -> int:
    stopped = stop_embedded(settings.embedded_pgdata)
    print("embedded PostgreSQL stopped" if stopped else "no embedded PostgreSQL was running")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Record the demo scenario through the command handlers, then verify the chain."""
    from commands.demo import record_demo_scenario
    from commands.service import BillingService

    store = open_store(args, settings)
    where = "embedded PostgreSQL" if store.location.embedded else "PostgreSQL"
    print(f"ledger of firm '{store.firm}' in {where} at {store.location.masked_url}")
    with BillingService(store) as service:
        for line in record_demo_scenario(service):
            print(line)
    report = verify_chain(store.location, store.schema, store.events_table)
    print_report(args, report)
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledger", description="Event-sourced, hash-chained billing ledger for law firms."
    )
    parser.add_argument("--version", action="version", version=f"ledger {__version__}")
    parser.add_argument("--firm", help="firm whose ledger to use (default: LEDGER_FIRM or "
                        "'default')")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    info = sub.add_parser("info", help="show the database, schema, table and chain head")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=cmd_info)

    verify = sub.add_parser("verify", help="recompute the hash chain from genesis")
    verify.add_argument("--json", action="store_true", help="print JSON")
    verify.add_argument("--head", metavar="POSITION:HASH",
                        help="a head known from earlier (e.g. from 'ledger info'): detects a "
                        "truncated tail or a rewritten history")
    verify.add_argument("--chain", default="events", choices=["events", "access_events"],
                        help="which of the firm's chains: the billing events (default) or "
                        "the access log")
    verify.add_argument("--checkpoint", metavar="FILE",
                        help="a signed checkpoint (from 'ledger checkpoint'): checks its "
                        "signature, then that the log still holds its head and Merkle root")
    verify.add_argument("--public-key", metavar="HEX",
                        help="with --checkpoint: the firm's Ed25519 public key it must be "
                        "signed with (default: the firm's key file when present)")
    verify.set_defaults(handler=cmd_verify)

    demo = sub.add_parser("demo", help="record a realistic quarter of billing, then verify")
    demo.set_defaults(handler=cmd_demo)

    db = sub.add_parser("db", help="database set-up and the embedded server")
    db_sub = db.add_subparsers(dest="db_verb", metavar="ACTION", required=True)
    init = db_sub.add_parser("init", help="create schema, tables, triggers and the app role")
    init.add_argument("--json", action="store_true", help="print JSON")
    init.set_defaults(handler=cmd_db_init)
    db_sub.add_parser("start", help="start (or reuse) the embedded server").set_defaults(
        handler=cmd_db_start)
    db_sub.add_parser("stop", help="stop the embedded server").set_defaults(handler=cmd_db_stop)

    for register in extension_registrars():
        register(sub)
    return parser


def extension_registrars() -> list[Callable[[Any], None]]:
    """Verbs of the write and read sides (the shell is the only place that joins them)."""
    registrars: list[Callable[[Any], None]] = []
    try:
        from commands.cli import register as register_commands  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        pass
    else:
        registrars.append(register_commands)
    try:
        from projections.cli import register as register_projections  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        pass
    else:
        registrars.append(register_projections)
    try:
        from commands.trust_cli import register as register_trust
        from projections.trust_cli import register as register_trust_reports
    except ImportError:
        pass
    else:
        registrars += [register_trust, register_trust_reports]
    from ledger.proof.cli import register as register_proofs

    registrars.append(register_proofs)
    from ledger.crypto.cli import register as register_crypto

    registrars.append(register_crypto)
    try:
        from ledger.api.cli import register as register_api
    except ImportError:
        pass
    else:
        registrars.append(register_api)
    try:
        from ledger.subscribers.cli import register as register_subscribers
    except ImportError:
        pass
    else:
        registrars.append(register_subscribers)
    return registrars


def main(argv: Sequence[str] | None = None) -> int:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except LedgerError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
