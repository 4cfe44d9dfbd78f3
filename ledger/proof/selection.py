"""Which events belong to one client, for ``ledger prove --client``.

A client's events are those of its own aggregate and of every aggregate
created with its ``client_id`` in clear (its matters, invoices, payments, and
any later kind that does the same), up to a position. Only clear fields are
read, so the selection needs no decryption key and works after erasure.
"""

from __future__ import annotations

from uuid import UUID

from psycopg.sql import SQL, Identifier

from ledger.store.firm import FirmStore


def client_positions(store: FirmStore, client_id: UUID, upto: int) -> list[int]:
    """Positions (<= ``upto``) of every event of the client's aggregates, in order."""
    s, t = Identifier(store.schema), Identifier(store.events_table)
    query = SQL(
        "SELECT notification_id FROM {s}.{t} WHERE notification_id <= %(upto)s"
        " AND originator_id IN (SELECT originator_id FROM {s}.{t}"
        "  WHERE originator_version = 1 AND notification_id <= %(upto)s"
        "  AND (originator_id = %(client)s"
        "   OR convert_from(state, 'UTF8')::jsonb ->> 'client_id' = %(client_text)s))"
        " ORDER BY notification_id").format(s=s, t=t)
    with store.location.connect() as conn:
        rows = conn.execute(query, {"upto": upto, "client": client_id,
                                    "client_text": str(client_id)}).fetchall()
    return [int(r[0]) for r in rows]
