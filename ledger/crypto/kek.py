"""Key-encryption keys: what wraps the per-client data keys.

A KEK is anything with a ``kek_id`` and ``wrap``/``unwrap`` (the
:class:`KeyEncryptionKey` protocol), so a KMS or HSM can replace the local key
later without touching the key store: name a factory ``module:attr`` taking the
firm's name in ``LEDGER_KEK_PROVIDER``.

The local key is 32 random bytes, configured (first match wins) by

1. ``LEDGER_KEK``: base64 of the 32 bytes;
2. ``LEDGER_KEK_FILE``: a file holding that base64 text;
3. otherwise ``<LEDGER_DATA_DIR>/keys/kek-<firm>``, generated (mode 0600) on
   first use so a new user needs nothing configured. Back that file up
   outside the database: without it no confidential field can be read.

The KEK never enters the database; data keys are stored only wrapped.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.utils import resolve_topic

from ledger.crypto import fingerprint
from ledger.crypto.cipher import KEY_BYTES, NONCE_BYTES
from ledger.crypto.errors import KeyEncryptionKeyError
from ledger.settings import Settings


class KeyEncryptionKey(Protocol):
    """Wraps and unwraps data keys; ``kek_id`` tells which KEK wrapped a key."""

    @property
    def kek_id(self) -> str: ...

    def wrap(self, key: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes: ...


class DerivesSecrets(Protocol):
    """A KEK that can derive a secret for another use (a KMS provider implements this
    with a key of its own, e.g. an HMAC key; the firm's fingerprints need it)."""

    def derive_secret(self, info: bytes) -> bytes: ...


class LocalKek:
    """A 32-byte AES-256-GCM key held by this process (from the environment or a file)."""

    def __init__(self, key: bytes, source: str) -> None:
        if len(key) != KEY_BYTES:
            raise KeyEncryptionKeyError(f"the key-encryption key from {source} is not 32 bytes")
        self._aead = AESGCM(key)
        self._key = key
        self.source = source
        self._id = hashlib.sha256(b"legal-ledger/kek-id/v1" + key).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"LocalKek(kek_id={self._id!r}, source={self.source!r})"

    @property
    def kek_id(self) -> str:
        return self._id

    def derive_secret(self, info: bytes) -> bytes:
        """A secret derived from the KEK for one use (HKDF-SHA256 with ``info``): the
        firm's command-fingerprint secret (``ledger.crypto.fingerprint``)."""
        return fingerprint.derive(self._key, info)

    def wrap(self, key: bytes, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, key, aad)

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
        except InvalidTag:
            raise KeyEncryptionKeyError(
                f"a data key does not unwrap with the key-encryption key {self._id}"
            ) from None


def decode_kek(text: str, source: str) -> LocalKek:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (ValueError, binascii.Error):
        raise KeyEncryptionKeyError(f"{source} is not base64 of 32 bytes") from None
    return LocalKek(key, source)


def read_kek_file(path: Path) -> LocalKek:
    try:
        text = path.read_text()
    except OSError as exc:
        raise KeyEncryptionKeyError(
            f"cannot read the key-encryption key file {path} ({type(exc).__name__})"
        ) from None
    return decode_kek(text, str(path))


def write_kek_file(path: Path, key: bytes | None = None) -> LocalKek:
    """Write a new KEK file (mode 0600); refuses to overwrite one."""
    key = key if key is not None else secrets.token_bytes(KEY_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyEncryptionKeyError(f"{path} exists: refusing to overwrite a key") from None
    with os.fdopen(fd, "w") as out:
        out.write(base64.b64encode(key).decode() + "\n")
    return LocalKek(key, str(path))


def default_kek_path(firm: str, settings: Settings | None = None) -> Path:
    return (settings or Settings()).data_dir / "keys" / f"kek-{firm}"


def configured_kek(firm: str) -> KeyEncryptionKey:
    """The firm's KEK as configured (see the module docstring)."""
    provider = os.environ.get("LEDGER_KEK_PROVIDER")
    if provider:
        kek: KeyEncryptionKey = resolve_topic(provider)(firm)
        return kek
    if os.environ.get("LEDGER_KEK"):
        return decode_kek(os.environ["LEDGER_KEK"], "LEDGER_KEK")
    if os.environ.get("LEDGER_KEK_FILE"):
        return read_kek_file(Path(os.environ["LEDGER_KEK_FILE"]))
    path = default_kek_path(firm)
    if not path.exists():
        try:
            return write_kek_file(path)
        except KeyEncryptionKeyError:
            pass  # another process created it first
    return read_kek_file(path)
