"""Per-client data keys of one firm, stored wrapped in ``<schema>.client_keys``.

Why a table of its own, outside the chain: the event table is append-only,
but erasure must *destroy* a key. A destroyed key is a row whose
``wrapped_key`` is NULL (with ``destroyed_at`` set); a trigger refuses to give
it a key again, so an erased client stays erased. The erasure itself is a
``ClientDataErased`` event in the chain; ``key_log`` records every key
creation, rotation, re-wrap and destruction for the ``ledger keys history``
report. Neither table holds an unwrapped key or any plaintext.

Unwrapped keys are cached in memory per process (bounded LRU, entries expire
after ``ttl`` seconds) so that a key destroyed by another process stops
opening fields here within ``ttl`` at most; a process that destroys a key
drops it from its own caches at once.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
from psycopg.sql import SQL, Composed, Identifier, Literal

from ledger.crypto.cipher import KEY_BYTES, DataKey, data_key_aad
from ledger.crypto.errors import ClientErasedError, DataKeyNotFoundError, KeyEncryptionKeyError

if TYPE_CHECKING:
    from ledger.store.pool import ConnectionBudget
from ledger.crypto.kek import KeyEncryptionKey

CACHE_SIZE = 4096
CACHE_TTL_SECONDS = 30.0


def key_table_statements(schema: str) -> list[Composed]:
    s = Identifier(schema)
    role = Literal(f"{schema}_app")
    return [
        SQL("CREATE TABLE IF NOT EXISTS {s}.client_keys ("
            " client_id uuid NOT NULL, key_version integer NOT NULL CHECK (key_version >= 1),"
            " wrapped_key bytea, kek_id text NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
            " destroyed_at timestamptz,"
            " CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL)),"
            " PRIMARY KEY (client_id, key_version))").format(s=s),
        SQL("CREATE TABLE IF NOT EXISTS {s}.key_log ("
            " id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp(),"
            " action text NOT NULL, client_id uuid, key_version integer, kek_id text,"
            " note text NOT NULL DEFAULT '')").format(s=s),
        SQL("CREATE OR REPLACE FUNCTION {s}.client_keys_stay_destroyed() RETURNS trigger"
            " LANGUAGE plpgsql AS $fn$ BEGIN"
            " IF OLD.destroyed_at IS NOT NULL THEN"
            "  RAISE EXCEPTION 'a destroyed data key cannot be restored' USING ERRCODE = 'LA002';"
            " END IF; RETURN NEW; END $fn$").format(s=s),
        SQL("CREATE OR REPLACE TRIGGER client_keys_stay_destroyed BEFORE UPDATE"
            " ON {s}.client_keys FOR EACH ROW"
            " EXECUTE FUNCTION {s}.client_keys_stay_destroyed()").format(s=s),
        SQL("DO $do$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = {role}) THEN"
            " EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %I.client_keys TO %I', {sn}, {role});"
            " EXECUTE format('GRANT SELECT, INSERT ON %I.key_log TO %I', {sn}, {role});"
            " EXECUTE format('GRANT USAGE ON SEQUENCE %I.key_log_id_seq TO %I', {sn}, {role});"
            " END IF; END $do$").format(role=role, sn=Literal(schema)),
    ]


class ClientKeyStore:
    """Creates, finds, rotates, re-wraps and destroys one firm's client data keys."""

    def __init__(self, conninfo: str, schema: str, events_table: str,
                 kek: KeyEncryptionKey, *, ttl: float = CACHE_TTL_SECONDS,
                 budget: ConnectionBudget | None = None) -> None:
        self._conninfo = conninfo
        self._budget = budget
        self._held: psycopg.Connection[Any] | None = None
        self._holder = 0
        self._tables_made = False
        self.schema = schema
        self.events_table = events_table
        self.kek = kek
        self.ttl = ttl
        self._lock = threading.RLock()
        self._conn: psycopg.Connection[Any] | None = None
        self._keys: OrderedDict[tuple[UUID, int], tuple[float, DataKey | None]] = OrderedDict()
        self._current: dict[UUID, tuple[float, int]] = {}
        self._ledger_id: UUID | None = None
        self._t = SQL("{s}.client_keys").format(s=Identifier(schema))
        self._log = SQL("{s}.key_log").format(s=Identifier(schema))

    # -- plumbing -----------------------------------------------------------------

    @contextlib.contextmanager
    def _borrow(self) -> Iterator[psycopg.Connection[Any]]:
        """One operation's connection, under this store's lock; nested calls share
        it, so a transaction spans them. From the process's pool when there is one
        (held only for the operation), else this store's own connection.

        The pool connection is taken *before* the lock, never while holding it:
        a thread waiting for the pool under the lock, while the pool's holders
        wait for the lock, would deadlock. A thread that already holds a pool
        connection (a feed page opening fields) shares it (``budget.shared``).
        """
        if self._held is not None and self._holder == threading.get_ident():
            yield self._held
            return
        if self._budget is None:
            with self._lock:
                yield self._connection()
            return
        with self._budget.shared() as conn, self._lock:
            self._held, self._holder = conn, threading.get_ident()
            try:
                if not self._tables_made:
                    with conn.transaction():
                        conn.execute("SELECT pg_advisory_xact_lock(hashtext('legal-ledger ddl'))")
                        for statement in key_table_statements(self.schema):
                            conn.execute(statement)
                    self._tables_made = True
                yield conn
            finally:
                self._held = None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._held is not None:
            return self._held
        if self._conn is None or self._conn.closed or self._conn.broken:
            self._conn = psycopg.connect(self._conninfo, autocommit=True)
            with self._conn.transaction():
                self._conn.execute("SELECT pg_advisory_xact_lock(hashtext('legal-ledger ddl'))")
                for statement in key_table_statements(self.schema):
                    self._conn.execute(statement)
        return self._conn

    def _query(self, query: Composed, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run a read outside any transaction; reconnect once if the server went away."""
        if self._budget is not None:  # the pool replaces broken connections itself
            with self._borrow() as conn:
                return conn.execute(query, params).fetchall()
        try:
            return self._connection().execute(query, params).fetchall()
        except psycopg.OperationalError:
            self.close()
            return self._connection().execute(query, params).fetchall()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @property
    def ledger_id(self) -> UUID:
        if self._ledger_id is not None:
            return self._ledger_id
        with self._borrow():
            if self._ledger_id is None:
                rows = self._query(
                    SQL("SELECT ledger_id FROM {s}.chain_meta WHERE table_name = %s").format(
                        s=Identifier(self.schema)), (self.events_table,))
                if not rows:
                    raise DataKeyNotFoundError("the firm's ledger has no chain yet")
                self._ledger_id = rows[0][0]
            assert self._ledger_id is not None
            return self._ledger_id

    def forget(self, client_id: UUID | None = None) -> None:
        """Drop cached keys (of one client, or all)."""
        with self._lock:
            if client_id is None:
                self._keys.clear()
                self._current.clear()
                return
            self._current.pop(client_id, None)
            for k in [k for k in self._keys if k[0] == client_id]:
                del self._keys[k]

    def _note(self, action: str, client_id: UUID | None, version: int | None,
              note: str = "") -> None:
        with self._borrow() as conn:
            conn.execute(
                SQL("INSERT INTO {l} (action, client_id, key_version, kek_id, note)"
                    " VALUES (%s, %s, %s, %s, %s)").format(l=self._log),
                (action, client_id, version, self.kek.kek_id, note))

    def _check_kek(self, kek_id: str) -> None:
        if kek_id != self.kek.kek_id:
            raise KeyEncryptionKeyError(
                f"data keys are wrapped by key-encryption key {kek_id}, but the configured "
                f"one is {self.kek.kek_id}: configure LEDGER_KEK/LEDGER_KEK_FILE")

    def _unwrap(self, client_id: UUID, version: int, wrapped: bytes, kek_id: str) -> DataKey:
        self._check_kek(kek_id)
        return DataKey.from_bytes(client_id, version, self._raw(client_id, version, wrapped))

    def _insert(self, client_id: UUID, version: int) -> None:
        wrapped = self.kek.wrap(secrets.token_bytes(KEY_BYTES),
                                data_key_aad(self.ledger_id, client_id, version))
        with self._borrow() as conn:
            conn.execute(
                SQL("INSERT INTO {t} (client_id, key_version, wrapped_key, kek_id)"
                    " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING").format(t=self._t),
                (client_id, version, wrapped, self.kek.kek_id))

    # -- keys ---------------------------------------------------------------------

    def key(self, client_id: UUID, version: int) -> DataKey | None:
        """A version of a client's key; None once destroyed."""
        now = time.monotonic()
        with self._lock:  # a cache hit touches no connection
            cached = self._keys.get((client_id, version))
            if cached is not None and cached[0] > now:
                self._keys.move_to_end((client_id, version))
                return cached[1]
        with self._borrow():
            rows = self._query(
                SQL("SELECT wrapped_key, kek_id FROM {t} WHERE client_id = %s"
                    " AND key_version = %s").format(t=self._t), (client_id, version))
            row = rows[0] if rows else None
            if row is None:
                raise DataKeyNotFoundError(
                    f"no data key version {version} for client {client_id}")
            found = None if row[0] is None else self._unwrap(client_id, version,
                                                             bytes(row[0]), row[1])
            self._keys[(client_id, version)] = (now + self.ttl, found)
            while len(self._keys) > CACHE_SIZE:
                self._keys.popitem(last=False)
            return found

    def current_key(self, client_id: UUID) -> DataKey:
        """The key new fields of this client are sealed with (created on first use)."""
        now = time.monotonic()
        with self._lock:  # a cache hit touches no connection
            cached = self._current.get(client_id)
        if cached is None or cached[0] <= now:
            with self._borrow():
                version = self._latest(client_id)
                if version is None:
                    self._insert(client_id, 1)
                    self._note("created", client_id, 1)
                    version = self._latest(client_id)
                assert version is not None
                cached = (now + self.ttl, version)
                self._current[client_id] = cached
        found = self.key(client_id, cached[1])
        if found is None:
            self.forget(client_id)
            raise ClientErasedError(
                f"client {client_id}'s data key was destroyed (erased): nothing new "
                "can be sealed for it", field="client_id")
        return found

    def _latest(self, client_id: UUID, conn: psycopg.Connection[Any] | None = None
                ) -> int | None:
        query = SQL("SELECT max(key_version) FROM {t} WHERE client_id = %s").format(t=self._t)
        rows = (conn.execute(query, (client_id,)).fetchall() if conn is not None
                else self._query(query, (client_id,)))
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def rotate(self, client_id: UUID, note: str = "") -> int:
        """Add a new key version for new events; older versions stay readable."""
        with self._borrow():
            with self._borrow() as conn, conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                             (f"legal-ledger client key {client_id}",))
                latest = self._latest(client_id, conn)
                if latest is not None and self.key(client_id, latest) is None:
                    raise ClientErasedError(
                        f"client {client_id} is erased: its key cannot be rotated",
                        field="client_id")
                version = (latest or 0) + 1
                self._insert(client_id, version)
                self._note("rotated" if latest else "created", client_id, version, note)
            self.forget(client_id)
            return version

    def destroy(self, client_id: UUID, note: str) -> list[int]:
        """Destroy every version of a client's key (idempotent); the versions destroyed."""
        with self._borrow():
            with self._borrow() as conn, conn.transaction():
                rows = conn.execute(
                    SQL("UPDATE {t} SET wrapped_key = NULL, destroyed_at = clock_timestamp()"
                        " WHERE client_id = %s AND destroyed_at IS NULL"
                        " RETURNING key_version").format(t=self._t), (client_id,)).fetchall()
                if self._latest(client_id, conn) is None:  # never had one: block future ones
                    conn.execute(
                        SQL("INSERT INTO {t} (client_id, key_version, wrapped_key, kek_id,"
                            " destroyed_at) VALUES (%s, 1, NULL, %s, clock_timestamp())"
                            " ON CONFLICT DO NOTHING").format(t=self._t),
                        (client_id, self.kek.kek_id))
                versions = sorted(int(r[0]) for r in rows)
                for version in versions:
                    self._note("destroyed", client_id, version, note)
            self.forget(client_id)
            return versions

    def versions(self, client_id: UUID) -> list[int]:
        """The client's key versions that still exist (not destroyed)."""
        with self._borrow() as conn:
            rows = conn.execute(
                SQL("SELECT key_version FROM {t} WHERE client_id = %s AND destroyed_at IS NULL"
                    " ORDER BY key_version").format(t=self._t), (client_id,)).fetchall()
        return [int(r[0]) for r in rows]

    def rewrap_all(self, new_kek: KeyEncryptionKey) -> int:
        """Re-wrap every live data key under a new KEK, in one transaction."""
        with self._borrow():
            with self._borrow() as conn, conn.transaction():
                conn.execute(SQL("LOCK TABLE {t} IN EXCLUSIVE MODE").format(t=self._t))
                rows = conn.execute(
                    SQL("SELECT client_id, key_version, wrapped_key, kek_id FROM {t}"
                        " WHERE wrapped_key IS NOT NULL").format(t=self._t)).fetchall()
                for client_id, version, wrapped, kek_id in rows:
                    self._check_kek(kek_id)
                    raw = self._raw(client_id, version, bytes(wrapped))
                    aad = data_key_aad(self.ledger_id, client_id, version)
                    conn.execute(
                        SQL("UPDATE {t} SET wrapped_key = %s, kek_id = %s WHERE client_id = %s"
                            " AND key_version = %s").format(t=self._t),
                        (new_kek.wrap(raw, aad), new_kek.kek_id, client_id, version))
                old = self.kek.kek_id
                self.kek = new_kek
                self._note("kek-rotated", None, None, f"{len(rows)} data keys re-wrapped "
                           f"from {old} to {new_kek.kek_id}")
            self.forget()
            return len(rows)

    def _raw(self, client_id: UUID, version: int, wrapped: bytes) -> bytes:
        return self.kek.unwrap(wrapped, data_key_aad(self.ledger_id, client_id, version))

    def history(self) -> list[dict[str, Any]]:
        with self._borrow() as conn:
            cur = conn.execute(
                SQL("SELECT id, at, action, client_id, key_version, kek_id, note FROM {l}"
                    " ORDER BY id").format(l=self._log))
            names = [d.name for d in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
