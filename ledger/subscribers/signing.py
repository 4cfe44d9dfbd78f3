"""Webhook signatures: HMAC-SHA256 over the version, timestamp, event id and body.

Header sent with every delivery::

    Ledger-Signature: t=<unix seconds>,v2=<hex HMAC-SHA256(secret, signed)>
    signed = "v2." + t + "." + event_id + "." + raw body      (bytes, UTF-8)

where ``event_id`` is the ``Ledger-Event-Id`` header, ``<ledger id>:<position>``.

Why each part is signed:

* the timestamp: a captured request cannot be replayed later than the
  receiver's tolerance (300 s by default);
* the event id: receivers de-duplicate on it, and it is the only place the
  ledger id travels, so an unsigned one could be swapped to make a receiver
  drop a real event as a duplicate, or file it under another ledger;
* the version tag, inside the signed bytes and as the header key: a receiver
  knows which layout it is checking, and a future layout cannot be confused
  with this one. (``v1`` signed only ``t.body``; it is no longer sent.)

``verify_signature`` is the exact snippet documented for receivers in this
package's README (a test checks they agree).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Ledger-Signature"
EVENT_ID_HEADER = "Ledger-Event-Id"
VERSION = "v2"
TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    """A fresh endpoint secret (shown once, at registration)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def event_id(ledger_id: str, position: int) -> str:
    """The ``Ledger-Event-Id`` of an event: ``<ledger id>:<position>``."""
    return f"{ledger_id}:{position}"


def signed_bytes(timestamp: int, event_id: str, body: bytes) -> bytes:
    """Exactly what the ``v2`` signature covers."""
    return f"{VERSION}.{timestamp}.{event_id}.".encode() + body


def signature_header(secret: str, body: bytes, event_id: str,
                     timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), signed_bytes(t, event_id, body), hashlib.sha256)
    return f"t={t},{VERSION}={mac.hexdigest()}"


def verify_signature(secret: str, body: bytes, header: str, event_id: str,
                     tolerance: int = TOLERANCE_SECONDS) -> bool:
    """True when ``header`` signs ``event_id`` and ``body`` with ``secret`` in time."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        t = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > tolerance:
        return False
    signed = f"v2.{t}.{event_id}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v2", ""))
