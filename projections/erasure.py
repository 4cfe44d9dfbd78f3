"""Read-model rows of an erased client: its confidential columns read as erased.

Why a direct update and not a fold: the read models copied the client's
plaintext when its events were folded, and a fold of ``ClientDataErased``
could not reach every row of the client (entries are keyed by entry, not by
client). After erasure a rebuild gives the same rows anyway, because the
sealed fields no longer open; this only brings the live tables there at once.
"""

from __future__ import annotations

from uuid import UUID

from psycopg.sql import SQL, Identifier

from ledger.crypto.cipher import ERASED
from ledger.store.firm import FirmStore

CONFIDENTIAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "rm_clients": ("name", "billing_contact"),
    "rm_matters": ("title",),
    "rm_entries": ("narrative",),
}


def erase_client_rows(store: FirmStore, client_id: UUID) -> int:
    """Overwrite the client's confidential columns in every read model; rows changed."""
    changed = 0
    with store.location.connect() as conn, conn.transaction():
        for table, columns in CONFIDENTIAL_COLUMNS.items():
            row = conn.execute("SELECT to_regclass(%s)",
                               (f'"{store.schema}"."{table}"',)).fetchone()
            if row is None or row[0] is None:
                continue
            sets = SQL(", ").join(SQL("{} = %s").format(Identifier(c)) for c in columns)
            cur = conn.execute(SQL("UPDATE {s}.{t} SET {sets} WHERE client_id = %s").format(
                s=Identifier(store.schema), t=Identifier(table), sets=sets),
                (*([ERASED] * len(columns)), client_id))
            changed += cur.rowcount
    return changed
