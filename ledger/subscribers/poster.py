"""POSTs to one webhook endpoint over one kept-alive HTTP connection.

A delivery task sends up to a batch of events to one endpoint, one request per
event, in order. Opening a TCP (and TLS) connection per event cost more than
the request itself; one connection per task, reused while the receiver keeps it
open, removes that. Redirects are never followed: a 3xx is a failed delivery,
so a signed body is never re-posted to another address.

Each new connection first resolves the host and checks every address against
the webhook address rules (``addresses``), then connects to the address it
checked, not to the name: a host whose DNS answer turned internal since
registration (DNS rebinding) gets no request, and the answer cannot change
between the check and the connect. TLS still verifies the certificate against
the host name.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from typing import Any

from ledger.subscribers.addresses import (
    AddressRefusedError,
    IPAddress,
    checked_addresses,
    default_port,
    parse_url,
)

Outcome = tuple[int | None, str | None]
"""(status code or None, error or None); the error is None only for a 2xx."""

# The receiver closed a kept-alive connection before our request reached it.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Poster:
    """One endpoint's connection; ``post`` re-opens it when the receiver closed it."""

    def __init__(self, url: str, timeout: float, *, allow_private: bool | None = None) -> None:
        self.split = parse_url(url)
        assert self.split.hostname, "parse_url checked the host"
        self.https = self.split.scheme == "https"
        self.host, self.port = self.split.hostname, default_port(self.split)
        self.target = (self.split.path or "/") + (
            f"?{self.split.query}" if self.split.query else "")
        self.timeout, self.allow_private = timeout, allow_private
        self._conn: http.client.HTTPConnection | None = None

    def _open(self) -> http.client.HTTPConnection:
        """A connection to the checked address (raises ``AddressRefusedError``)."""
        addresses = checked_addresses(self.split, self.allow_private)
        conn: http.client.HTTPConnection
        if self.https:
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        conn._create_connection = _pinned(addresses)  # type: ignore[attr-defined]
        return conn

    def post(self, body: bytes, headers: dict[str, str]) -> Outcome:
        """POST once (a second try only if a reused connection had gone stale)."""
        for fresh in (self._conn is None, True):
            if self._conn is None:
                try:
                    self._conn = self._open()
                except AddressRefusedError:
                    return None, AddressRefusedError.__name__
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


def _pinned(addresses: list[IPAddress]) -> Any:
    """``socket.create_connection`` to the checked addresses (the first that answers),
    whatever host ``http.client`` names."""

    def create_connection(where: tuple[str, int], timeout: Any = None,
                          source_address: Any = None) -> socket.socket:
        error: OSError | None = None
        for address in addresses:
            try:
                return socket.create_connection((str(address), where[1]), timeout,
                                                source_address)
            except OSError as exc:
                error = exc
        assert error is not None, "checked_addresses returns at least one"
        raise error

    return create_connection
