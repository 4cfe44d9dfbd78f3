"""Set-up of the access-policy tests: one event of every billing type, a key per role,
a live server with a clock the test can move, and readers for every surface.

(No tests here.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import httpx

from commands.ledger_app import BillingLedger, ledger_env
from ledger.api.keys import KeyStore
from ledger.api.security import key_authorizer
from ledger.domain.policy import type_name
from ledger.store.firm import FirmStore
from ledger.subscribers import feed
from ledger.subscribers.delivery import DeliveryWorker
from tests.support.api import NARRATIVE, Api, grant, seed
from tests.support.subscribers import Receiver

ROLES = ("firm_admin", "billing_clerk", "timekeeper", "auditor", "client")
INTERNAL = "internal reason: partner discretion"


def who(role: str) -> str:
    return f"p-{role}"


@dataclass
class Clock:
    """The day grants are judged on, for the app under test (grants expire at midnight)."""

    day: date = field(default_factory=lambda: datetime.now(UTC).date())

    def __call__(self) -> date:
        return self.day


def every_event(api: Api) -> Api:
    """``seed`` plus, on client c1, one event of each remaining billing type."""
    seed(api)
    m1, post = api.ids["m1"], api.ok
    post("admin", f"/v1/matters/{m1}/rates", {"timekeeper_id": "tk1",
                                              "rate_minor_per_hour": 42000,
                                              "effective_from": "2024-03-01"})
    e2 = post("admin", f"/v1/matters/{m1}/time-entries", {
        "timekeeper_id": "tk1", "work_on": "2024-03-02", "minutes": 30, "billable": False,
        "narrative": NARRATIVE})["entry_id"]
    post("admin", f"/v1/matters/{m1}/time-entries/{e2}/corrections", {
        "minutes": 36, "reason": INTERNAL, "corrected_on": "2024-03-03"})
    post("admin", f"/v1/matters/{m1}/entries/{e2}/void", {"reason": INTERNAL,
                                                        "voided_on": "2024-03-04"})
    inv = post("admin", f"/v1/matters/{m1}/invoices", {
        "period_start": "2024-02-01", "period_end": "2024-03-31",
        "drafted_on": "2024-03-31"})["invoice_id"]
    post("admin", f"/v1/invoices/{inv}/write-downs", {
        "line_no": 1, "amount_minor": 100, "reason": INTERNAL,
        "written_down_on": "2024-03-31"})
    post("admin", f"/v1/invoices/{inv}/issue", {"issued_on": "2024-04-01"})
    post("admin", f"/v1/invoices/{inv}/write-offs", {
        "amount_minor": 100, "reason": INTERNAL, "approved_by": "admin",
        "written_off_on": "2024-04-02"})
    post("admin", f"/v1/invoices/{inv}/credit-notes", {
        "amount_minor": 100, "reason": "goodwill credit", "issued_on": "2024-04-03"})
    api.ids["i2"] = inv
    post("admin", f"/v1/matters/{m1}/time-entries", {
        "timekeeper_id": "tk1", "work_on": "2024-04-05", "minutes": 6, "narrative": NARRATIVE})
    gone = post("admin", f"/v1/matters/{m1}/invoices", {
        "period_start": "2024-04-01", "period_end": "2024-04-30",
        "drafted_on": "2024-04-30"})["invoice_id"]
    post("admin", f"/v1/invoices/{gone}/issue", {"issued_on": "2024-05-01"})
    post("admin", f"/v1/invoices/{gone}/void", {"reason": INTERNAL, "voided_on": "2024-05-02"})
    m3 = post("admin", f"/v1/clients/{api.ids['c1']}/matters", {
        "title": "Second matter", "opened_on": "2024-01-03"})["matter_id"]
    post("admin", f"/v1/matters/{m3}/close", {"reason": INTERNAL, "closed_on": "2024-05-03"})
    post("admin", f"/v1/matters/{m1}/time-entries", {
        "timekeeper_id": "tk1", "work_on": "2024-05-04", "minutes": 6, "narrative": NARRATIVE})
    api.ids["draft"] = post("admin", f"/v1/matters/{m1}/invoices", {
        "period_start": "2024-05-01", "period_end": "2024-05-31",
        "drafted_on": "2024-05-31"})["invoice_id"]
    post("admin", f"/v1/matters/{m1}/expenses", {"spent_on": "2024-06-05",  # stays unbilled
                                                 "description": NARRATIVE,
                                                 "amount_minor": 1500, "currency": "USD"})
    return api


def team(api: Api) -> dict[str, str]:
    """A key per role; every role but the admin's holds a grant of its role on c1 only."""
    grants = {}
    for role in ROLES:
        api.key(who(role), role, timekeeper="tk1" if role == "timekeeper" else None)
        if role != "firm_admin":
            grants[role] = grant(api, who(role), role, api.ids["c1"])
    return grants


@dataclass
class Stream:
    """What one SSE connection received: events, and whether access was revoked."""

    events: list[feed.FeedEvent] = field(default_factory=list)
    revoked: bool = False
    closed: bool = False


def read_stream(url: str, token: str, out: Stream, *, seconds: float = 30,
                **params: Any) -> None:
    """Read ``/v1/events/stream`` into ``out`` until it closes (or ``seconds`` pass)."""
    deadline = time.monotonic() + seconds
    name = ""
    with httpx.stream("GET", url + "/v1/events/stream", timeout=seconds,
                      params={"heartbeat": 0.2, **params},
                      headers={"Authorization": f"Bearer {token}"}) as r:
        assert r.status_code == 200, r.read()
        for line in r.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
                out.revoked = out.revoked or name == "access-revoked"
            elif line.startswith("data: ") and name == "ledger-event":
                out.events.append(feed.decode(line[6:]))
            if time.monotonic() > deadline:
                break
    out.closed = True


def pull_all(api: Api, principal: str, **params: Any) -> list[feed.FeedEvent]:
    events: list[feed.FeedEvent] = []
    after = 0
    for _ in range(100):
        r = api.get(principal, "/v1/events", after=after, limit=100, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        events += [feed.FeedEvent(**e) for e in body["events"]]
        if body["next_after"] >= body["head"]:
            return events
        after = body["next_after"]
    raise AssertionError("the feed did not reach its head")


def deliver_all(store: FirmStore, endpoint_id: UUID, clock: Clock | None = None) -> None:
    """Run delivery passes for one endpoint until it has nothing more to send."""
    app = BillingLedger(env=ledger_env(store))
    authorize = key_authorizer(KeyStore(store), app, clock or Clock())
    try:
        with DeliveryWorker(store, timeout=5, authorize=authorize) as worker:
            for _ in range(50):
                if worker.deliver_endpoint(endpoint_id) == 0:
                    break
    finally:
        app.close()


def received(receiver: Receiver) -> list[feed.FeedEvent]:
    with receiver.lock:
        return [feed.decode(x.body) for x in receiver.received]


def form_of(event: feed.FeedEvent) -> str:
    """``full``, ``redacted`` or ``withheld``, read off a feed event."""
    if event.withheld:
        return "withheld"
    payload = event.payload or {}
    if any(v == {"redacted": True} for v in payload.values()):
        return "redacted"
    return "full"


def forms_by_type(truth: list[feed.FeedEvent], seen: list[feed.FeedEvent],
                  client_id: str) -> dict[str, set[str]]:
    """Per event type of ``client_id`` (as the firm feed ``truth`` names them), the forms a
    surface delivered them in; a position the surface never sent counts as withheld."""
    got = {e.position: form_of(e) for e in seen}
    out: dict[str, set[str]] = {}
    for e in truth:
        if e.client_id == client_id and e.type:
            out.setdefault(type_name(e.type), set()).add(got.get(e.position, "withheld"))
    return out
