"""``ledger audit exposure [--json]``: what an existing ledger still exposes.

Lists, per client, the command records whose idempotency fingerprint is the old
unkeyed SHA-256 (a guessing oracle for the command's payload) and the events whose
client text (reasons, references) was stored in clear; see ``ledger.crypto.exposure``.
Read-only; needs no key. Exit 0 either way: the records are immutable, the report is
what the firm can state about them.
"""

from __future__ import annotations

import argparse

from ledger.cli.output import emit, open_store
from ledger.cli.verbs import Verbs
from ledger.crypto.exposure import scan
from ledger.settings import Settings


def cmd_exposure(args: argparse.Namespace, settings: Settings) -> int:
    found = scan(open_store(args, settings, create=False))
    lines = [f"{found.records} command record(s): {found.keyed} keyed, "
             f"{found.unkeyed} with an unkeyed SHA-256 fingerprint; "
             f"{found.clear_text} event(s) with client text in clear"]
    for client, events in sorted(found.by_client.items(), key=lambda kv: str(kv[0] or "")):
        lines.append(f"client {client or '- (firm-wide or not attributable)'}: "
                     f"{len(events)} event(s)")
        lines.extend(f"  position {e.position}  {e.event_type}  {e.exposes}"
                     + (f" ({e.command})" if e.command else "") for e in events)
    emit(args, found.as_json(), lines)
    return 0


def register(verbs: Verbs) -> None:
    audit = verbs.group("audit")
    exposure = audit.add_parser(
        "exposure", help="list, per client, events with unkeyed fingerprints or client "
        "text in clear")
    exposure.add_argument("--json", action="store_true", help="print JSON")
    exposure.set_defaults(handler=cmd_exposure)
