"""Refusals of the confidentiality layer.

Messages name the event, the field and the cause, never a plaintext value nor
any key material: they end up in logs and HTTP problem bodies.
"""

from __future__ import annotations

from ledger.errors import LedgerError


class CryptoError(LedgerError):
    """A sealing, opening or key-management step failed."""

    type = "crypto-error"


class SealedFieldError(CryptoError):
    """A sealed field does not open with its key: moved, altered or malformed."""

    type = "sealed-field-invalid"


class KeyEncryptionKeyError(CryptoError):
    """The configured key-encryption key is missing, malformed, or not the one in use."""

    type = "kek-invalid"


class DataKeyNotFoundError(CryptoError):
    """A sealed field names a data key that the key store never held."""

    type = "data-key-not-found"


class ClientErasedError(CryptoError):
    """The client's data keys were destroyed: nothing new can be sealed for it."""

    type = "client-erased"


class UnknownFingerprintError(CryptoError):
    """A command record's fingerprint is in no form this version knows (written by a
    newer version): a repeat cannot be compared, so it is refused."""

    type = "fingerprint-unknown"
