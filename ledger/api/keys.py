"""API keys: bearer tokens bound to a principal and a role, stored only as SHA-256.

Where and why: two append-only tables in the firm's schema, ``api_keys``
(one row per key created) and ``api_key_revocations`` (one row per
revocation), guarded by the same refuse-change triggers as the event table.
Not events in the billing chain, because

* the key is checked on every request: one indexed lookup by hash, with no
  aggregate to replay and no read model that could lag a revocation;
* every event of the chain is handed to subscribers and auditors; credential
  hashes have no business travelling there;
* creating a key must not queue behind billing writers for the chain's lock.

Append-only still gives the history an auditor asks for (who held which key,
from when, revoked by whom and when). A token is ``llk_`` + 32 random bytes in
base64url, shown once; a revocation takes effect on the very next request
because nothing is cached.

Lifetime: a key may be created with a lifetime (``90d``, ``12h``); its
``expires_at`` is fixed at creation (a column of the key's own row, so nothing
is ever updated) and checked against the database clock on every request; an
expired key answers 401 ``key-expired``. Last use: a third append-only table,
``api_key_uses``, holds one row per key per minute in which it was used. Each
process writes at most once a minute per key (an in-memory mark), and the
``(key_id, minute)`` primary key absorbs the same minute from other processes,
so authentication stays one indexed read and a write is rare, never per request.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from psycopg.sql import SQL, Identifier

from commands.auth import Principal, RoleName
from ledger.api.problems import KeyExpiredError
from ledger.domain.roles import ROLES, TK
from ledger.errors import LedgerError
from ledger.store.firm import FirmStore

TOKEN_PREFIX = "llk_"  # noqa: S105 - a prefix that makes leaked keys greppable


USE_MARK_SECONDS = 60.0
"""At most one ``api_key_uses`` write per key per process in this many seconds."""
LIFETIME = re.compile(r"^([1-9][0-9]{0,4})([dh])$")
MAX_LIFETIME = timedelta(days=3650)


class UnknownKeyError(LedgerError):
    type = "unknown-api-key"


class InvalidKeyLifetimeError(LedgerError):
    type = "invalid-key-lifetime"


def parse_lifetime(text: str) -> timedelta:
    """``Nd`` (days) or ``Nh`` (hours), from 1 hour to 3650 days."""
    found = LIFETIME.match(text.strip())
    if not found:
        raise InvalidKeyLifetimeError("--expires-in must be a whole number of days or hours,"
                                      " e.g. 90d or 12h", field="expires_in")
    count, unit = int(found.group(1)), found.group(2)
    lifetime = timedelta(days=count) if unit == "d" else timedelta(hours=count)
    if lifetime > MAX_LIFETIME:
        raise InvalidKeyLifetimeError("--expires-in may be at most 3650d", field="expires_in")
    return lifetime


@dataclass(frozen=True)
class ApiKey:
    """A key as listed (never the token, never its hash)."""

    key_id: UUID
    principal_id: str
    role: RoleName
    timekeeper_id: str | None
    created_at: datetime
    created_by: str
    revoked_at: datetime | None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    expired: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"key_id": str(self.key_id), "principal_id": self.principal_id,
                "role": self.role, "timekeeper_id": self.timekeeper_id,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by,
                "revoked_at": _iso(self.revoked_at), "expires_at": _iso(self.expires_at),
                "expired": self.expired, "last_used_at": _iso(self.last_used_at)}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's principal and role, and the timekeeper it logs as."""

    key_id: UUID
    principal: Principal
    role: RoleName
    timekeeper_id: str | None


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return TOKEN_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


class KeyStore:
    """The firm's API keys (created on first use, append-only)."""

    def __init__(self, store: FirmStore) -> None:
        self.store = store
        self.s = Identifier(store.schema)
        self._marked: dict[UUID, float] = {}
        self._marking = threading.Lock()

    def close(self) -> None:
        """Nothing of its own to close: lookups borrow from the process's pool."""

    def ensure(self) -> None:
        s = self.s
        with self.store.location.connect() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('legal-ledger ddl'))")
            conn.execute(SQL(
                "CREATE TABLE IF NOT EXISTS {s}.api_keys (key_id uuid PRIMARY KEY,"
                " sha256 bytea NOT NULL UNIQUE, principal_id text NOT NULL,"
                " role text NOT NULL, timekeeper_id text, created_by text NOT NULL,"
                " created_at timestamptz NOT NULL DEFAULT clock_timestamp())").format(s=s))
            conn.execute(SQL(
                "CREATE TABLE IF NOT EXISTS {s}.api_key_revocations (key_id uuid PRIMARY KEY"
                " REFERENCES {s}.api_keys, revoked_by text NOT NULL,"
                " revoked_at timestamptz NOT NULL DEFAULT clock_timestamp())").format(s=s))
            # Added to tables made before keys had a lifetime (no row is rewritten); looked
            # up first because ALTER would lock the table against every request's lookup.
            if not conn.execute("SELECT 1 FROM information_schema.columns WHERE table_schema"
                                " = %s AND table_name = 'api_keys' AND column_name ="
                                " 'expires_at'", (self.store.schema,)).fetchone():
                conn.execute(SQL("ALTER TABLE {s}.api_keys ADD COLUMN expires_at timestamptz"
                                 ).format(s=s))
            conn.execute(SQL(
                "CREATE TABLE IF NOT EXISTS {s}.api_key_uses (key_id uuid NOT NULL"
                " REFERENCES {s}.api_keys, used_minute timestamptz NOT NULL,"
                " PRIMARY KEY (key_id, used_minute))").format(s=s))
            for table in ("api_keys", "api_key_revocations", "api_key_uses"):
                for op, when in (("no_update_delete", "UPDATE OR DELETE"),
                                 ("no_truncate", "TRUNCATE")):
                    conn.execute(SQL(
                        "CREATE OR REPLACE TRIGGER {tr} BEFORE {when} ON {s}.{t} "
                        "FOR EACH STATEMENT EXECUTE FUNCTION {s}.refuse_change()").format(
                        tr=Identifier(f"{table}_{op}"), when=SQL(when), s=s,
                        t=Identifier(table)))
                conn.execute(SQL("GRANT SELECT, INSERT ON {s}.{t} TO {r}").format(
                    s=s, t=Identifier(table), r=Identifier(self.store.app_role)))

    def create(self, principal_id: str, role: str, *, created_by: str,
               timekeeper_id: str | None = None,
               expires_in: timedelta | None = None) -> tuple[str, ApiKey]:
        """A new key (expiring ``expires_in`` after creation, if given); the token is
        returned here and nowhere else, ever."""
        if role not in ROLES:
            raise LedgerError(f"role must be one of {', '.join(ROLES)}", field="role")
        Principal.model_validate({"id": principal_id})  # same id rules as the chain
        token, key_id = new_token(), uuid4()
        with self.store.location.connect() as conn:
            conn.execute(SQL(
                "INSERT INTO {s}.api_keys (key_id, sha256, principal_id, role, timekeeper_id,"
                " created_by, expires_at) VALUES (%s, %s, %s, %s, %s, %s,"
                " clock_timestamp() + %s::interval)").format(s=self.s),
                (key_id, digest(token), principal_id, role, timekeeper_id, created_by,
                 expires_in))
        return token, self.get(key_id)

    def revoke(self, key_id: UUID, *, revoked_by: str) -> ApiKey:
        self.get(key_id)
        with self.store.location.connect() as conn:
            conn.execute(SQL(
                "INSERT INTO {s}.api_key_revocations (key_id, revoked_by) VALUES (%s, %s)"
                " ON CONFLICT (key_id) DO NOTHING").format(s=self.s), (key_id, revoked_by))
        return self.get(key_id)

    def _select(self, where: str, params: tuple[Any, ...]) -> list[ApiKey]:
        query = SQL(
            "SELECT k.key_id, k.principal_id, k.role, k.timekeeper_id, k.created_at,"
            " k.created_by, r.revoked_at, k.expires_at,"
            " (SELECT max(u.used_minute) FROM {s}.api_key_uses u WHERE u.key_id = k.key_id),"
            " coalesce(k.expires_at <= clock_timestamp(), false) FROM {s}.api_keys k"
            " LEFT JOIN {s}.api_key_revocations r USING (key_id) WHERE " + where +
            " ORDER BY k.created_at, k.key_id").format(s=self.s)
        # Per request: borrowed from the process's pool (see ``ledger.bootstrap``).
        with self.store.location.connect() as conn:
            rows = conn.execute(query, params).fetchall()
        return [ApiKey(*row) for row in rows]

    def get(self, key_id: UUID) -> ApiKey:
        found = self._select("k.key_id = %s", (key_id,))
        if not found:
            raise UnknownKeyError("no such API key", field="key_id")
        return found[0]

    def find(self, key_id: UUID) -> ApiKey | None:
        found = self._select("k.key_id = %s", (key_id,))
        return found[0] if found else None

    def key_revoked(self, key_id: UUID) -> bool:
        """Whether a key is revoked (or gone): what a live connection re-checks."""
        found = self.find(key_id)
        return found is None or found.revoked_at is not None

    def list(self) -> list[ApiKey]:
        return self._select("true", ())

    def authenticate(self, token: str) -> Caller | None:
        """The caller a live token stands for, or None (unknown or revoked)."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        found = self._select("k.sha256 = %s", (digest(token),))
        if not found or found[0].revoked_at is not None:
            return None
        key = found[0]
        if key.expired:
            raise KeyExpiredError("the API key has expired; ask for a new one",
                                  field="Authorization")
        self._mark_used(key.key_id)
        principal = Principal(id=key.principal_id, roles=frozenset({key.role}))
        return Caller(key.key_id, principal, key.role, key.timekeeper_id or (
            key.principal_id if key.role == TK else None))

    def _mark_used(self, key_id: UUID) -> None:
        """Record the key's use for this minute, at most once a minute per process."""
        now = time.monotonic()
        with self._marking:
            if now - self._marked.get(key_id, -USE_MARK_SECONDS) < USE_MARK_SECONDS:
                return
            self._marked[key_id] = now
        query = SQL("INSERT INTO {s}.api_key_uses (key_id, used_minute) VALUES"
                    " (%s, date_trunc('minute', clock_timestamp()))"
                    " ON CONFLICT DO NOTHING").format(s=self.s)
        with self.store.location.connect() as conn:
            conn.execute(query, (key_id,))
