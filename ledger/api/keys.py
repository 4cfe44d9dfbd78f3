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
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from psycopg.sql import SQL, Identifier
from psycopg_pool import ConnectionPool

from commands.auth import Principal, RoleName
from ledger.domain.roles import ROLES, TK
from ledger.errors import LedgerError
from ledger.store.firm import FirmStore

TOKEN_PREFIX = "llk_"  # noqa: S105 - a prefix that makes leaked keys greppable


class UnknownKeyError(LedgerError):
    type = "unknown-api-key"


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

    def as_dict(self) -> dict[str, Any]:
        return {"key_id": str(self.key_id), "principal_id": self.principal_id,
                "role": self.role, "timekeeper_id": self.timekeeper_id,
                "created_at": self.created_at.isoformat(), "created_by": self.created_by,
                "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None}


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
        self._pool: ConnectionPool[Any] | None = None

    def open_pool(self, size: int = 4) -> None:
        """Keep connections for the per-request lookup (a fresh one costs ~10 ms)."""
        self._pool = ConnectionPool(self.store.location.url, min_size=1, max_size=size,
                                    kwargs={"autocommit": True}, open=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

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
            for table in ("api_keys", "api_key_revocations"):
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
               timekeeper_id: str | None = None) -> tuple[str, ApiKey]:
        """A new key; the token is returned here and nowhere else, ever."""
        if role not in ROLES:
            raise LedgerError(f"role must be one of {', '.join(ROLES)}", field="role")
        Principal.model_validate({"id": principal_id})  # same id rules as the chain
        token, key_id = new_token(), uuid4()
        with self.store.location.connect() as conn:
            conn.execute(SQL(
                "INSERT INTO {s}.api_keys (key_id, sha256, principal_id, role, timekeeper_id,"
                " created_by) VALUES (%s, %s, %s, %s, %s, %s)").format(s=self.s),
                (key_id, digest(token), principal_id, role, timekeeper_id, created_by))
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
            " k.created_by, r.revoked_at FROM {s}.api_keys k"
            " LEFT JOIN {s}.api_key_revocations r USING (key_id) WHERE " + where +
            " ORDER BY k.created_at, k.key_id").format(s=self.s)
        if self._pool is not None:
            with self._pool.connection() as conn:
                rows = conn.execute(query, params).fetchall()
        else:
            with self.store.location.connect() as conn:
                rows = conn.execute(query, params).fetchall()
        return [ApiKey(*row) for row in rows]

    def get(self, key_id: UUID) -> ApiKey:
        found = self._select("k.key_id = %s", (key_id,))
        if not found:
            raise UnknownKeyError("no such API key", field="key_id")
        return found[0]

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
        principal = Principal(id=key.principal_id, roles=frozenset({key.role}))
        return Caller(key.key_id, principal, key.role, key.timekeeper_id or (
            key.principal_id if key.role == TK else None))
