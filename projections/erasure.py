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


SEALED_TEXT_UPDATES: tuple[tuple[str, str, str], ...] = (
    # (table, SET clause, extra condition): reasons and payment references, sealed with
    # the client's key since v2 of their events, read as a rebuild would read them.
    ("rm_adjustments", "reason = %(erased)s", "TRUE"),
    ("rm_statement_lines", "reference = split_part(reference, ' ', 1) || ' ' || %(erased)s",
     "kind = 'payment'"),
    ("rm_statement_lines", "reference = %(erased)s",
     "kind NOT IN ('invoice', 'payment') AND reference <> ''"),
)


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
        for table, assign, where in SEALED_TEXT_UPDATES:
            row = conn.execute("SELECT to_regclass(%s)",
                               (f'"{store.schema}"."{table}"',)).fetchone()
            if row is None or row[0] is None:
                continue
            cur = conn.execute(
                SQL("UPDATE {s}.{t} SET {assign} WHERE client_id = %(client)s AND {where}")
                .format(s=Identifier(store.schema), t=Identifier(table),
                        assign=SQL(assign), where=SQL(where)),  # type: ignore[arg-type]
                {"erased": ERASED, "client": client_id})
            changed += cur.rowcount
    return changed
