"""Breach-scope reports over the access chain: who saw client C, what did P see.

Both read ``access_events`` (see ``access_log``) in the window ``[start, end]``
of the time of the read (``accessed_at``, the request's clock). Rows are
pre-selected by ``recorded_at >= start - skew``: a record is always committed
after the read it describes, so nothing in the window is skipped, while the
``recorded_at`` index keeps old history out of the scan. Only ids are listed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from ledger.api.access_log import ACCESS_TABLE, RecordAccessed
from ledger.bounds import check_period
from ledger.store.firm import FirmStore

CLOCK_SKEW = timedelta(minutes=5)


def _rows(store: FirmStore, start: datetime, end: datetime, key: str,
          value: str) -> list[dict[str, Any]]:
    check_period(start, end, "to")
    if not store.exists() or not _has_table(store):
        return []
    query = SQL(
        "SELECT notification_id, recorded_at, state FROM {s}.{t} WHERE topic = %s"
        " AND recorded_at >= %s"
        " AND convert_from(state, 'UTF8')::jsonb ->> %s = %s"
        " AND (convert_from(state, 'UTF8')::jsonb ->> 'accessed_at')::timestamptz"
        " BETWEEN %s AND %s ORDER BY notification_id").format(
        s=Identifier(store.schema), t=Identifier(ACCESS_TABLE))
    with store.location.connect() as conn:
        found = conn.execute(query, (get_topic(RecordAccessed), start - CLOCK_SKEW, key,
                                     value, start, end)).fetchall()
    out = []
    for position, recorded_at, state in found:
        e = msgspec.json.decode(bytes(state))
        out.append({"position": position, "accessed_at": e["accessed_at"],
                    "recorded_at": recorded_at.isoformat(), "principal_id": e["actor"],
                    "role": e["role"], "client_id": e["client_id"],
                    "matter_id": e["matter_id"], "invoice_id": e["invoice_id"],
                    "what": e["what"], "request_id": e["request_id"]})
    return out


def _has_table(store: FirmStore) -> bool:
    with store.location.connect() as conn:
        row = conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                           (f'"{store.schema}"."{ACCESS_TABLE}"',)).fetchone()
    return bool(row and row[0])


def who_accessed(store: FirmStore, client_id: UUID, start: datetime,
                 end: datetime) -> dict[str, Any]:
    """Every recorded read of the client's data in the window, and by whom."""
    rows = _rows(store, start, end, "client_id", str(client_id))
    counts = Counter(r["principal_id"] for r in rows)
    return {"client_id": str(client_id), "from": start.isoformat(), "to": end.isoformat(),
            "principals": [{"principal_id": p, "reads": n} for p, n in sorted(counts.items())],
            "accesses": rows}


def what_accessed(store: FirmStore, principal_id: str, start: datetime,
                  end: datetime) -> dict[str, Any]:
    """Every recorded read by the principal in the window, grouped by client."""
    rows = _rows(store, start, end, "actor", principal_id)
    counts = Counter(r["client_id"] for r in rows)
    return {"principal_id": principal_id, "from": start.isoformat(), "to": end.isoformat(),
            "clients": [{"client_id": c, "reads": n}
                        for c, n in sorted(counts.items(), key=lambda kv: str(kv[0]))],
            "accesses": rows}
