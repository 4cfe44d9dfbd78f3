"""Keyed command fingerprints: what the idempotency check compares, and how it is stored.

Why keyed: a command record keeps a fingerprint of the command's payload so a
repeat of an idempotency key with a *different* payload is refused. A plain
SHA-256 of the payload is a guessing oracle: hashing a guess ("Northwind",
"Reviewed ... clause 1") and comparing it with the stored value confirms the
guess, and keeps doing so after the client is erased. An HMAC under a secret
that is not in the database confirms nothing to whoever holds only the rows.

Which secret (HKDF-SHA256, no salt, 32 bytes; the ``info`` strings below keep
every use of a key separate from the others):

* client-scoped commands: ``HKDF(data key, CLIENT_INFO ‖ client id (16 bytes) ‖
  key version (int64, big-endian))`` under the client's data key
  (``ledger.crypto.keystore``), derived when the key is unwrapped and held only
  in memory with it. Erasure destroys the data key and with it the secret: the
  stored fingerprint can no longer be recomputed by anyone.
* every other command (and those of an already erased client): the firm's
  secret, ``HKDF(KEK, FIRM_INFO ‖ ledger id (16 bytes))``, held like the KEK (never
  in the database); it changes when the KEK is rotated.

Stored forms (the record's ``payload_sha256`` field, name kept for old readers):

* ``hmac-sha256:v1:client:<client uuid>:<key version>:<64 hex>``
* ``hmac-sha256:v1:firm:<kek id>:<64 hex>``
* ``<64 hex>``: the old unkeyed SHA-256 of ledgers written before v1, still
  compared correctly (and listed by ``ledger audit exposure``).

The message is the same in every form: ``command name ‖ "\\n" ‖ canonical JSON of
the payload without its idempotency key`` (keys sorted).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal
from uuid import UUID

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.crypto.errors import UnknownFingerprintError

PREFIX = "hmac-sha256:v1:"
CLIENT_INFO = b"legal-ledger/command-fingerprint/client/v1"
FIRM_INFO = b"legal-ledger/command-fingerprint/firm/v1"
SECRET_BYTES = 32
_LEGACY = re.compile(r"^[0-9a-f]{64}$")

Scheme = Literal["sha256", "client", "firm"]


def derive(key: bytes, info: bytes) -> bytes:
    """A 32-byte secret for one use (``info``) of ``key``."""
    return HKDF(algorithm=hashes.SHA256(), length=SECRET_BYTES, salt=None,
                info=info).derive(key)


def client_info(client_id: UUID, version: int) -> bytes:
    return CLIENT_INFO + client_id.bytes + version.to_bytes(8, "big", signed=True)


def firm_info(ledger_id: UUID) -> bytes:
    return FIRM_INFO + ledger_id.bytes


def mac(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, "sha256").hexdigest()


def sha256(message: bytes) -> str:
    """The old, unkeyed form (still written by the in-memory store, which has no keys)."""
    return hashlib.sha256(message).hexdigest()


@dataclass(frozen=True)
class StoredFingerprint:
    """A stored fingerprint, parsed: which secret made it, and the digest."""

    scheme: Scheme
    digest: str
    client_id: UUID | None = None
    key_version: int = 0
    kek_id: str = ""

    def __str__(self) -> str:
        if self.scheme == "client":
            return f"{PREFIX}client:{self.client_id}:{self.key_version}:{self.digest}"
        if self.scheme == "firm":
            return f"{PREFIX}firm:{self.kek_id}:{self.digest}"
        return self.digest


def parse(value: str) -> StoredFingerprint:
    if _LEGACY.match(value):
        return StoredFingerprint("sha256", value)
    if value.startswith(PREFIX):
        parts = value[len(PREFIX):].split(":")
        try:
            if parts[0] == "client" and len(parts) == 4:
                return StoredFingerprint("client", parts[3], client_id=UUID(parts[1]),
                                         key_version=int(parts[2]))
            if parts[0] == "firm" and len(parts) == 3:
                return StoredFingerprint("firm", parts[2], kek_id=parts[1])
        except ValueError:
            pass
    raise UnknownFingerprintError("a command record's fingerprint is in an unknown form",
                                  field="idempotency_key")


def is_keyed(value: str) -> bool:
    """False for the old unkeyed SHA-256 form (a guessing oracle)."""
    return value.startswith(PREFIX)
