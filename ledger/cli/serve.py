"""Command-line verbs of the HTTP shell: ``serve``, ``keys``, ``access who|what``,
``time import``.

``register(verbs)`` adds them to the ``ledger`` command line; ``access``
and ``time`` groups made by the billing verbs are extended, not replaced. Every
verb takes ``--json``. A key's token is printed once, by ``keys create``, and
never again (only its SHA-256 is stored).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.cli.output import emit, open_store, parse_id
from ledger.cli.reports import parse_moment
from ledger.cli.verbs import Verbs
from ledger.domain.roles import ROLES
from ledger.errors import LedgerError
from ledger.settings import Settings


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")


def _window(args: argparse.Namespace) -> tuple[datetime, datetime]:
    """``--from``/``--to`` as bounded UTC moments (refused in one line, exit 2)."""
    return parse_moment(args.start, "from"), parse_moment(args.end, "to")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from ledger.api import ApiConfig, create_app

    tls = _tls_files(args)
    store = open_store(args, settings)
    app = create_app(store, ApiConfig(follow_projections=not args.no_follow,
                                      readiness_max_lag=args.max_lag, tls=tls is not None))
    scheme = "https" if tls else "http"
    print(f"serving firm '{store.firm}' on {scheme}://{args.host}:{args.port} "
          f"(OpenAPI at /openapi.json)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False,
                log_level=settings.log_level.lower(),
                ssl_certfile=tls[0] if tls else None, ssl_keyfile=tls[1] if tls else None)
    return 0


def _tls_files(args: argparse.Namespace) -> tuple[str, str] | None:
    """Both TLS files or neither, loaded once here so a bad file is one line, not a trace."""
    import ssl

    if not args.tls_cert and not args.tls_key:
        return None
    if not (args.tls_cert and args.tls_key):
        raise LedgerError("--tls-cert and --tls-key go together", field="tls_cert")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(args.tls_cert, args.tls_key)
    except (OSError, ssl.SSLError):
        raise LedgerError("--tls-cert/--tls-key: cannot load a certificate chain and its "
                          "private key (PEM) from these files", field="tls_cert") from None
    return args.tls_cert, args.tls_key


def _keys(args: argparse.Namespace, settings: Settings) -> Any:
    from ledger.api.keys import KeyStore

    keys = KeyStore(open_store(args, settings))
    keys.ensure()
    return keys


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.api.keys import parse_lifetime

    lifetime = parse_lifetime(args.expires_in) if args.expires_in else None
    token, key = _keys(args, settings).create(args.principal, args.role,
                                              created_by=args.created_by,
                                              timekeeper_id=args.timekeeper,
                                              expires_in=lifetime)
    expiry = f", expires {key.expires_at.isoformat()}" if key.expires_at else ""
    emit(args, {**key.as_dict(), "token": token},
         [f"key {key.key_id} for {key.principal_id} ({key.role}){expiry}", f"token: {token}",
          "store the token now: it is shown only once"])
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:

    key = _keys(args, settings).revoke(UUID(args.key_id), revoked_by=args.created_by)
    emit(args, key.as_dict(), [f"key {key.key_id} revoked at {key.revoked_at}"])
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:

    listed = [k.as_dict() for k in _keys(args, settings).list()]
    emit(args, {"keys": listed},
         [f"{k['key_id']}  {k['principal_id']:24} {k['role']:14} {_key_state(k):34} "
          f"last used {_minute(k['last_used_at']) or 'never'}" for k in listed])
    return 0


def _minute(iso: str | None) -> str | None:
    """A moment as ``YYYY-MM-DD HH:MM`` UTC (last use is recorded to the minute)."""
    return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%MZ") if iso \
        else None


def _key_state(key: dict[str, Any]) -> str:
    if key["revoked_at"]:
        return f"revoked {_minute(key['revoked_at'])}"
    if key["expired"]:
        return f"expired {_minute(key['expires_at'])}"
    return f"active until {_minute(key['expires_at'])}" if key["expires_at"] else "active"


def _print_accesses(args: argparse.Namespace, body: dict[str, Any], head: str) -> None:

    lines = [head] + [f"{a['accessed_at']}  {a['principal_id']:20} {a['what']:14} "
                      f"client={a['client_id']} matter={a['matter_id']} "
                      f"invoice={a['invoice_id']} request={a['request_id']}"
                      for a in body["accesses"]]
    emit(args, body, lines)


def cmd_access_who(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.api.breach import who_accessed

    start, end = _window(args)
    client = parse_id(args.client, "client")
    body = who_accessed(open_store(args, settings), client, start, end)
    readers = ", ".join(f"{p['principal_id']} ({p['reads']})" for p in body["principals"])
    _print_accesses(args, body, f"{len(body['accesses'])} reads by: {readers or 'nobody'}")
    return 0


def cmd_access_what(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.api.breach import what_accessed

    start, end = _window(args)
    body = what_accessed(open_store(args, settings), args.principal, start, end)
    _print_accesses(args, body, f"{len(body['accesses'])} reads of "
                    f"{len(body['clients'])} clients")
    return 0


TIME_FIELDS = ("matter_id", "timekeeper_id", "work_on", "minutes", "narrative", "task_code",
               "activity_code", "billable", "idempotency_key")


def read_entries(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV (header row) or JSON (a list of objects) file of time entries."""
    if path.suffix.lower() == ".json":
        rows = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise LedgerError("a JSON import is a list of objects", field="file")
        return rows
    with path.open(newline="", encoding="utf-8") as handle:
        rows = []
        for raw in csv.DictReader(handle):
            row: dict[str, Any] = {k: v for k, v in raw.items() if k and v not in (None, "")}
            if "minutes" in row:
                if not str(row["minutes"]).isdigit():
                    raise LedgerError("minutes must be a whole number", field="minutes")
                row["minutes"] = int(row["minutes"])
            if "billable" in row:
                row["billable"] = str(row["billable"]).lower() in ("1", "true", "yes", "y")
            rows.append(row)
        return rows


def _key_for(n: int, row: dict[str, Any]) -> str:
    canonical = json.dumps(row, sort_keys=True, default=str)
    return "import-" + hashlib.sha256(f"{n}:{canonical}".encode()).hexdigest()[:40]


def cmd_time_import(args: argparse.Namespace, settings: Settings) -> int:
    """Validate every row first (nothing recorded if one is bad), then record each."""
    from commands import models as m
    from commands.service import BillingService
    from ledger.cli.billing import principal_from

    rows = read_entries(Path(args.file))
    commands = []
    for n, row in enumerate(rows, start=1):
        unknown = sorted(set(row) - set(TIME_FIELDS))
        if unknown:
            raise LedgerError(f"row {n}: unknown column {unknown[0]}", field=unknown[0])
        data = {**row, "idempotency_key": row.get("idempotency_key") or _key_for(n, row)}
        try:
            commands.append(m.parse(m.LogTime, data))
        except LedgerError as exc:
            raise LedgerError(f"row {n}: {exc.message}", field=exc.field) from None
    results: list[dict[str, Any]] = []
    with BillingService(open_store(args, settings)) as service:
        who = principal_from(args)
        for n, command in enumerate(commands, start=1):
            try:
                result = service.log_time(who, command)
                results.append({"row": n, "ok": True, **result.data})
            except LedgerError as exc:
                results.append({"row": n, "ok": False, "type": exc.type,
                                "field": exc.field, "error": exc.message})
    failed = [r for r in results if not r["ok"]]
    emit(args, {"recorded": len(results) - len(failed), "failed": len(failed),
                "rows": results},
         [f"row {r['row']}: " + (f"entry {r['entry_id']} ({r['billed_minutes']} min)"
                                 if r["ok"] else f"refused: {r['type']}: {r['error']}")
          for r in results] + [f"{len(results) - len(failed)} recorded, {len(failed)} refused"])
    return 2 if failed else 0


def register(verbs: Verbs) -> None:
    """Add ``serve``, ``keys``, ``access who|what`` and ``time import``."""
    serve = verbs.verb("serve", "run the HTTP API (OpenAPI at /openapi.json)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--no-follow", action="store_true",
                       help="do not keep read models live in this process")
    serve.add_argument("--max-lag", type=int, default=1000,
                       help="events read models may lag before /readyz fails")
    serve.add_argument("--tls-cert", metavar="FILE",
                       help="serve HTTPS with this PEM certificate chain (with --tls-key)")
    serve.add_argument("--tls-key", metavar="FILE", help="the certificate's PEM private key")
    serve.set_defaults(handler=cmd_serve)

    keys = verbs.group("keys")
    create = keys.add_parser("create", help="create a key; its token is shown once")
    create.add_argument("--principal", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--timekeeper", help="timekeeper id a timekeeper key logs time as "
                        "(default: the principal id)")
    create.add_argument("--expires-in", metavar="LIFETIME",
                        help="refuse the key this long after creation: Nd (days) or Nh "
                        "(hours), 1h to 3650d (default: never)")
    revoke = keys.add_parser("revoke", help="revoke a key (refused from the next request)")
    revoke.add_argument("key_id")
    listing = keys.add_parser("list", help="list keys (never their tokens)")
    for parser, handler in ((create, cmd_keys_create), (revoke, cmd_keys_revoke),
                            (listing, cmd_keys_list)):
        parser.add_argument("--by", dest="created_by", default="cli-admin",
                            help="operator recorded as creating or revoking")
        _json_flag(parser)
        parser.set_defaults(handler=handler)

    access = verbs.group("access")
    who = access.add_parser("who", help="who read a client's data between two moments")
    who.add_argument("--client", required=True)
    what = access.add_parser("what", help="everything a principal read between two moments")
    what.add_argument("--principal", required=True)
    for parser, handler in ((who, cmd_access_who), (what, cmd_access_what)):
        parser.add_argument("--from", dest="start", required=True, metavar="MOMENT")
        parser.add_argument("--to", dest="end", required=True, metavar="MOMENT")
        _json_flag(parser)
        parser.set_defaults(handler=handler)

    time_group = verbs.group("time")
    imp = time_group.add_parser("import", help="log time entries from a CSV or JSON file")
    imp.add_argument("file", help="CSV with a header row, or JSON list; columns: "
                     + ", ".join(TIME_FIELDS))
    imp.add_argument("--as", dest="principal", default="cli-admin", help="acting principal")
    imp.add_argument("--as-role", dest="as_roles", action="append",
                     help="the acting principal's role (repeatable)")
    _json_flag(imp)
    imp.set_defaults(handler=cmd_time_import)
