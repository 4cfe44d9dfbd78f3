"""Webhook signatures: HMAC-SHA256 over ``timestamp.body``, per-endpoint secret.

Header sent with every delivery::

    Ledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}." + body)>

Why the timestamp is signed too: a captured request cannot be replayed later
than the receiver's tolerance (300 s by default), and the body cannot be
swapped under a valid signature. ``verify_signature`` is the exact snippet
documented for receivers in this package's README (a test checks they agree).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Ledger-Signature"
TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    """A fresh endpoint secret (shown once, at registration)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str,
                     tolerance: int = TOLERANCE_SECONDS) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))
