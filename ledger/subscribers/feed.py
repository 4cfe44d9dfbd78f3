"""The one feed-event shape shared by the pull feed, the stream, webhooks and the relay.

Why one shape: a downstream service can switch from pulling to webhooks to
NATS without re-mapping anything, and checks the chain the same way
everywhere (``page[i].prev_hash == page[i-1].hash``). ``hash`` and
``prev_hash`` are the stored chain values (hex). The payload is the stored
JSON as recorded (``schema_version`` says its shape; no upcasting), with
``confidential`` replaced by ``{"redacted": true}`` when the scope does not
cover its client. Redaction changes the payload, so the chain hash can only
be recomputed from the stored bytes: ``state_b64`` (base64 of exactly the
bytes the hash covers) is added on request, and only to unredacted events.
Events outside the scope arrive as ``withheld`` stubs: position, time and the
two hashes, so the chain still links, and nothing else.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic
from psycopg import Connection
from psycopg.sql import SQL, Identifier

from ledger.crypto.sealing import sealing_for_store
from ledger.domain import EVENT_CATALOG, policy
from ledger.errors import LedgerError
from ledger.store.chain import genesis_hash
from ledger.store.firm import FirmStore
from ledger.subscribers.scope import Owners, Scope

MAX_PAGE = 1000
SCAN_FACTOR = 20
REDACTED: dict[str, bool] = policy.REDACTED_VALUE


class InvalidFeedRequestError(LedgerError):
    """A feed request the server cannot answer (unknown event type, bad position)."""

    type = "invalid-feed-request"


class FeedEvent(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One event as every subscriber receives it (see the module docstring)."""

    position: int
    type: str | None
    schema_version: int | None
    recorded_at: str
    effective_on: str | None
    originator_id: str | None
    originator_version: int | None
    client_id: str | None
    matter_id: str | None
    payload: dict[str, Any] | None
    prev_hash: str
    hash: str
    withheld: bool = False
    state_b64: str | None = None


@dataclass(frozen=True)
class StoredRow:
    """One row of the chained event table, as stored."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes
    recorded_at: datetime
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True)
class Page:
    ledger_id: str
    events: list[FeedEvent]
    next_after: int
    head: int


_PAYLOAD = msgspec.json.Decoder(dict[str, Any])
_ENCODER = msgspec.json.Encoder()
TOPIC_BY_NAME: dict[str, str] = {cls.__name__: get_topic(cls) for cls in EVENT_CATALOG}


def encode(event: FeedEvent) -> bytes:
    return _ENCODER.encode(event)


def decode(data: bytes | str) -> FeedEvent:
    return msgspec.json.decode(data, type=FeedEvent)


def resolve_types(types: Iterable[str]) -> list[str]:
    """Full topics for event type names (``InvoiceIssued``) or topics."""
    topics: list[str] = []
    known = set(TOPIC_BY_NAME.values())
    for name in (t.strip() for text in types for t in text.split(",") if t.strip()):
        topic = TOPIC_BY_NAME.get(name, name)
        if topic not in known:
            raise InvalidFeedRequestError(f"unknown event type {name[:80]!r}", field="type")
        topics.append(topic)
    return topics


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


Opener = Callable[[dict[str, Any], StoredRow], None]
"""Opens an event's sealed ``confidential`` values in place (field encryption)."""


def opener_for(store: FirmStore) -> Opener | None:
    """The firm's field opener.

    Only called for events whose scope may read the confidential values, so a
    value is never decrypted for a subscriber that would then see it redacted.
    """
    engine = sealing_for_store(store)

    def open_in_place(payload: dict[str, Any], row: StoredRow) -> None:
        engine.open_state(payload, row.originator_id, row.originator_version, row.topic)

    return open_in_place


def _sealed_text_in(payload: dict[str, Any], topic: str) -> list[str]:
    """The event's top-level text fields stored sealed (reasons, references)."""
    from ledger.crypto.cipher import is_sealed
    from ledger.crypto.sealing import sealed_text

    return [n for n in sealed_text(topic)
            if isinstance(payload.get(n), str) and is_sealed(payload[n])]


def to_feed_event(row: StoredRow, owners: Owners, scope: Scope, *,
                  raw: bool = False, opener: Opener | None = None) -> FeedEvent:
    """The feed shape of one stored row, in the form the access policy gives this scope."""
    owners.learn(row.originator_id, row.originator_version, row.topic, row.state)
    client, matter = owners.owner(row.originator_id)
    prev_hash, digest = row.prev_hash.hex(), row.hash.hex()
    name = policy.type_name(row.topic)
    if policy.event_form(scope, name, client, matter) == policy.WITHHELD:
        return FeedEvent(position=row.position, type=None, schema_version=None,
                         recorded_at=rfc3339(row.recorded_at), effective_on=None,
                         originator_id=None, originator_version=None, client_id=None,
                         matter_id=None, payload=None, withheld=True,
                         prev_hash=prev_hash, hash=digest)
    payload = _PAYLOAD.decode(row.state)
    schema_version = int(payload.pop("class_version", 1))
    clear = policy.apply_form(scope, name, payload) == policy.FULL
    text = _sealed_text_in(payload, row.topic)
    if text and not (clear and scope.confidential and opener is not None):
        for field in text:  # client-related text sealed like ``confidential``: same reach
            payload[field] = {"redacted": True}
        text = []
    if clear and ("confidential" in payload or text) and opener is not None:
        try:
            opener(payload, row)
        except Exception:  # unreadable (wrong key, damaged): never sent sealed or half-open
            if "confidential" in payload:
                payload["confidential"] = {"redacted": True, "unreadable": True}
            for field in text:
                payload[field] = {"redacted": True, "unreadable": True}
    return FeedEvent(
        position=row.position, type=row.topic, schema_version=schema_version,
        recorded_at=rfc3339(row.recorded_at), effective_on=payload.get("effective_on"),
        originator_id=str(row.originator_id), originator_version=row.originator_version,
        client_id=None if client is None else str(client),
        matter_id=None if matter is None else str(matter), payload=payload,
        state_b64=base64.b64encode(row.state).decode() if raw and clear else None,
        prev_hash=prev_hash, hash=digest)


def _select(store: FirmStore, topics: bool) -> SQL | Any:
    where = " AND topic = ANY(%s)" if topics else ""
    return SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state, "
        "recorded_at, prev_hash, hash FROM {s}.{t} WHERE notification_id > %s" + where
        + " ORDER BY notification_id LIMIT %s").format(
        s=Identifier(store.schema), t=Identifier(store.events_table))


def read_rows(conn: Connection[Any], store: FirmStore, after: int, limit: int,
              topics: Sequence[str] = ()) -> list[StoredRow]:
    """Stored rows after a position, in order (of these topics, when given)."""
    params: tuple[Any, ...] = (after, list(topics), limit) if topics else (after, limit)
    rows = conn.execute(_select(store, bool(topics)), params).fetchall()
    return [StoredRow(r[0], r[1], r[2], r[3], bytes(r[4]), r[5], bytes(r[6]), bytes(r[7]))
            for r in rows]


def ledger_id_of(conn: Connection[Any], store: FirmStore) -> str:
    row = conn.execute(SQL("SELECT ledger_id FROM {s}.chain_meta WHERE table_name = %s").format(
        s=Identifier(store.schema)), (store.events_table,)).fetchone()
    return str(row[0]) if row else ""


def read_page(conn: Connection[Any], store: FirmStore, owners: Owners, scope: Scope, *,
              after: int, limit: int, types: Sequence[str] = (),
              client_id: UUID | None = None, raw: bool = False,
              opener: Opener | None = None) -> Page:
    """Up to ``limit`` events after ``after`` as this scope sees them.

    Without filters every position appears (withheld stubs included), so the
    page chains. With a type or client filter only matching events the scope
    may see (not withheld) appear, on every surface alike (``keep``);
    ``next_after`` is the last position examined, so paging goes on from
    there even when a page comes back empty.
    """
    if after < 0 or not 1 <= limit <= MAX_PAGE:
        raise InvalidFeedRequestError(f"after must be >= 0 and limit 1..{MAX_PAGE}",
                                      field="limit")
    topics = resolve_types(types)
    filtered = bool(topics) or client_id is not None
    events: list[FeedEvent] = []
    cursor = after
    budget = limit * SCAN_FACTOR
    while len(events) < limit and budget > 0:
        size = min(budget, MAX_PAGE if filtered else limit - len(events))
        rows = read_rows(conn, store, cursor, size, topics)
        if not rows:
            break
        owners.resolve(conn, (r.originator_id for r in rows))
        for row in rows:
            event = to_feed_event(row, owners, scope, raw=raw, opener=opener)
            cursor = row.position
            if filtered and not keep(event, client_id):
                continue
            events.append(event)
            if len(events) == limit:
                break
        budget -= len(rows)
    head = conn.execute(SQL("SELECT coalesce(max(notification_id), 0) FROM {s}.{t}").format(
        s=Identifier(store.schema), t=Identifier(store.events_table))).fetchone()
    return Page(ledger_id_of(conn, store), events, cursor, int(head[0]) if head else 0)


def keep(event: FeedEvent, client_id: UUID | None = None) -> bool:
    """Whether a filtered feed (type or client filter) sends this event.

    Why withheld events are left out: a stub that matched a type filter would
    tell the subscriber that an event of that type, outside its reach,
    happened then. Unfiltered feeds send the stubs so that the chain links.
    """
    return not event.withheld and (client_id is None or event.client_id == str(client_id))


class ChainBreakError(LedgerError):
    """Events received do not chain: something was lost, reordered or altered."""

    type = "chain-break"


def check_chain(events: Sequence[FeedEvent], *, previous_hash: str | None = None,
                ledger_id: str | None = None) -> str | None:
    """Check that events link (each ``prev_hash`` is the previous ``hash``).

    ``previous_hash`` is the last hash of the page before; for position 1 the
    genesis hash of ``ledger_id`` is expected. Where ``state_b64`` is present
    the event's hash is recomputed from the stored bytes too. Returns the last
    hash, to pass in with the next page.
    """
    from ledger.store.chain import ChainHasher

    hasher = ChainHasher(UUID(ledger_id)) if ledger_id else None
    last = previous_hash
    for event in events:
        if event.position == 1 and ledger_id:
            last = genesis_hash(UUID(ledger_id)).hex()
        if last is not None and event.prev_hash != last:
            raise ChainBreakError(f"position {event.position} does not link to the one "
                                  "before it", field="prev_hash")
        if hasher is not None and event.state_b64 is not None:
            _recompute(hasher, event)
        last = event.hash
    return last


def _recompute(hasher: Any, event: FeedEvent) -> None:
    from ledger.store.chain import to_micros

    assert event.originator_id is not None and event.type is not None
    assert event.state_b64 is not None and event.originator_version is not None
    digest = hasher.event_hash(
        position=event.position, prev_hash=bytes.fromhex(event.prev_hash),
        originator_id=UUID(event.originator_id), originator_version=event.originator_version,
        topic=event.type, state=base64.b64decode(event.state_b64),
        recorded_at_micros=to_micros(datetime.fromisoformat(event.recorded_at)))
    if digest.hex() != event.hash:
        raise ChainBreakError(f"position {event.position}: hash does not match its content",
                              field="hash")
