"""Webhook endpoints and delivery attempts, kept in the firm's schema.

Why the position lives in PostgreSQL next to the ledger: it survives restarts
of the delivery worker, and it only ever moves with a conditional update
(``WHERE position = <the one read>``), so an operator's replay that lands
mid-delivery wins, and two workers can never both move it. Endpoints are
disabled after failing continuously for ``max_failure`` (default 3 days);
replay re-enables them from any position.

The secret is kept in clear here because signing needs it; it is returned
once, at registration, and never listed. URLs are checked when registered
(``addresses``: no credentials, no internal addresses unless allowed) and
listed with any credentials of older rows hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from psycopg import Connection
from psycopg.rows import dict_row
from psycopg.sql import SQL, Composed, Identifier

from ledger.errors import LedgerError
from ledger.store.firm import FirmStore
from ledger.subscribers.addresses import display_url, validate_url
from ledger.subscribers.feed import resolve_types
from ledger.subscribers.scope import Scope, parse_scope
from ledger.subscribers.signing import new_secret

MAX_FAILURE = timedelta(days=3)


class InvalidWebhookError(LedgerError):
    """A webhook registration or operation that cannot be accepted."""

    type = "invalid-webhook"


class WebhookNotFoundError(LedgerError):
    type = "webhook-not-found"


@dataclass(frozen=True)
class Endpoint:
    id: UUID
    url: str
    event_types: list[str]
    scope: str
    position: int
    status: str
    failing_since: datetime | None
    consecutive_failures: int
    next_attempt_at: datetime
    disabled_reason: str | None
    created_at: datetime
    key_id: UUID | None = None

    def parsed_scope(self) -> Scope:
        return parse_scope([self.scope])

    def public(self) -> dict[str, Any]:
        """What the API and CLI show (never the secret, nor credentials in the URL)."""
        return {"id": str(self.id), "url": display_url(self.url), "event_types": self.event_types,
                "scope": self.scope, "position": self.position, "status": self.status,
                "failing_since": _iso(self.failing_since),
                "consecutive_failures": self.consecutive_failures,
                "next_attempt_at": _iso(self.next_attempt_at),
                "disabled_reason": self.disabled_reason, "created_at": _iso(self.created_at),
                "key_id": None if self.key_id is None else str(self.key_id)}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


COLUMNS = ("id, url, event_types, scope, position, status, failing_since, "
           "consecutive_failures, next_attempt_at, disabled_reason, created_at, key_id")


class WebhookStore:
    """Endpoints, positions and attempts in ``<schema>.webhook_endpoints``/``_attempts``."""

    def __init__(self, store: FirmStore, *, allow_private: bool | None = None) -> None:
        self.store = store
        self.allow_private = allow_private  # None: LEDGER_WEBHOOKS_ALLOW_PRIVATE decides
        self.s = Identifier(store.schema)

    def q(self, text: str) -> Composed:
        return SQL(text).format(s=self.s, t=Identifier(self.store.events_table))

    def connect(self) -> Connection[Any]:
        return self.store.location.connect()

    def ensure(self) -> None:
        with self.connect() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext('legal-ledger webhooks ddl'))")
            conn.execute(self.q(
                "CREATE TABLE IF NOT EXISTS {s}.webhook_endpoints ("
                " id uuid PRIMARY KEY, url text NOT NULL,"
                " event_types text[] NOT NULL DEFAULT '{{}}', scope text NOT NULL,"
                " secret text NOT NULL, position bigint NOT NULL DEFAULT 0,"
                " status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),"
                " failing_since timestamptz, consecutive_failures int NOT NULL DEFAULT 0,"
                " next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
                " disabled_reason text,"
                " created_at timestamptz NOT NULL DEFAULT clock_timestamp())"))
            # key_id: deliver as this API key sees (its role, its principal's
            # grants, re-checked before every event); NULL: the operator's scope.
            conn.execute(self.q("ALTER TABLE {s}.webhook_endpoints"
                                " ADD COLUMN IF NOT EXISTS key_id uuid"))
            conn.execute(self.q(
                "CREATE TABLE IF NOT EXISTS {s}.webhook_attempts ("
                " id bigserial PRIMARY KEY,"
                " endpoint_id uuid NOT NULL REFERENCES {s}.webhook_endpoints (id),"
                " position bigint NOT NULL,"
                " attempted_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
                " status_code int, error text, duration_ms int NOT NULL,"
                " delivered boolean NOT NULL)"))
            conn.execute(self.q("CREATE INDEX IF NOT EXISTS webhook_attempts_endpoint_idx "
                                "ON {s}.webhook_attempts (endpoint_id, id)"))
            conn.execute("SELECT pg_advisory_unlock(hashtext('legal-ledger webhooks ddl'))")

    def add(self, url: str, *, event_types: list[str], scope: Scope,
            after: int | None = None, key_id: UUID | None = None) -> tuple[Endpoint, str]:
        """Register an endpoint; returns it and its secret (the only time it is shown).

        The URL must pass the address rules (``addresses``): http(s), no
        credentials, no internal address unless private addresses are allowed.

        Delivery starts after ``after`` (default: the current head, i.e. new events).
        With ``key_id`` the endpoint receives what that API key may see, and
        ``scope`` is that key's reach at registration (narrowed by the caller).
        """
        validate_url(url, self.allow_private)
        types = resolve_types(event_types)
        if scope.describe() == "none":
            raise InvalidWebhookError("a scope is required (firm, client:<id>, ...)",
                                      field="scope")
        self.ensure()
        start = self.store.head().position if after is None else after
        secret = new_secret()
        with self.connect() as conn:
            row = conn.execute(self.q(
                "INSERT INTO {s}.webhook_endpoints (id, url, event_types, scope, secret,"
                " position, key_id) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING " + COLUMNS),
                (uuid4(), url, types, scope.describe(), secret, max(start, 0),
                 key_id)).fetchone()
        assert row is not None
        return Endpoint(*row), secret

    def endpoints(self) -> list[Endpoint]:
        with self.connect() as conn:
            rows = conn.execute(self.q(
                "SELECT " + COLUMNS + " FROM {s}.webhook_endpoints ORDER BY created_at, id"))
            return [Endpoint(*r) for r in rows.fetchall()]

    def get(self, endpoint_id: UUID) -> Endpoint:
        with self.connect() as conn:
            row = conn.execute(self.q(
                "SELECT " + COLUMNS + " FROM {s}.webhook_endpoints WHERE id = %s"),
                (endpoint_id,)).fetchone()
        if row is None:
            raise WebhookNotFoundError("no such webhook endpoint", field="endpoint_id")
        return Endpoint(*row)

    def secret(self, conn: Connection[Any], endpoint_id: UUID) -> str:
        row = conn.execute(self.q("SELECT secret FROM {s}.webhook_endpoints WHERE id = %s"),
                           (endpoint_id,)).fetchone()
        if row is None:
            raise WebhookNotFoundError("no such webhook endpoint", field="endpoint_id")
        return str(row[0])

    def replay(self, endpoint_id: UUID, from_position: int) -> Endpoint:
        """Deliver again from ``from_position`` (inclusive); re-enables the endpoint."""
        if from_position < 1:
            raise InvalidWebhookError("positions start at 1", field="from_position")
        with self.connect() as conn:
            found = conn.execute(self.q(
                "UPDATE {s}.webhook_endpoints SET position = %s, status = 'active',"
                " failing_since = NULL, consecutive_failures = 0, disabled_reason = NULL,"
                " next_attempt_at = clock_timestamp() WHERE id = %s RETURNING id"),
                (from_position - 1, endpoint_id)).fetchone()
        if found is None:
            raise WebhookNotFoundError("no such webhook endpoint", field="endpoint_id")
        return self.get(endpoint_id)

    def attempts(self, endpoint_id: UUID, *, limit: int = 100,
                 before: int | None = None) -> list[dict[str, Any]]:
        """Delivery attempts of an endpoint, newest first."""
        self.get(endpoint_id)
        with self.connect() as conn, conn.cursor(row_factory=dict_row) as curs:
            rows = curs.execute(self.q(
                "SELECT id, position, attempted_at, status_code, error, duration_ms, delivered"
                " FROM {s}.webhook_attempts WHERE endpoint_id = %s AND id < %s"
                " ORDER BY id DESC LIMIT %s"),
                (endpoint_id, before or 2**62, max(1, min(limit, 1000)))).fetchall()
        for row in rows:
            row["attempted_at"] = row["attempted_at"].isoformat()
        return rows

    def due(self, conn: Connection[Any]) -> list[UUID]:
        """Active endpoints whose next attempt is due and that have events to send."""
        rows = conn.execute(self.q(
            "SELECT id FROM {s}.webhook_endpoints WHERE status = 'active'"
            " AND next_attempt_at <= clock_timestamp() AND position < "
            "(SELECT coalesce(max(notification_id), 0) FROM {s}.{t})"
            " ORDER BY next_attempt_at")).fetchall()
        return [r[0] for r in rows]

    def record(self, conn: Connection[Any], endpoint_id: UUID, position: int, *,
               status_code: int | None, error: str | None, duration_ms: int,
               delivered: bool) -> None:
        conn.execute(self.q(
            "INSERT INTO {s}.webhook_attempts (endpoint_id, position, status_code, error,"
            " duration_ms, delivered) VALUES (%s, %s, %s, %s, %s, %s)"),
            (endpoint_id, position, status_code, error, duration_ms, delivered))

    def delivered(self, conn: Connection[Any], endpoint_id: UUID, old: int, position: int, *,
                  status_code: int | None, duration_ms: int) -> bool:
        """Note a delivered event and move the position from ``old`` past it, in one
        statement (one commit per event, not two); False if someone else moved it."""
        row = conn.execute(self.q(
            "WITH attempt AS (INSERT INTO {s}.webhook_attempts (endpoint_id, position,"
            " status_code, error, duration_ms, delivered) VALUES (%s, %s, %s, NULL, %s, true))"
            " UPDATE {s}.webhook_endpoints SET position = %s, failing_since = NULL,"
            " consecutive_failures = 0 WHERE id = %s AND position = %s RETURNING id"),
            (endpoint_id, position, status_code, duration_ms, position, endpoint_id, old)
        ).fetchone()
        return row is not None

    def advance(self, conn: Connection[Any], endpoint_id: UUID, old: int, new: int) -> bool:
        """Move the position from ``old`` to ``new``; False if someone else moved it."""
        row = conn.execute(self.q(
            "UPDATE {s}.webhook_endpoints SET position = %s, failing_since = NULL,"
            " consecutive_failures = 0 WHERE id = %s AND position = %s RETURNING id"),
            (new, endpoint_id, old)).fetchone()
        return row is not None

    def pause(self, conn: Connection[Any], endpoint_id: UUID, reason: str) -> None:
        """Stop delivering to an endpoint whose key no longer covers it (replay resumes it)."""
        conn.execute(self.q(
            "UPDATE {s}.webhook_endpoints SET status = 'disabled', disabled_reason = %s"
            " WHERE id = %s"), (reason, endpoint_id))

    def failed(self, conn: Connection[Any], endpoint_id: UUID, old: int,
               retry_in: timedelta, max_failure: timedelta) -> None:
        """Note a failure: back off, and disable after ``max_failure`` of failing."""
        conn.execute(self.q(
            "UPDATE {s}.webhook_endpoints SET"
            " consecutive_failures = consecutive_failures + 1,"
            " failing_since = coalesce(failing_since, clock_timestamp()),"
            " next_attempt_at = clock_timestamp() + %s,"
            " status = CASE WHEN clock_timestamp() - coalesce(failing_since, clock_timestamp())"
            "   >= %s THEN 'disabled' ELSE status END,"
            " disabled_reason = CASE WHEN clock_timestamp() - coalesce(failing_since,"
            "   clock_timestamp()) >= %s THEN 'failing since ' || failing_since::text"
            "   ELSE disabled_reason END"
            " WHERE id = %s AND position = %s"),
            (retry_in, max_failure, max_failure, endpoint_id, old))
