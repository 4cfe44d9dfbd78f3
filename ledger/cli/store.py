"""Verbs of the store itself: ``info``, ``verify``, ``demo`` and ``db init|start|stop``."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from ledger.cli.output import emit, open_store
from ledger.cli.proofs import add_pin_arguments, pin_flags
from ledger.cli.verbs import Verbs
from ledger.database import locate_database, stop_embedded
from ledger.errors import LedgerError
from ledger.progress import ProgressLine
from ledger.settings import Settings
from ledger.verify import KnownHead, VerificationReport, verify_chain
from ledger.verify_ranges import MAX_WORKERS, SERIAL_BELOW

Handler = Callable[[argparse.Namespace, Settings], int]


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


def worker_count(text: str) -> int:
    """``--workers``: a whole number of processes, 1 to MAX_WORKERS."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if not 1 <= count <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be 1..{MAX_WORKERS}")
    return count


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args, settings)
    known = parse_head(args.head) if args.head else None
    total = store.head().position
    if args.checkpoint:
        from pathlib import Path

        from ledger.proof.audit import checkpoint_trust, verify_against_checkpoint
        from ledger.proof.checkpoint import read_document

        if known is not None:
            raise LedgerError("give --head or --checkpoint, not both", field="checkpoint")
        document = read_document(Path(args.checkpoint))
        pinned, source = checkpoint_trust(settings, store.firm, pin_flags(args))
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
                          known_head=known, progress=bar, workers=args.workers)
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
    if store.location.embedded:
        print(f"the embedded PostgreSQL is still running (data in {settings.embedded_pgdata}); "
              "stop it with: ledger db stop")
    return 0 if report.ok else 1


def register(verbs: Verbs) -> None:
    info = verbs.verb("info", "show the database, schema, table and chain head")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=cmd_info)

    verify = verbs.verb("verify", "recompute the hash chain from genesis")
    verify.add_argument("--json", action="store_true", help="print JSON")
    verify.add_argument("--head", metavar="POSITION:HASH",
                        help="a head known from earlier (e.g. from 'ledger info'): detects a "
                        "truncated tail or a rewritten history")
    verify.add_argument("--chain", default="events", choices=["events", "access_events"],
                        help="which of the firm's chains: the billing events (default) or "
                        "the access log")
    verify.add_argument("--workers", type=worker_count, metavar="N",
                        help="processes scanning ranges of the chain side by side (default: "
                        f"half the cores, at least 1; 1: one pass in this process; chains under "
                        f"{SERIAL_BELOW:,} events are always walked in one pass)")
    verify.add_argument("--checkpoint", metavar="FILE",
                        help="a signed checkpoint (from 'ledger checkpoint'): checks its "
                        "signature, then that the log still holds its head and Merkle root")
    add_pin_arguments(verify, " the checkpoint must be signed with; default: the firm's "
                      "key file (a checkpoint's own key is never trusted)")
    verify.set_defaults(handler=cmd_verify)

    verbs.verb("demo", "record a realistic quarter of billing, then verify").set_defaults(
        handler=cmd_demo)

    db = verbs.group("db")
    init = db.add_parser("init", help="create schema, tables, triggers and the app role")
    init.add_argument("--json", action="store_true", help="print JSON")
    init.set_defaults(handler=cmd_db_init)
    db.add_parser("start", help="start (or reuse) the embedded server").set_defaults(
        handler=cmd_db_start)
    db.add_parser("stop", help="stop the embedded server").set_defaults(handler=cmd_db_stop)
