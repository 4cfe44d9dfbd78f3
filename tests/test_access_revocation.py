"""Authorization re-checked while a connection lives (SSE streams and webhooks).

A client's portal follows the stream (or a webhook delivers as its key); its
grant is revoked, expires, or its key is revoked; events recorded after that
moment must never reach it, which is asserted by position. The stream ends
with ``event: access-revoked``; the webhook endpoint is paused with a reason.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from ledger.api.keys import KeyStore
from ledger.store.firm import FirmStore
from ledger.subscribers.webhooks import WebhookStore
from tests.support.access import (
    Clock,
    Stream,
    deliver_all,
    read_stream,
    received,
)
from tests.support.api import Api, grant, seed
from tests.support.subscribers import Receiver, wait_until

HOW = ["grant-revoked", "grant-expired", "key-revoked"]


def pay(api: Api, n: int = 1) -> list[int]:
    """Record ``n`` payments from client c1 (a client sees payments in full); the positions
    recorded (the payment and the firm's command record, a withheld stub to the client)."""
    first = api.store.head().position + 1
    for _ in range(n):
        api.ok("admin", "/v1/payments", {
            "client_id": api.ids["c1"], "amount_minor": 100, "currency": "USD",
            "method": "wire", "reference": "W-9", "received_on": "2024-03-01"})
    return list(range(first, api.store.head().position + 1))


def portal(api: Api, clock: Clock, how: str) -> tuple[str, Any]:
    """A client key with a grant on c1; returns the grant id and a function that takes
    access away the way ``how`` says (the grant's expiry is tomorrow, on ``clock``)."""
    seed(api)
    api.key("portal", "client")
    tomorrow = clock.day + timedelta(days=1)
    grant_id = grant(api, "portal", "client", api.ids["c1"],
                     expires_on=str(tomorrow) if how == "grant-expired" else None)

    def take_away() -> None:
        if how == "grant-revoked":
            api.ok("admin", f"/v1/access-grants/{grant_id}/revoke",
                   {"principal_id": "portal", "reason": "engagement ended"})
        elif how == "grant-expired":
            clock.day = tomorrow
        else:
            keys = KeyStore(api.store)
            keys.revoke(next(k.key_id for k in keys.list() if k.principal_id == "portal"),
                        revoked_by="test")

    return grant_id, take_away


@pytest.mark.parametrize("how", HOW)
def test_an_open_stream_sends_nothing_recorded_after_access_went(
        api: Api, server: str, clock: Clock, how: str) -> None:
    _, take_away = portal(api, clock, how)
    stream = Stream()
    reader = threading.Thread(target=read_stream, args=(server, api.tokens["portal"], stream),
                              kwargs={"after": api.store.head().position, "seconds": 30})
    reader.start()
    time.sleep(0.5)  # the stream is open and live
    before = pay(api)
    assert wait_until(lambda: [e.position for e in stream.events] == before, timeout=10)

    take_away()
    cut = api.store.head().position  # everything after this committed after the revocation
    after = pay(api, 3)
    reader.join(timeout=20)
    assert not reader.is_alive()
    assert stream.revoked and stream.closed
    assert all(e.position <= cut for e in stream.events), [e.position for e in stream.events]
    assert min(after) > cut


@pytest.mark.parametrize("how", HOW)
def test_a_webhook_delivering_as_a_key_is_paused_when_access_went(
        api: Api, receiver: Receiver, firm_store: FirmStore, clock: Clock, how: str) -> None:
    _, take_away = portal(api, clock, how)
    key_id = next(k.key_id for k in KeyStore(firm_store).list() if k.principal_id == "portal")
    hook = api.post("admin", "/v1/webhooks", {"url": receiver.url, "scope": ["firm"],
                                              "key_id": str(key_id)})
    assert hook.status_code == 201, hook.text
    endpoint = hook.json()
    assert endpoint["scope"] == f"client:{api.ids['c1']}" and endpoint["key_id"] == str(key_id)
    before = pay(api)
    deliver_all(firm_store, endpoint["id"], clock)
    delivered = [e.position for e in received(receiver)]
    assert delivered and set(delivered) <= set(before)

    take_away()
    cut = api.store.head().position
    pay(api, 3)
    deliver_all(firm_store, endpoint["id"], clock)
    assert [e.position for e in received(receiver)] == delivered
    assert all(e.position <= cut for e in received(receiver))
    paused = WebhookStore(firm_store).get(endpoint["id"])
    assert paused.status == "disabled"
    assert paused.disabled_reason and paused.disabled_reason.startswith("access revoked")


def test_a_stream_keeps_going_while_access_holds(api: Api, server: str, clock: Clock) -> None:
    """The re-check is not a timeout: with the grant in force the stream stays open."""
    portal(api, clock, "grant-expired")  # expires tomorrow: in force today
    stream = Stream()
    reader = threading.Thread(target=read_stream, args=(server, api.tokens["portal"], stream),
                              kwargs={"after": api.store.head().position, "seconds": 3.5})
    reader.start()
    time.sleep(0.5)
    first = pay(api)
    time.sleep(1.5)  # more than one re-check later
    second = pay(api)
    reader.join(timeout=20)
    assert not stream.revoked
    assert [e.position for e in stream.events] == first + second
