"""Sealing and opening the ``confidential`` field of events, per client.

Every event that carries client-identifying text carries it only in
``confidential: dict[str, str]`` (see ``ledger.domain.events``). On the way to
the store each value is replaced by its sealed string (``ledger.crypto.cipher``)
under the client's current data key; on the way back it is opened, or reads as
``[erased]`` once the client's keys are destroyed, so aggregates, read models
and the feed still load. Amounts, dates and ids are never sealed: projections
and ``verify`` need no key.

Whose key: the event's ``client_id`` field when it has one (matters' events),
otherwise the aggregate is the client (``ClientOnboarded``).

How it plugs in: :class:`FieldSealer` is the eventsourcing library's ``Cipher``
hook (``CIPHER_TOPIC``), the one place the library hands its environment (the
database and the firm's schema) to an object the mapper holds. It does not
encrypt whole payloads (that would hide amounts from verification and
reports); ``ledger.codec.TypedMapper`` asks it to seal and open fields instead.
One :class:`Sealing` engine (one key store, one cache) is shared per database
and firm within a process.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment, TopicError, resolve_topic
from psycopg.conninfo import make_conninfo

from ledger.crypto import cipher as c
from ledger.crypto.errors import ClientErasedError, SealedFieldError
from ledger.crypto.kek import KeyEncryptionKey, configured_kek
from ledger.crypto.keystore import ClientKeyStore
from ledger.store.pool import POOL_KEY, budget_named

SEALER_TOPIC = "ledger.crypto.sealing:FieldSealer"
CONFIDENTIAL = "confidential"


def client_of(state: Mapping[str, Any], originator_id: UUID) -> UUID:
    """The client whose key seals this event's confidential values."""
    found = state.get("client_id")
    if found is None:
        return originator_id
    return found if isinstance(found, UUID) else UUID(str(found))


class Sealing:
    """Seals and opens confidential values with one firm's client keys."""

    def __init__(self, keys: ClientKeyStore) -> None:
        self.keys = keys

    def _context(self, originator_id: UUID, version: int, topic: str) -> c.FieldContext:
        return c.FieldContext(self.keys.ledger_id, originator_id, version, topic)

    def seal(self, confidential: Mapping[str, str], *, client_id: UUID, originator_id: UUID,
             originator_version: int, topic: str) -> dict[str, str]:
        key = self.keys.current_key(client_id)
        ctx = self._context(originator_id, originator_version, topic)
        return {name: c.seal(key, ctx, name, value) for name, value in confidential.items()}

    def open(self, confidential: Mapping[str, str], *, originator_id: UUID,
             originator_version: int, topic: str,
             client_id: UUID | None = None) -> dict[str, str]:
        """The plaintext values; ``[erased]`` for a destroyed key. Values that are
        not sealed (a store written without encryption) are returned as they are."""
        out: dict[str, str] = {}
        ctx: c.FieldContext | None = None
        for name, value in confidential.items():
            if not c.is_sealed(value):
                out[name] = value
                continue
            sealed = c.parse(value, name)
            if client_id is not None and sealed.client_id != client_id:
                raise SealedFieldError(
                    f"field {name!r} of {originator_id} v{originator_version} is sealed "
                    "for another client", field=name)
            key = self.keys.key(sealed.client_id, sealed.key_version)
            if key is None:
                out[name] = c.ERASED
                continue
            ctx = ctx or self._context(originator_id, originator_version, topic)
            out[name] = c.open_sealed(key, ctx, name, sealed)
        return out

    def seal_state(self, state: dict[str, Any], originator_id: UUID, version: int,
                   topic: str) -> dict[str, Any]:
        """The event state with its confidential values and sealed text sealed (a new dict)."""
        confidential = state.get(CONFIDENTIAL)
        if confidential:
            sealed = self.seal(confidential, client_id=client_of(state, originator_id),
                               originator_id=originator_id, originator_version=version,
                               topic=topic)
            state = {**state, CONFIDENTIAL: sealed}
        text = {n: state[n] for n in sealed_text(topic) if isinstance(state.get(n), str)}
        if text and state.get("client_id") is not None:
            try:
                text = self.seal(text, client_id=client_of(state, originator_id),
                                 originator_id=originator_id, originator_version=version,
                                 topic=topic)
            except ClientErasedError:
                # The record goes on after erasure (amounts kept on a legal basis); its
                # client-related text is not kept, in clear or otherwise.
                text = dict.fromkeys(text, c.ERASED)
            state = {**state, **text}
        return state

    def open_state(self, state: dict[str, Any], originator_id: UUID, version: int,
                   topic: str) -> None:
        """Open the confidential values and sealed text of a decoded state in place."""
        confidential = state.get(CONFIDENTIAL)
        if confidential:
            state[CONFIDENTIAL] = self.open(
                confidential, originator_id=originator_id, originator_version=version,
                topic=topic, client_id=client_of(state, originator_id))
        text = {n: state[n] for n in sealed_text(topic)
                if isinstance(state.get(n), str) and c.is_sealed(state[n])}
        if text:
            state.update(self.open(text, originator_id=originator_id,
                                   originator_version=version, topic=topic,
                                   client_id=client_of(state, originator_id)))


@functools.cache
def sealed_text(topic: str) -> tuple[str, ...]:
    """Top-level text fields an event class seals like ``confidential`` values
    (its ``SEALED_TEXT``: reasons, references, notes about a client)."""
    try:
        names: tuple[str, ...] = getattr(resolve_topic(topic), "SEALED_TEXT", ())
    except TopicError:  # an unknown topic has nothing to seal
        return ()
    return names


MAX_ENGINES = 8
"""Engines kept per process (least recently used first out, its connection closed):
a server works for one firm or a few; a test run opens hundreds, one after another."""
_ENGINES: OrderedDict[tuple[str, str, str, str], Sealing] = OrderedDict()
_ENGINES_LOCK = threading.Lock()


def firm_of_schema(schema: str) -> str:
    return schema.removeprefix("firm_")


def sealing(conninfo: str, schema: str, events_table: str,
            kek: KeyEncryptionKey | None = None, pool_key: str = "") -> Sealing:
    """The process's sealing engine for one firm's ledger (created on first use).

    With ``pool_key`` naming the process's connection budget, the engine's
    key store borrows from its pool instead of holding a connection of its own.
    """
    ident = (conninfo, schema, events_table, pool_key)
    evicted: list[Sealing] = []
    with _ENGINES_LOCK:
        engine = _ENGINES.get(ident)
        if engine is None:
            keys = ClientKeyStore(conninfo, schema, events_table,
                                  kek or configured_kek(firm_of_schema(schema)),
                                  budget=budget_named(pool_key))
            engine = _ENGINES[ident] = Sealing(keys)
            while len(_ENGINES) > MAX_ENGINES:
                evicted.append(_ENGINES.popitem(last=False)[1])
        else:
            _ENGINES.move_to_end(ident)
    for old in evicted:
        old.keys.close()
    return engine


def sealing_for_store(store: Any) -> Sealing:
    """The engine a ``FirmStore``'s applications use (the same one, so one cache)."""
    budget = store.location.budget
    return sealing(env_conninfo(store.location.eventsourcing_env()), store.schema,
                   store.events_table, pool_key=budget.key if budget is not None else "")


def engines_of(schema: str) -> list[Sealing]:
    with _ENGINES_LOCK:
        return [e for (_, s, _, _), e in _ENGINES.items() if s == schema]


def forget_client(schema: str, client_id: UUID | None = None) -> None:
    """Drop cached keys of a client (or all) from every engine of this firm in the process."""
    for engine in engines_of(schema):
        engine.keys.forget(client_id)


def close_engines() -> None:
    """Close every engine (their connections and caches); the next use reconfigures."""
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        engine.keys.close()


def env_conninfo(env: Mapping[str, str]) -> str:
    return make_conninfo(
        host=env.get("POSTGRES_HOST", "127.0.0.1"), port=env.get("POSTGRES_PORT", "5432"),
        dbname=env.get("POSTGRES_DBNAME", "postgres"), user=env.get("POSTGRES_USER", "postgres"),
        password=env.get("POSTGRES_PASSWORD", ""), connect_timeout="10")


class FieldSealer(Cipher):
    """The library's cipher slot, holding this firm's :class:`Sealing` engine."""

    def __init__(self, environment: Environment) -> None:
        self._ident = (env_conninfo(environment), environment.get("POSTGRES_SCHEMA") or "public",
                       environment.get("EVENTS_TABLE") or "events")
        self._pool_key = environment.get(POOL_KEY) or ""
        sealing(*self._ident, pool_key=self._pool_key)  # fail early on a missing/bad KEK

    @property
    def engine(self) -> Sealing:
        """Looked up on each use, so a closed or evicted engine is never used again."""
        return sealing(*self._ident, pool_key=self._pool_key)

    def encrypt(self, plaintext: bytes) -> bytes:
        raise TypeError("FieldSealer seals confidential fields, not whole payloads")

    def decrypt(self, ciphertext: bytes) -> bytes:
        raise TypeError("FieldSealer opens confidential fields, not whole payloads")
