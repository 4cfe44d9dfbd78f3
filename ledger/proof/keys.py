"""Ed25519 key files: the firm's checkpoint key and auditors' cosigning keys.

Why files and not the database: a key kept next to the log it vouches for would
let whoever rewrites the log re-sign it. The firm's key lives in
``<LEDGER_DATA_DIR>/keys/<firm>-ed25519.pem`` (or ``LEDGER_SIGNING_KEY_FILE``),
an unencrypted PKCS#8 PEM created on first use with mode 0600 in a 0700 folder;
a key file readable by group or others is refused, as ssh does.

Trust (which keys a verifier accepts) is defined by ``ledger.proof.standalone``
so that the independent verifier and the ledger read the same flags and files
the same way; ``given_trust`` turns its errors into this module's.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ledger.errors import LedgerError
from ledger.proof import standalone
from ledger.settings import Settings

SIGNING_KEY_ENV = "LEDGER_SIGNING_KEY_FILE"


class SigningKeyError(LedgerError):
    """A key file that is missing, unreadable, not Ed25519 or too widely readable."""

    type = "signing-key-invalid"


class KeyNotPinnedError(LedgerError):
    """A proof to check, but no key to trust: a file's own key never vouches for it."""

    type = "key-not-pinned"


def firm_key_path(settings: Settings, firm: str) -> Path:
    """Where the firm's signing key is: ``LEDGER_SIGNING_KEY_FILE`` or the data folder."""
    override = os.environ.get(SIGNING_KEY_ENV)
    if override:
        return Path(override).expanduser()
    return settings.data_dir.expanduser() / "keys" / f"{firm}-ed25519.pem"


def generate_key_file(path: Path) -> Ed25519PrivateKey:
    """Write a new Ed25519 key to ``path`` (mode 0600); refuse to overwrite one."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise SigningKeyError(f"{path} exists already; not overwriting a key",
                              field="out") from None
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


def load_key_file(path: Path) -> Ed25519PrivateKey:
    """Read an Ed25519 private key from a PEM file that only its owner can read."""
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read the key file {path}: {exc.strerror}",
                              field="key") from None
    if os.name == "posix" and stat.S_IMODE(mode) & 0o077:
        raise SigningKeyError(
            f"the key file {path} is readable by others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}", field="key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key",
                              field="key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key",
                              field="key")
    return key


def firm_key(settings: Settings, firm: str, *, create: bool = True) -> Ed25519PrivateKey | None:
    """The firm's signing key, generated on first use when ``create`` is set."""
    path = firm_key_path(settings, firm)
    if path.exists():
        return load_key_file(path)
    if not create:
        return None
    try:
        return generate_key_file(path)
    except SigningKeyError:  # another process created it meanwhile
        return load_key_file(path)


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The raw 32-byte public key (RFC 8032 encoding)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_fingerprint(public_key: bytes) -> str:
    """SHA-256 of the raw 32-byte public key, 64 hex digits: what ``--key-fingerprint`` takes."""
    return standalone.fingerprint(public_key).hex()


def given_trust(public_keys: list[str] | None, trusted_keys: str | None,
                fingerprints: list[str] | None) -> standalone.Trust | None:
    """The keys pinned with ``--public-key``, ``--trusted-keys`` and ``--key-fingerprint``."""
    try:
        return standalone.trust_from(public_keys or [],
                                     Path(trusted_keys).expanduser() if trusted_keys else None,
                                     fingerprints or [])
    except ValueError as exc:
        raise SigningKeyError(str(exc), field="public_key") from None
