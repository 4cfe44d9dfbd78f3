"""Subscriber verbs of the ``ledger`` command line.

``register(verbs)`` adds::

    ledger events tail [--after N] [--limit N] [--scope S] [--json]
    ledger webhooks add URL --scope S [--type T]... [--after N] [--json]
    ledger webhooks list [--json] | replay ID --from N | attempts ID [--limit N] [--json]
    ledger webhooks deliver [--seconds S]
    ledger relay run [--nats URL] [--scope S] [--stream NAME] [--seconds S]

The command line is an operator's tool with the database at hand, so
``events tail`` reads with the firm scope unless ``--scope`` narrows it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from uuid import UUID

from ledger.cli.output import open_store
from ledger.cli.verbs import Verbs
from ledger.errors import LedgerError
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from ledger.subscribers.scope import FIRM, FIRM_REDACTED, parse_scope

Handler = Callable[[argparse.Namespace, Settings], int]
NATS_URL = "nats://127.0.0.1:4222"


def _store(args: argparse.Namespace, settings: Settings) -> FirmStore:
    return open_store(args, settings)


def _id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise LedgerError("the endpoint id must be a UUID", field="endpoint_id") from None


def cmd_tail(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.subscribers.feed import encode, opener_for, to_feed_event
    from ledger.subscribers.live import LiveFeed
    from ledger.subscribers.scope import Owners

    store = _store(args, settings)
    scope = parse_scope(args.scope) if args.scope else FIRM
    owners = Owners(store.schema, store.events_table)
    opener = opener_for(store) if scope.confidential else None
    shown = 0
    with store.location.connect() as conn, LiveFeed(store, after=args.after) as feed:
        while args.limit is None or shown < args.limit:
            rows = feed.next_rows(500, 1.0)
            owners.resolve(conn, [r.originator_id for r in rows])
            for row in rows:
                event = to_feed_event(row, owners, scope, opener=opener)
                if args.json:
                    sys.stdout.write(encode(event).decode() + "\n")
                else:
                    kind = "(withheld)" if event.withheld else (event.type or "").rpartition(":")[2]
                    print(f"{event.position:>8}  {event.recorded_at}  {kind:<22} "
                          f"{event.client_id or '-':<36}  {event.hash[:16]}")
                sys.stdout.flush()
                shown += 1
                if args.limit is not None and shown >= args.limit:
                    break
    return 0


def cmd_webhooks_add(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.subscribers.webhooks import WebhookStore

    endpoint, secret = WebhookStore(_store(args, settings)).add(
        args.url, event_types=args.type or [], scope=parse_scope(args.scope), after=args.after)
    data = {**endpoint.public(), "secret": secret}
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(f"endpoint {endpoint.id} from position {endpoint.position}, scope {endpoint.scope}")
        print(f"secret (shown only now): {secret}")
    return 0


def cmd_webhooks_list(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.subscribers.webhooks import WebhookStore

    hooks = WebhookStore(_store(args, settings))
    hooks.ensure()
    items = [e.public() for e in hooks.endpoints()]
    if args.json:
        print(json.dumps({"items": items}, indent=2, sort_keys=True))
    for e in [] if args.json else items:
        print(f"{e['id']}  {e['status']:<8} position {e['position']:<8} {e['scope']}  {e['url']}")
    return 0


def cmd_webhooks_replay(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.subscribers.webhooks import WebhookStore

    endpoint = WebhookStore(_store(args, settings)).replay(_id(args.id), args.from_position)
    print(f"endpoint {endpoint.id} will deliver again from position {args.from_position}")
    return 0


def cmd_webhooks_attempts(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.subscribers.webhooks import WebhookStore

    hooks = WebhookStore(_store(args, settings))
    hooks.ensure()
    items = hooks.attempts(_id(args.id), limit=args.limit)
    if args.json:
        print(json.dumps({"items": items}, indent=2, sort_keys=True, default=str))
    for a in [] if args.json else items:
        outcome = "delivered" if a["delivered"] else (a["error"] or "failed")
        print(f"{a['attempted_at']}  position {a['position']:<8} {outcome:<14} "
              f"{a['duration_ms']} ms")
    return 0


def cmd_webhooks_deliver(args: argparse.Namespace, settings: Settings) -> int:
    from commands.ledger_app import BillingLedger, ledger_env
    from ledger.api.keys import KeyStore
    from ledger.api.security import key_authorizer
    from ledger.subscribers.delivery import DeliveryWorker

    store = _store(args, settings)
    app = BillingLedger(env=ledger_env(store))  # endpoints of a key: its grants, re-read
    keys = KeyStore(store)
    try:
        with DeliveryWorker(store, authorize=key_authorizer(keys, app)) as worker:
            worker.run(timeout=args.seconds)
    finally:
        keys.close()
        app.close()
    return 0


def cmd_relay_run(args: argparse.Namespace, settings: Settings) -> int:
    from ledger.subscribers.relay import StreamMismatchError, names_for_stream, run_relay

    scope = parse_scope(args.scope) if args.scope else FIRM_REDACTED
    store = _store(args, settings)
    names = None if args.stream is None else names_for_stream(store.firm, args.stream)
    try:
        stats = run_relay(store, args.nats, scope=scope, timeout=args.seconds, names=names)
    except StreamMismatchError as exc:  # exit 1: the stream is the problem, not the input
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"published {stats.published} events, up to position {stats.position}")
    return 0


def register(verbs: Verbs) -> None:
    ev = verbs.group("events")
    tail = ev.add_parser("tail", help="print events after a position, then follow new ones")
    tail.add_argument("--after", type=int, default=0, metavar="N")
    tail.add_argument("--limit", type=int, default=None, metavar="N",
                      help="stop after N events (default: follow until interrupted)")
    tail.add_argument("--scope", action="append", metavar="S",
                      help="firm (default), firm-redacted, client:ID, matter:ID, redacted")
    tail.add_argument("--json", action="store_true", help="one feed-event JSON per line")
    tail.set_defaults(handler=cmd_tail)

    wh = verbs.group("webhooks")
    add = wh.add_parser("add", help="register an endpoint (prints its secret once)")
    add.add_argument("url")
    add.add_argument("--scope", action="append", required=True, metavar="S")
    add.add_argument("--type", action="append", metavar="EVENT_TYPE")
    add.add_argument("--after", type=int, default=None, metavar="N",
                     help="deliver events after position N (default: only new events)")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_webhooks_add)
    listing = wh.add_parser("list", help="endpoints, positions, state")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_webhooks_list)
    replay = wh.add_parser("replay", help="deliver again from a position (re-enables)")
    replay.add_argument("id")
    replay.add_argument("--from", dest="from_position", type=int, required=True, metavar="N")
    replay.set_defaults(handler=cmd_webhooks_replay)
    attempts = wh.add_parser("attempts", help="an endpoint's delivery attempts, newest first")
    attempts.add_argument("id")
    attempts.add_argument("--limit", type=int, default=50)
    attempts.add_argument("--json", action="store_true")
    attempts.set_defaults(handler=cmd_webhooks_attempts)
    deliver = wh.add_parser("deliver", help="run the delivery worker")
    deliver.add_argument("--seconds", type=float, default=None,
                         help="stop after this long (default: until interrupted)")
    deliver.set_defaults(handler=cmd_webhooks_deliver)

    rl = verbs.group("relay")
    run = rl.add_parser("run", help="publish every event, resuming from the stream's last")
    run.add_argument("--nats", default=os.environ.get("LEDGER_NATS_URL", NATS_URL))
    run.add_argument("--scope", action="append", metavar="S",
                     help="firm-redacted (default), firm, client:ID, ...")
    run.add_argument("--stream", default=None, metavar="NAME",
                     help="publish to stream NAME, subject ledger.<firm>.NAME.events "
                     "(default: LEDGER_<FIRM>, ledger.<firm>.events)")
    run.add_argument("--seconds", type=float, default=None)
    run.set_defaults(handler=cmd_relay_run)
