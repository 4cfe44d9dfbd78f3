"""What a subscriber may see: its scope, and which client each event belongs to.

The ``Scope`` itself, and what each role sees within it, is the access
policy's (``ledger.domain.policy``); this module parses scopes and finds
each event's owner.

Why a scope decides *visibility* as well as redaction: a client-scoped
subscriber (a client's portal, a practice-management sync for one client)
must not learn anything about another client, not even amounts, so events of
clients outside its scope reach it only as *withheld* stubs (position, chain
hashes, time: enough to check that the chain is unbroken, nothing else).
Firm-level events (firm set-up, timekeepers, access lists, command records)
belong to no client and are visible to firm scopes only. A firm scope sees
every event; ``confidential=False`` (``firm-redacted``, e.g. a data
warehouse) replaces every ``confidential`` field with ``{"redacted": true}``.

Which client an event belongs to is computed on the fly, not kept in a read
model: an aggregate never changes client, so the answer is read once from the
aggregate's creation event (version 1) and cached for the life of the process.
A projection would lag the live stream; this lookup cannot.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Connection
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from ledger.domain.policy import Scope
from ledger.errors import LedgerError

__all__ = ["FIRM", "FIRM_REDACTED", "InvalidScopeError", "Owners", "Scope", "parse_scope"]


class InvalidScopeError(LedgerError):
    """A scope that cannot be parsed (unknown kind, malformed id)."""

    type = "invalid-scope"


FIRM = Scope(firm=True)
FIRM_REDACTED = Scope(firm=True, confidential=False)


def parse_scope(items: Iterable[str]) -> Scope:
    """``firm``, ``firm-redacted``, ``client:<uuid>``, ``matter:<uuid>``, ``redacted``.

    Items may also be comma-separated within one string.
    """
    firm, confidential = False, True
    clients: set[UUID] = set()
    matters: set[UUID] = set()
    for item in (p.strip() for text in items for p in text.split(",") if p.strip()):
        kind, _, value = item.partition(":")
        if item == "firm":
            firm = True
        elif item == "firm-redacted":
            firm, confidential = True, False
        elif item == "redacted":
            confidential = False
        elif kind in ("client", "matter"):
            try:
                (clients if kind == "client" else matters).add(UUID(value))
            except ValueError:
                raise InvalidScopeError(f"{kind} scope needs a UUID", field="scope") from None
        else:
            raise InvalidScopeError(
                "a scope item is firm, firm-redacted, redacted, client:<uuid> or matter:<uuid>",
                field="scope")
    return Scope(firm=firm, clients=frozenset(clients), matters=frozenset(matters),
                 confidential=confidential)


Owner = tuple[UUID | None, UUID | None]
"""(client id, matter id) of an event; (None, None) for firm-level events."""

_CREATED = msgspec.json.Decoder(dict[str, Any])
CACHE_LIMIT = 200_000


def owner_from_creation(originator_id: UUID, topic: str, state: bytes) -> Owner:
    """The owner of an aggregate, read from its creation event."""
    name = topic.rpartition(":")[2]
    if name == "ClientOnboarded":
        return originator_id, None
    if name in {"MatterOpened", "InvoiceDrafted", "PaymentReceived"}:
        payload = _CREATED.decode(state)
        client = _uuid(payload.get("client_id"))
        matter = originator_id if name == "MatterOpened" else _uuid(payload.get("matter_id"))
        return client, matter
    return None, None


def _uuid(value: Any) -> UUID | None:
    try:
        return None if value is None else UUID(str(value))
    except ValueError:
        return None


class Owners:
    """Cache of aggregate → (client, matter), filled from creation events on demand."""

    def __init__(self, schema: str, table: str) -> None:
        self._statement = SQL(
            "SELECT originator_id, topic, state FROM {s}.{t} "
            "WHERE originator_id = ANY(%s) AND originator_version = 1").format(
            s=Identifier(schema), t=Identifier(table))
        self._known: dict[UUID, Owner] = {}

    def learn(self, originator_id: UUID, version: int, topic: str, state: bytes) -> None:
        """Note an aggregate's owner from its creation event, when one passes by."""
        if version == 1 and originator_id not in self._known:
            self._remember(originator_id, owner_from_creation(originator_id, topic, state))

    def resolve(self, conn: Connection[Any], originator_ids: Iterable[UUID]) -> None:
        """Look up, in one query, the owners of the aggregates not yet known."""
        missing = list({o for o in originator_ids if o not in self._known})
        if not missing:
            return
        with conn.cursor(row_factory=tuple_row) as curs:
            for oid, topic, state in curs.execute(self._statement, (missing,)).fetchall():
                self._remember(oid, owner_from_creation(oid, topic, bytes(state)))

    def owner(self, originator_id: UUID) -> Owner:
        return self._known.get(originator_id, (None, None))

    def _remember(self, originator_id: UUID, owner: Owner) -> None:
        if len(self._known) >= CACHE_LIMIT:
            self._known.clear()
        self._known[originator_id] = owner
