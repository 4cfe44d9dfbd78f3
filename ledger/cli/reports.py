"""Read-side verbs of the ``ledger`` command line.

``register(verbs)`` adds::

    ledger projections rebuild [NAME...] | status | run
    ledger report statement CLIENT --period FROM..TO [--as-of T] [--json|--html]
    ledger report aging [--on DATE] | wip [--client ID] | invoices [--client ID] [--on DATE]
    ledger report writeoffs [--period FROM..TO] | access [--on DATE] [--client ID]
    ledger report verification                      (each with --as-of T and --json)
    ledger export ledes INVOICE | --client ID --period FROM..TO
                       [--out FILE] [--law-firm-id TAXID] [--as-of T] [--truncate]
    ledger invoices list [--client ID] [--as-of T] [--json]   (and ``show`` if absent)

``--as-of`` is an ISO 8601 moment (``2026-04-15T00:00Z``; no offset means UTC):
the books as recorded up to then. Business dates (``--period``, ``--on``) are
separate. Without ``--as-of`` the read models are caught up first, then read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.bounds import RANGE_TEXT, DateOutOfRangeError, check_day, check_moment, check_period
from ledger.cli.output import open_store, parse_id
from ledger.cli.verbs import Verbs
from ledger.domain.errors import InvoiceNotFoundError
from ledger.errors import LedgerError
from ledger.progress import ProgressLine
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from projections import query, render
from projections.catalog import MODELS, models_named
from projections.reading import APPLICATION_NAME, head_position
from projections.tracking import catch_up, open_view

Handler = Callable[[argparse.Namespace, Settings], int]


def _store(args: argparse.Namespace, settings: Settings) -> FirmStore:
    return open_store(args, settings)


def parse_moment(text: str, field: str = "as_of") -> datetime:
    """An ISO 8601 moment in ``ledger.bounds``' range, as UTC (no offset means UTC)."""
    flag = "--" + field.replace("_", "-")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise LedgerError(f"{flag} must be an ISO 8601 moment, e.g. 2026-04-15T00:00Z",
                          field=field) from None
    try:
        return check_moment(moment, field)
    except DateOutOfRangeError:
        raise DateOutOfRangeError(f"{flag} must fall {RANGE_TEXT}", field=field) from None


def parse_day(text: str, field: str = "on") -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise LedgerError(f"--{field} must be a date YYYY-MM-DD", field=field) from None
    try:
        return check_day(day, field)
    except DateOutOfRangeError:
        raise DateOutOfRangeError(f"--{field} must fall {RANGE_TEXT}", field=field) from None


def parse_period(text: str) -> tuple[date, date]:
    start, sep, end = text.partition("..")
    if not sep:
        raise LedgerError("--period must be FROM..TO, e.g. 2026-01-01..2026-03-31",
                          field="period")
    first, last = parse_day(start, "period"), parse_day(end, "period")
    check_period(first, last, "period")
    return first, last


def _out(args: argparse.Namespace, report: dict[str, Any], lines: list[str]) -> int:
    if args.json:
        print(json.dumps(report, indent=2, sort_keys=True))
    else:
        print("\n".join(lines))
    return 0


def _as_of(args: argparse.Namespace) -> datetime | None:
    return parse_moment(args.as_of) if args.as_of else None


def cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(args, settings)
    models = models_named(args.names)
    bar = ProgressLine(f"rebuilding {', '.join(m.name for m in models)}", head_position(store))
    position = catch_up(store, models, rebuild=True, progress=bar)
    bar.close()
    print(f"rebuilt {', '.join(m.name for m in models)} up to position {position}")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(args, settings)
    head = head_position(store)
    rows = []
    for model in MODELS.values():
        view = open_view(store, model)
        try:
            position = view.max_tracking_id(APPLICATION_NAME) or 0
        finally:
            view.datastore.close()
        rows.append({"name": model.name, "position": position, "head": head,
                     "tables": [t.name for t in model.tables],
                     "tracking_table": view.tracking_table_name})
    return _out(args, {"head": head, "models": rows}, render.table(
        rows, (("model", "name"), ("position", "position"), ("head", "head"))))


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from projections.live import run_live

    store = _store(args, settings)
    print("following the ledger (Ctrl-C to stop)")
    stop = threading.Event()
    try:
        run_live(store, models_named(args.names), stop)
    except KeyboardInterrupt:
        stop.set()
    return 0


def cmd_statement(args: argparse.Namespace, settings: Settings) -> int:
    start, end = parse_period(args.period)
    report = query.statement_report(_store(args, settings), parse_id(args.client, "client"),
                                    start, end, _as_of(args))
    if args.html:
        print(render.statement_html(report), end="")
        return 0
    return _out(args, report, render.statement_lines(report))


def cmd_aging(args: argparse.Namespace, settings: Settings) -> int:
    on = parse_day(args.on) if args.on else None
    report = query.aging_report(_store(args, settings), _as_of(args), on)
    lines = [f"AR aging on {report['on']}, {report['aged_by']} {render.provenance(report)}"]
    lines += render.table(report["clients"], (("client", "client"), *render.AGING),
                          money=[k for _, k in render.AGING])
    return _out(args, report, lines)


def cmd_wip(args: argparse.Namespace, settings: Settings) -> int:
    client = parse_id(args.client, "client") if args.client else None
    report = query.wip_report(_store(args, settings), _as_of(args), client, known_client=True)
    lines = [f"Unbilled time and expenses {render.provenance(report)}"]
    lines += render.table(report["rows"], (
        ("client", "client"), ("matter", "matter"), ("kind", "kind"),
        ("timekeeper", "timekeeper_id"), ("entries", "entries"), ("minutes", "minutes"),
        ("value", "value_minor"), ("oldest", "oldest_work_on")), money=["value_minor"])
    return _out(args, report, lines)


INVOICE_COLUMNS = (("number", "number"), ("client", "client"), ("matter", "matter"),
                   ("status", "status"), ("total", "total_minor"), ("open", "open_minor"),
                   ("days overdue", "days_overdue"), ("id", "invoice_id"))


def cmd_invoices(args: argparse.Namespace, settings: Settings) -> int:
    client = parse_id(args.client, "client") if args.client else None
    on = parse_day(args.on) if getattr(args, "on", None) else None
    report = query.invoices_report(_store(args, settings), _as_of(args), on, client)
    lines = [f"Invoices on {report['on']} {render.provenance(report)}"]
    lines += render.table(report["invoices"], INVOICE_COLUMNS,
                          money=["total_minor", "open_minor"])
    return _out(args, report, lines)


def cmd_invoice_show(args: argparse.Namespace, settings: Settings) -> int:
    report = query.invoices_report(_store(args, settings), _as_of(args))
    wanted = args.invoice
    found = [i for i in report["invoices"] if wanted in (i["invoice_id"], i["number"])]
    if not found:
        raise InvoiceNotFoundError("no such invoice (give its id or number)",
                                   field="invoice_id")
    invoice = found[0]
    return _out(args, invoice, [f"{k:18} {v}" for k, v in invoice.items()])


def cmd_writeoffs(args: argparse.Namespace, settings: Settings) -> int:
    start, end = parse_period(args.period) if args.period else (None, None)
    report = query.writeoffs_report(_store(args, settings), _as_of(args), start, end)
    lines = [f"Write-downs and write-offs {render.provenance(report)}"]
    lines += render.table(report["adjustments"], (
        ("date", "date"), ("kind", "kind"), ("invoice", "number"), ("line", "line_no"),
        ("timekeeper", "timekeeper_id"), ("approver", "approver"), ("amount", "amount_minor"),
        ("reason", "reason")), money=["amount_minor"])
    for title, key in (("By timekeeper:", "timekeeper_id"), ("By approver:", "approver")):
        lines += ["", title, *render.table(
            report[f"by_{key.removesuffix('_id')}"],
            ((key, key), ("kind", "kind"), ("count", "count"), ("amount", "amount_minor")),
            money=["amount_minor"])]
    return _out(args, report, lines)


def cmd_access(args: argparse.Namespace, settings: Settings) -> int:
    client = parse_id(args.client, "client") if args.client else None
    on = parse_day(args.on) if args.on else None
    report = query.access_report(_store(args, settings), _as_of(args), on, client)
    lines = [f"Access grants {render.provenance(report)}"]
    lines += render.table(report["grants"], (
        ("principal", "principal_id"), ("client", "client"), ("scope", "scope"),
        ("role", "role"), ("granted", "granted_on"), ("by", "granted_by"),
        ("revoked", "revoked_on"), ("by", "revoked_by")))
    lines += ["", f"Could see on {report['on']} ({report['note']}):"]
    lines += render.table(report["could_see"], (("client", "client"),
                                                 ("principal", "principal_id"),
                                                 ("role", "role"), ("scope", "scope")))
    return _out(args, report, lines)


def cmd_verification(args: argparse.Namespace, settings: Settings) -> int:
    report = query.verification_report(_store(args, settings), _as_of(args))
    lines = [f"{k:18} {v}" for k, v in report.items()]
    _out(args, report, lines)
    return 0 if report["ok"] else 1


def cmd_ledes(args: argparse.Namespace, settings: Settings) -> int:
    law_firm_id = args.law_firm_id or os.environ.get("LEDGER_LAW_FIRM_ID")
    if not law_firm_id:
        raise LedgerError("LEDES needs the firm's tax id: --law-firm-id or LEDGER_LAW_FIRM_ID",
                          field="law_firm_id")
    if (args.invoice is None) == (args.client is None):
        raise LedgerError("give an INVOICE, or --client with --period (not both)",
                          field="invoice")
    if args.client is not None and args.period is None:
        raise LedgerError("--client needs --period FROM..TO (invoice issue dates)",
                          field="period")
    store = _store(args, settings)
    if args.client is not None:
        ledes = query.ledes_client_file(store, parse_id(args.client, "client"),
                                        parse_period(args.period), law_firm_id, _as_of(args),
                                        truncate=args.truncate)
    else:
        ledes = query.ledes_file(store, _invoice_id(store, args.invoice), law_firm_id,
                                 _as_of(args), truncate=args.truncate)
    for cut in ledes.truncations:
        print(f"truncated: {cut}", file=sys.stderr)
    text = ledes.text
    if args.out:
        Path(args.out).write_text(text, encoding="ascii")
        print(f"wrote {args.out}")
    else:
        print(text, end="")
    return 0


def _invoice_id(store: FirmStore, text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        pass
    for invoice in query.invoices_report(store)["invoices"]:
        if invoice["number"] == text:
            return UUID(invoice["invoice_id"])
    raise InvoiceNotFoundError("no invoice with this id or number", field="invoice")


def _common(parser: argparse.ArgumentParser, handler: Handler, *, as_of: bool = True) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
    if as_of:
        parser.add_argument("--as-of", metavar="MOMENT",
                            help="the books as recorded up to this moment (ISO 8601)")
    parser.set_defaults(handler=handler)


def register(verbs: Verbs) -> None:
    """Add the read-side verbs (see the module docstring)."""
    proj = verbs.group("projections")
    rebuild = proj.add_parser("rebuild", help="drop and rebuild read models from position 0")
    rebuild.add_argument("names", nargs="*", metavar="NAME", help=f"one of {', '.join(MODELS)}")
    rebuild.set_defaults(handler=cmd_rebuild)
    _common(proj.add_parser("status", help="each read model's position"), cmd_status,
            as_of=False)
    run = proj.add_parser("run", help="catch up, then follow the ledger live")
    run.add_argument("names", nargs="*", metavar="NAME")
    run.set_defaults(handler=cmd_run)

    rep = verbs.group("report")
    st = rep.add_parser("statement", help="a client's statement for a period")
    st.add_argument("client", metavar="CLIENT")
    st.add_argument("--period", required=True, metavar="FROM..TO")
    st.add_argument("--html", action="store_true", help="print a self-contained HTML page")
    _common(st, cmd_statement)
    aging = rep.add_parser("aging", help="AR aging across clients")
    aging.add_argument("--on", metavar="DATE", help="business date (default: the as-of day)")
    _common(aging, cmd_aging)
    wip = rep.add_parser("wip", help="unbilled time and expenses per matter and timekeeper")
    wip.add_argument("--client", metavar="ID")
    _common(wip, cmd_wip)
    inv = rep.add_parser("invoices", help="invoice balances")
    inv.add_argument("--client", metavar="ID")
    inv.add_argument("--on", metavar="DATE", help="date for days overdue")
    _common(inv, cmd_invoices)
    wo = rep.add_parser("writeoffs", help="write-downs and write-offs by timekeeper, approver")
    wo.add_argument("--period", metavar="FROM..TO")
    _common(wo, cmd_writeoffs)
    acc = rep.add_parser("access", help="grants, revocations, who could see which client")
    acc.add_argument("--on", metavar="DATE")
    acc.add_argument("--client", metavar="ID")
    _common(acc, cmd_access)
    _common(rep.add_parser("verification", help="chain verified, head, last checkpoint"),
            cmd_verification)

    export = verbs.group("export")
    ledes = export.add_parser("ledes", help="LEDES 1998B file of an issued invoice, or of a "
                                             "client's invoices in a period")
    ledes.add_argument("invoice", metavar="INVOICE", nargs="?", help="invoice id or number")
    ledes.add_argument("--client", metavar="ID",
                       help="instead of INVOICE: every issued invoice of this client ...")
    ledes.add_argument("--period", metavar="FROM..TO", help="... issued in this period")
    ledes.add_argument("--out", metavar="FILE")
    ledes.add_argument("--law-firm-id", metavar="TAXID",
                       help="the firm's US federal tax id (default LEDGER_LAW_FIRM_ID)")
    ledes.add_argument("--as-of", metavar="MOMENT")
    ledes.add_argument("--truncate", action="store_true",
                       help="cut fields over the standard's limits (each cut is reported on "
                       "stderr) instead of refusing the export")
    ledes.set_defaults(handler=cmd_ledes)

    invoices = verbs.group("invoices")
    listing = invoices.add_parser("list", help="invoices with status, total, open balance")
    listing.add_argument("--client", metavar="ID")
    _common(listing, cmd_invoices)

