"""The idempotency fingerprint of a command: made when it is recorded, compared on a repeat.

The format and the secrets are ``ledger.crypto.fingerprint``'s; this module decides
*which* secret a command's record is made with and compares a repeat against it:

* a command whose changed aggregates belong to exactly one client, and that client
  still has a data key, is fingerprinted under that client's secret (gone with the
  key on erasure);
* anything else (firm set-up, timekeepers, access grants, trust postings spanning
  clients, commands on an already erased client, and erasure itself, so that a
  repeat of ``ledger clients erase`` still returns its first result) under the
  firm's secret, derived from the KEK;
* a store without a key store (the in-memory one of the unit tests) keeps the old
  unkeyed SHA-256: nothing of it outlives the process.

A repeat is compared under the secret its record names, so a repeat carrying
another client's payload never matches; a secret that no longer exists (the
client was erased, the KEK was rotated) cannot confirm a repeat: the key is
refused (409 ``idempotency-conflict``) instead of guessed at.
"""

from __future__ import annotations

import hmac
from typing import Any
from uuid import UUID

import msgspec

from commands import models as m
from commands.decision import Decision
from commands.errors import IdempotencyConflictError
from ledger.crypto import fingerprint as fp
from ledger.crypto.errors import ClientErasedError, KeyEncryptionKeyError
from ledger.crypto.keystore import ClientKeyStore
from ledger.domain.client import Client

_canonical = msgspec.json.Encoder(order="sorted")


def message(name: str, command: m.Command) -> bytes:
    """What is fingerprinted: the command's name and payload, without its idempotency key."""
    payload = command.model_dump(mode="json", exclude={"idempotency_key"})
    return name.encode() + b"\n" + _canonical.encode(payload)


def client_of(decision: Decision) -> UUID | None:
    """The one client whose aggregates this decision changes, if there is exactly one."""
    if decision.firm_keyed:
        return None
    found: set[UUID] = set()
    for aggregate in decision.aggregates:
        if not aggregate.pending_events:
            continue
        owner: Any = aggregate.id if isinstance(aggregate, Client) else getattr(
            aggregate, "client_id", None)
        if isinstance(owner, UUID):
            found.add(owner)
    return found.pop() if len(found) == 1 else None


class Fingerprints:
    """Makes and checks fingerprints with one firm's keys (``None``: unkeyed store)."""

    def __init__(self, keys: ClientKeyStore | None) -> None:
        self.keys = keys

    def _firm_secret(self) -> tuple[str, bytes]:
        assert self.keys is not None
        derive = getattr(self.keys.kek, "derive_secret", None)
        if derive is None:
            raise KeyEncryptionKeyError(
                "the configured key-encryption key provider cannot derive secrets "
                "(derive_secret): command fingerprints need it")
        secret: bytes = derive(fp.firm_info(self.keys.ledger_id))
        return self.keys.kek.kek_id, secret

    def make(self, name: str, command: m.Command, client_id: UUID | None) -> str:
        msg = message(name, command)
        if self.keys is None:
            return fp.sha256(msg)
        if client_id is not None:
            try:
                key = self.keys.current_key(client_id)
            except ClientErasedError:
                pass  # the financial record goes on after erasure: keyed by the firm
            else:
                return str(fp.StoredFingerprint(
                    "client", fp.mac(key.fingerprint_key, msg), client_id=client_id,
                    key_version=key.version))
        kek_id, secret = self._firm_secret()
        return str(fp.StoredFingerprint("firm", fp.mac(secret, msg), kek_id=kek_id))

    def matches(self, stored: str, name: str, command: m.Command) -> bool:
        """Whether ``command`` is the one recorded with ``stored``; refuses when the
        secret that made it is gone (nothing can tell a repeat from a reuse then)."""
        msg = message(name, command)
        parsed = fp.parse(stored)
        if parsed.scheme == "sha256":
            return hmac.compare_digest(parsed.digest, fp.sha256(msg))
        if self.keys is None:
            return False
        if parsed.scheme == "client":
            assert parsed.client_id is not None
            key = self.keys.key(parsed.client_id, parsed.key_version)
            if key is None:
                raise IdempotencyConflictError(
                    "the command first recorded with this idempotency key belongs to an "
                    "erased client: a repeat cannot be confirmed; use a new key",
                    field="idempotency_key")
            return hmac.compare_digest(parsed.digest, fp.mac(key.fingerprint_key, msg))
        kek_id, secret = self._firm_secret()
        if kek_id != parsed.kek_id:
            raise IdempotencyConflictError(
                "this idempotency key was recorded under an earlier key-encryption key: "
                "a repeat cannot be confirmed; use a new key", field="idempotency_key")
        return hmac.compare_digest(parsed.digest, fp.mac(secret, msg))
