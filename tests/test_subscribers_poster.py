"""The webhook poster: one kept-alive connection, re-opened when the receiver drops it."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ledger.subscribers.poster import Poster


class KeepAliveReceiver:
    """HTTP/1.1 receiver on 127.0.0.1 that notes each request's client port."""

    def __init__(self, status: int = 204, close_after: int = 0) -> None:
        self.ports: list[int] = []
        self.bodies: list[bytes] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.ports.append(self.client_address[1])
                outer.bodies.append(body)
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
                if close_after and len(outer.bodies) % close_after == 0:
                    self.close_connection = True  # drop it silently, as idle servers do

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?x=1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[KeepAliveReceiver]:
    r = KeepAliveReceiver()
    yield r
    r.close()


def test_one_connection_carries_every_request_of_a_batch(receiver: KeepAliveReceiver) -> None:
    with Poster(receiver.url, timeout=5) as poster:
        outcomes = [poster.post(f"event {n}".encode(), {"X": "y"}) for n in range(5)]
    assert outcomes == [(204, None)] * 5
    assert receiver.bodies == [f"event {n}".encode() for n in range(5)]
    assert len(set(receiver.ports)) == 1


def test_a_connection_dropped_by_the_receiver_is_reopened() -> None:
    r = KeepAliveReceiver(close_after=2)
    try:
        with Poster(r.url, timeout=5) as poster:
            outcomes = [poster.post(b"x", {}) for _ in range(6)]
        assert outcomes == [(204, None)] * 6
        assert len(r.bodies) == 6
        assert len(set(r.ports)) == 3
    finally:
        r.close()


def test_a_redirect_is_a_failed_delivery_and_not_followed() -> None:
    r = KeepAliveReceiver(status=307)
    try:
        with Poster(r.url, timeout=5) as poster:
            assert poster.post(b"x", {}) == (307, "HTTP 307")
        assert len(r.bodies) == 1
    finally:
        r.close()


def test_a_server_error_is_reported_with_its_status() -> None:
    r = KeepAliveReceiver(status=503)
    try:
        with Poster(r.url, timeout=5) as poster:
            assert poster.post(b"x", {}) == (503, "HTTP 503")
    finally:
        r.close()


def test_nobody_listening_is_a_connection_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Poster(f"http://127.0.0.1:{port}/hook", timeout=5) as poster:
        assert poster.post(b"x", {}) == (None, "ConnectionRefusedError")
