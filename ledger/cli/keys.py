"""Verbs for keys and erasure, registered into the ``ledger`` command line.

``ledger clients erase CLIENT --reason R --legal-basis B``  crypto-shred a client
``ledger clients rotate-key CLIENT``                        new data key version
``ledger keys rotate-kek --new-kek-file FILE``              re-wrap every data key
``ledger keys history [--json]``                            creations, rotations,
                                                            re-wraps, erasures

``keys`` is shared with the API's bearer keys (``keys create|revoke|list``).
The erasure report is ``ledger keys history`` (``destroyed`` lines carry the
legal basis; the ``ClientDataErased`` event in the chain carries the reason).
Like ``ledger.cli`` this is the outer shell: it may reach the write side
(``commands``) and the read models (``projections``), imported when run.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from uuid import UUID

from ledger.cli.output import emit, open_store
from ledger.cli.verbs import Verbs
from ledger.crypto.errors import KeyEncryptionKeyError
from ledger.crypto.kek import default_kek_path, read_kek_file
from ledger.crypto.sealing import sealing_for_store
from ledger.errors import LedgerError
from ledger.settings import Settings
from projections.erasure import erase_client_rows


def _client_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise LedgerError("CLIENT must be a client id (a UUID)", field="client_id") from None


def cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    from commands import models as m
    from commands.service import BillingService
    from ledger.cli.billing import principal_from

    store = open_store(args, settings)
    command = m.parse(m.EraseClientData, {
        "idempotency_key": args.key or f"cli-erase-{args.client}", "client_id": args.client,
        "reason": args.reason, "legal_basis": args.legal_basis})
    with BillingService(store) as service:
        result = service.erase_client_data(principal_from(args), command)
    rows = erase_client_rows(store, command.client_id)
    data = {**result.data, "read_model_rows_erased": rows}
    emit(args, data, [f"client {args.client} erased: data key version(s) "
                      f"{result.data['key_versions'] or '-'} destroyed; amounts and totals "
                      "are kept, confidential fields now read as [erased]"])
    return 0


def cmd_rotate_key(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args, settings)
    version = sealing_for_store(store).keys.rotate(_client_id(args.client), note="cli")
    emit(args, {"client_id": args.client, "key_version": version},
         [f"client {args.client}: new events are sealed with key version {version}"])
    return 0


def cmd_rotate_kek(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args, settings)
    new_path = Path(args.new_kek_file)
    new_kek = read_kek_file(new_path)
    keys = sealing_for_store(store).keys
    old_id = keys.kek.kek_id
    if new_kek.kek_id == old_id:
        raise KeyEncryptionKeyError("the new key-encryption key is the one in use")
    count = keys.rewrap_all(new_kek)
    configured = bool(os.environ.get("LEDGER_KEK") or os.environ.get("LEDGER_KEK_FILE")
                      or os.environ.get("LEDGER_KEK_PROVIDER"))
    default = default_kek_path(store.firm, settings)
    if not configured and default.exists():
        default.write_text(new_path.read_text())  # the default file follows the rotation
        next_step = f"{default} now holds the new key"
    else:
        next_step = f"configure LEDGER_KEK_FILE={new_path} from now on"
    emit(args, {"rewrapped": count, "old_kek_id": old_id, "new_kek_id": new_kek.kek_id},
         [f"{count} data key(s) re-wrapped from {old_id} to {new_kek.kek_id}; {next_step}"])
    return 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(args, settings)
    rows = sealing_for_store(store).keys.history()
    lines = [f"{r['at']:%Y-%m-%d %H:%M:%S}  {r['action']:<11} "
             f"{r['client_id'] or '-'}  v{r['key_version'] or '-'}  kek {r['kek_id']}  "
             f"{r['note']}" for r in rows] or ["no key events yet"]
    emit(args, {"history": rows}, lines)
    return 0


def register(verbs: Verbs) -> None:
    clients = verbs.group("clients")
    erase = clients.add_parser("erase", help="destroy a client's data key (crypto-shredding)")
    erase.add_argument("client", metavar="CLIENT")
    erase.add_argument("--reason", required=True, help="why (e.g. the erasure request)")
    erase.add_argument("--legal-basis", required=True,
                       help="why the financial record is retained (e.g. a statute)")
    erase.add_argument("--as", dest="principal", default="cli-admin", help="acting principal")
    erase.add_argument("--as-role", dest="as_roles", action="append")
    erase.add_argument("--key", help="idempotency key (default: one per client)")
    erase.add_argument("--json", action="store_true", help="print JSON")
    erase.set_defaults(handler=cmd_erase)
    rotate = clients.add_parser("rotate-key", help="a new data key version for new events")
    rotate.add_argument("client", metavar="CLIENT")
    rotate.add_argument("--json", action="store_true", help="print JSON")
    rotate.set_defaults(handler=cmd_rotate_key)

    keys = verbs.group("keys")
    kek = keys.add_parser("rotate-kek", help="re-wrap every client data key under a new "
                          "key-encryption key (no event changes)")
    kek.add_argument("--new-kek-file", required=True, metavar="FILE",
                     help="base64 of the new 32-byte key (see ledger.crypto.kek)")
    kek.add_argument("--json", action="store_true", help="print JSON")
    kek.set_defaults(handler=cmd_rotate_kek)
    history = keys.add_parser("history", help="client data keys: creations, rotations, "
                              "KEK re-wraps, erasures")
    history.add_argument("--json", action="store_true", help="print JSON")
    history.set_defaults(handler=cmd_history)
