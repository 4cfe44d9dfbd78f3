"""POSTs to one webhook endpoint over one kept-alive HTTP connection.

A delivery task sends up to a batch of events to one endpoint, one request per
event, in order. Opening a TCP (and TLS) connection per event cost more than
the request itself; one connection per task, reused while the receiver keeps it
open, removes that. Redirects are never followed: a 3xx is a failed delivery,
so a signed body is never re-posted to another address.
"""

from __future__ import annotations

import http.client
import ssl
from urllib.parse import urlsplit

Outcome = tuple[int | None, str | None]
"""(status code or None, error or None); the error is None only for a 2xx."""

# The receiver closed a kept-alive connection before our request reached it.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Poster:
    """One endpoint's connection; ``post`` re-opens it when the receiver closed it."""

    def __init__(self, url: str, timeout: float) -> None:
        split = urlsplit(url)
        assert split.scheme in ("http", "https") and split.hostname, "validated at registration"
        self.https = split.scheme == "https"
        self.host, self.port = split.hostname, split.port
        self.target = (split.path or "/") + (f"?{split.query}" if split.query else "")
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def post(self, body: bytes, headers: dict[str, str]) -> Outcome:
        """POST once (a second try only if a reused connection had gone stale)."""
        for fresh in (self._conn is None, True):
            if self._conn is None:
                self._conn = self._open()
            try:
                self._conn.request("POST", self.target, body=body, headers=headers)
                response = self._conn.getresponse()
                response.read()
            except _STALE as exc:
                self.close()
                if fresh:
                    return None, type(exc).__name__
                continue
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                return None, type(exc).__name__
            if response.will_close:
                self.close()
            status = int(response.status)
            return status, None if 200 <= status < 300 else f"HTTP {status}"
        raise AssertionError("unreachable: the second try is always on a fresh connection")

    def __enter__(self) -> Poster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
