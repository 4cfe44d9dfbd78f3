"""What an existing ledger still exposes: unkeyed fingerprints and client text in clear.

Events are immutable, so a ledger written before keyed fingerprints
(``ledger.crypto.fingerprint``) keeps its old ``CommandAccepted`` records, whose
``payload_sha256`` is a plain SHA-256 of the command's payload: anyone who can
read the rows can confirm a guess of that payload (a client's name, a narrative),
also after the client was erased. This scan lists them per client, so the firm
knows what it holds and can say so in an erasure report. It also lists events
whose client-related text (``SEALED_TEXT``: reasons, payment references) was
stored in clear, as v1 events were.

It reads the stored rows as they are (no key needed: fingerprints, ``client_id``
fields and topics are in clear), in one pass in chain order. A record's client
is the one client of the events saved with it (the rows since the previous
command record: a command's events and its record are one insert) or of the ids
its result names (``matter_id``, ``invoice_id``...); ``None`` when there is no
single such client (firm set-up, timekeepers, access grants).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from ledger.crypto.cipher import ERASED, is_sealed
from ledger.crypto.fingerprint import is_keyed
from ledger.crypto.sealing import sealed_text
from ledger.domain.client import ClientOnboarded
from ledger.domain.command_record import CommandAccepted
from ledger.store.firm import FirmStore

_RECORD = get_topic(CommandAccepted)
_ONBOARDED = get_topic(ClientOnboarded)
_decode = msgspec.json.Decoder()


@dataclass(frozen=True)
class ExposedEvent:
    position: int
    event_type: str
    exposes: str
    """``unkeyed fingerprint`` or ``text in clear: <field>, ...``"""
    command: str | None = None


@dataclass
class Exposure:
    """The scan's findings: records checked, and the unkeyed ones by client."""

    records: int = 0
    keyed: int = 0
    clear_text: int = 0
    by_client: dict[UUID | None, list[ExposedEvent]] = field(default_factory=dict)

    @property
    def unkeyed(self) -> int:
        return sum(e.command is not None for events in self.by_client.values() for e in events)

    def as_json(self) -> dict[str, Any]:
        return {
            "command_records": self.records, "keyed": self.keyed, "unkeyed": self.unkeyed,
            "clear_text_events": self.clear_text,
            "clients": [
                {"client_id": str(client) if client else None,
                 "events": [vars(e) for e in events]}
                for client, events in sorted(self.by_client.items(),
                                             key=lambda kv: str(kv[0] or ""))],
        }


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _rows(store: FirmStore) -> Iterator[tuple[int, UUID, str, bytes]]:
    query = SQL("SELECT notification_id, originator_id, topic, state FROM {s}.{t}"
                " ORDER BY notification_id").format(s=Identifier(store.schema),
                                                    t=Identifier(store.events_table))
    with (store.location.connect() as conn, conn.transaction(),
          conn.cursor(name="ledger_exposure_scan") as cur):
        cur.itersize = 2000
        cur.execute(query)
        for position, originator, topic, state in cur:
            yield int(position), originator, str(topic), bytes(state)


def scan(store: FirmStore) -> Exposure:
    """One pass over the chain (cost: the whole table, read once)."""
    found = Exposure()
    owner: dict[UUID, UUID] = {}  # originator id -> its client
    batch: set[UUID] = set()  # clients of the rows since the previous command record
    for position, originator, topic, raw in _rows(store):
        state = _decode.decode(raw)
        if topic == _ONBOARDED:
            owner[originator] = originator
        elif isinstance(state, dict) and (client := _uuid(state.get("client_id") or "")):
            owner.setdefault(originator, client)
        if topic != _RECORD:
            if originator in owner:
                batch.add(owner[originator])
            clear = [n for n in sealed_text(topic) if isinstance(state, dict)
                     and isinstance(state.get(n), str) and state[n] != ERASED
                     and not is_sealed(state[n])]
            if clear:
                found.clear_text += 1
                found.by_client.setdefault(owner.get(originator), []).append(ExposedEvent(
                    position, topic.rpartition(":")[2], "text in clear: " + ", ".join(clear)))
            continue
        found.records += 1
        stored = str(state.get("payload_sha256", ""))
        if is_keyed(stored):
            found.keyed += 1
        else:
            named = {owner[i] for v in dict(state.get("result") or {}).values()
                     if (i := _uuid(v)) is not None and i in owner}
            clients = batch | named
            client = next(iter(clients)) if len(clients) == 1 else None
            found.by_client.setdefault(client, []).append(ExposedEvent(
                position, "CommandAccepted", "unkeyed fingerprint",
                str(state.get("command", ""))))
        batch = set()
    return found
