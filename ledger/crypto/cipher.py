"""AES-256-GCM sealing of one confidential field, and the wrapping of data keys.

Sealed value (a string, so ``confidential`` stays a ``dict[str, str]``)::

    enc:v1:<client id>:<key version>:<base64(nonce[12] ‖ ciphertext ‖ tag[16])>

Associated data, with ``lp(x)`` = uint32 big-endian length ‖ x and
``int64(n)`` = 8-byte big-endian::

    lp(b"legal-ledger/field/v1") ‖ ledger_id[16] ‖ originator_id[16]
    ‖ int64(originator_version) ‖ lp(topic) ‖ client_id[16] ‖ int64(key_version)
    ‖ lp(field name)

Why these and not the position: the position is assigned by the database
inside the append function, after the payload is sealed, so the writer cannot
bind it. Everything bound here is known at seal time and never changes. The
position is covered by the hash chain instead: a sealed field copied into
another row meets that row's associated data (another originator, version,
topic or field) and fails to open; a whole row moved to another position
breaks the chain, which ``verify`` reports without any key.

The nonce is synthetic: the first 12 bytes of HMAC-SHA256 over the associated
data and the plaintext, under a subkey derived from the data key. The
associated data is unique per (event, field), so a nonce never repeats for two
different plaintexts under one key, and the same event always seals to the
same bytes (the design's "same event, same bytes").

Data keys are wrapped (AES-256-GCM under the key-encryption key, random nonce)
with associated data ``lp(b"legal-ledger/data-key/v1") ‖ ledger_id ‖
client_id ‖ int64(key_version)``, so a wrapped key cannot be swapped onto
another client, version or ledger.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.crypto import fingerprint
from ledger.crypto.errors import SealedFieldError

PREFIX = "enc:v1:"
ERASED = "[erased]"
"""What a field reads as once its client's data key is destroyed."""
KEY_BYTES = 32
NONCE_BYTES = 12
FIELD_TAG = b"legal-ledger/field/v1"
DATA_KEY_TAG = b"legal-ledger/data-key/v1"
NONCE_KEY_TAG = b"legal-ledger/nonce-key/v1"


def lp(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


_FIELD_TAG_LP = lp(FIELD_TAG)
_INT64 = struct.Struct(">q")


@lru_cache(maxsize=4096)
def _client_uuid(text: str) -> UUID:
    """Client ids repeat across a ledger's sealed values: parse each one once."""
    return UUID(text)


@lru_cache(maxsize=4096)
def _aad_suffix(client_id: UUID, key_version: int, name: str) -> bytes:
    return client_id.bytes + _INT64.pack(key_version) + lp(name.encode())


def int64(n: int) -> bytes:
    return struct.pack(">q", n)


@dataclass(frozen=True)
class DataKey:
    """One version of one client's data key, unwrapped (kept only in memory)."""

    client_id: UUID
    version: int
    aead: AESGCM = field(repr=False)
    nonce_key: bytes = field(repr=False)
    fingerprint_key: bytes = field(repr=False)
    """The secret of this client's command fingerprints (``ledger.crypto.fingerprint``):
    derived from the key, so it is gone when the key is destroyed."""

    @classmethod
    def from_bytes(cls, client_id: UUID, version: int, key: bytes) -> DataKey:
        if len(key) != KEY_BYTES:
            raise SealedFieldError("a data key is 32 bytes")
        nonce_key = hmac.digest(key, NONCE_KEY_TAG, "sha256")
        secret = fingerprint.derive(key, fingerprint.client_info(client_id, version))
        return cls(client_id, version, AESGCM(key), nonce_key, secret)


class FieldContext:
    """What a sealed field is bound to (see the module docstring); the event's part
    of the associated data is built once for all its fields."""

    __slots__ = ("originator_id", "originator_version", "prefix", "topic")

    def __init__(self, ledger_id: UUID, originator_id: UUID, originator_version: int,
                 topic: str) -> None:
        self.originator_id = originator_id
        self.originator_version = originator_version
        self.topic = topic
        self.prefix = b"".join((_FIELD_TAG_LP, ledger_id.bytes, originator_id.bytes,
                                _INT64.pack(originator_version), lp(topic.encode())))

    def aad(self, client_id: UUID, key_version: int, name: str) -> bytes:
        return self.prefix + _aad_suffix(client_id, key_version, name)


class SealedValue(NamedTuple):
    """A parsed sealed value: which key, and the sealed bytes."""

    client_id: UUID
    key_version: int
    blob: bytes


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def parse(value: str, name: str) -> SealedValue:
    try:
        client, version, b64 = value[len(PREFIX):].split(":", 2)
        blob = base64.b64decode(b64, validate=True)
        parsed = SealedValue(_client_uuid(client), int(version), blob)
    except (ValueError, binascii.Error):
        raise SealedFieldError(f"field {name!r} is not a well-formed sealed value",
                               field=name) from None
    if len(parsed.blob) < NONCE_BYTES + 16:
        raise SealedFieldError(f"field {name!r} is too short to be sealed", field=name)
    return parsed


def seal(key: DataKey, ctx: FieldContext, name: str, plaintext: str) -> str:
    aad = ctx.aad(key.client_id, key.version, name)
    data = plaintext.encode()
    nonce = hmac.digest(key.nonce_key, aad + lp(data), "sha256")[:NONCE_BYTES]
    blob = nonce + key.aead.encrypt(nonce, data, aad)
    return f"{PREFIX}{key.client_id}:{key.version}:{base64.b64encode(blob).decode()}"


def open_sealed(key: DataKey, ctx: FieldContext, name: str, sealed: SealedValue) -> str:
    aad = ctx.aad(sealed.client_id, sealed.key_version, name)
    nonce, body = sealed.blob[:NONCE_BYTES], sealed.blob[NONCE_BYTES:]
    try:
        return key.aead.decrypt(nonce, body, aad).decode()
    except (InvalidTag, UnicodeDecodeError):
        raise SealedFieldError(
            f"field {name!r} of {ctx.topic.rpartition(':')[2]} {ctx.originator_id} "
            f"v{ctx.originator_version} does not open: it was altered or sealed for "
            "another event", field=name) from None


def data_key_aad(ledger_id: UUID, client_id: UUID, version: int) -> bytes:
    return lp(DATA_KEY_TAG) + ledger_id.bytes + client_id.bytes + int64(version)
