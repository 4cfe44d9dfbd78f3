"""The HTTP routes on the real app: pull pages, the SSE stream, webhook endpoints."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from ledger.api import ApiConfig, create_app
from ledger.store.firm import FirmStore
from ledger.subscribers import feed
from tests.support.api import CLIENT_NAME, OTHER_NAME, Api, grant, make_api, seed
from tests.support.subscribers import free_port


@pytest.fixture
def api(firm_store: FirmStore) -> Iterator[Api]:
    yield from make_api(firm_store)


def pull_all(api: Api, who: str, **params: Any) -> tuple[str, list[feed.FeedEvent]]:
    events: list[feed.FeedEvent] = []
    after, ledger_id = 0, ""
    for _ in range(200):
        r = api.get(who, "/v1/events", after=after, limit=10, **params)
        assert r.status_code == 200, r.text
        body = r.json()
        ledger_id = body["ledger_id"]
        events += [feed.FeedEvent(**e) for e in body["events"]]
        if body["next_after"] >= body["head"]:
            break
        after = body["next_after"]
    return ledger_id, events


def test_pull_pages_chain_and_scope_follows_the_callers_grants(api: Api) -> None:
    seed(api)
    ledger_id, everything = pull_all(api, "admin", raw="true")
    assert [e.position for e in everything] == list(range(1, len(everything) + 1))
    feed.check_chain(everything, ledger_id=ledger_id)  # links and re-hashes from raw bytes
    assert CLIENT_NAME.encode() in b"".join(feed.encode(e) for e in everything)
    api.key("portal", "client")
    grant(api, "portal", "client", api.ids["c1"])
    _, mine = pull_all(api, "portal")
    feed.check_chain(mine, ledger_id=ledger_id)
    text = b"".join(feed.encode(e) for e in mine)
    assert OTHER_NAME.encode() not in text and CLIENT_NAME.encode() in text
    assert {e.client_id for e in mine if not e.withheld} == {api.ids["c1"]}
    _, redacted = pull_all(api, "admin", redacted="true")
    assert CLIENT_NAME.encode() not in b"".join(feed.encode(e) for e in redacted)
    r = api.get("admin", "/v1/events", type="NoSuchEvent")
    assert r.status_code in (400, 422)
    assert api.client.get("/v1/events").status_code == 401


@pytest.fixture
def server(firm_store: FirmStore) -> Iterator[str]:
    app = create_app(firm_store, ApiConfig(access_linger_seconds=0.01))
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


def read_stream(url: str, token: str, count: int, headers: dict[str, str] | None = None,
                **params: Any) -> list[tuple[str, feed.FeedEvent]]:
    out: list[tuple[str, feed.FeedEvent]] = []
    with httpx.stream("GET", url + "/v1/events/stream", timeout=20,
                      params={"max_events": count, **params},
                      headers={"Authorization": f"Bearer {token}", **(headers or {})}) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("text/event-stream")
        event_id = ""
        for line in r.iter_lines():
            if line.startswith("id: "):
                event_id = line[4:]
            elif line.startswith("data: "):
                out.append((event_id, feed.decode(line[6:])))
    return out


def test_stream_catches_up_then_goes_live_and_resumes_by_last_event_id(
        api: Api, server: str) -> None:
    seed(api)
    token = api.tokens["admin"]
    head = api.store.head().position
    live: list[tuple[str, feed.FeedEvent]] = []
    reader = threading.Thread(target=lambda: live.extend(
        read_stream(server, token, head + 2, heartbeat=0.2)))
    reader.start()
    time.sleep(0.5)
    api.ok("admin", f"/v1/matters/{api.ids['m1']}/time-entries", {
        "timekeeper_id": "tk1", "work_on": "2024-03-01", "minutes": 12, "narrative": "x"})
    reader.join(timeout=20)
    assert [int(i) for i, _ in live] == list(range(1, head + 3))
    feed.check_chain([e for _, e in live])
    resumed = read_stream(server, token, 3, headers={"Last-Event-ID": str(head - 2)})
    assert [e.position for _, e in resumed] == [head - 1, head, head + 1]


def test_webhook_routes_are_admin_only_and_never_list_the_secret(api: Api) -> None:
    seed(api)
    api.key("clerk", "billing_clerk")
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["InvoiceIssued"],
            "scope": ["firm-redacted"], "after": 0}
    assert api.post("clerk", "/v1/webhooks", body).status_code == 403
    created = api.post("admin", "/v1/webhooks", body)
    assert created.status_code == 201, created.text
    data = created.json()
    assert data["secret"].startswith("whsec_")
    listed = api.get("admin", "/v1/webhooks").json()["items"]
    assert [e["id"] for e in listed] == [data["id"]] and "secret" not in listed[0]
    assert data["secret"] not in api.get("admin", "/v1/webhooks").text
    replayed = api.post("admin", f"/v1/webhooks/{data['id']}/replay", {"from_position": 3})
    assert replayed.status_code == 200 and replayed.json()["position"] == 2
    attempts = api.get("admin", f"/v1/webhooks/{data['id']}/attempts")
    assert attempts.status_code == 200 and attempts.json()["items"] == []
    bad = api.post("admin", "/v1/webhooks", {**body, "url": "ftp://x"})
    assert bad.status_code in (400, 422)


def test_command_line_tail_and_webhooks(firm_store: FirmStore, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    from ledger.cli import main

    monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
    monkeypatch.setenv("LEDGER_FIRM", firm_store.firm)
    from tests.support.subscribers import Recorder

    rec = Recorder(firm_store)
    rec.client()
    rec.close()
    assert main(["events", "tail", "--limit", "2", "--json"]) == 0
    lines = capsys.readouterr().out.splitlines()
    events = [feed.decode(line) for line in lines]
    assert [e.position for e in events] == [1, 2]
    feed.check_chain(events)
    assert main(["events", "tail", "--limit", "2", "--scope", "firm-redacted"]) == 0
    assert "Secret" not in capsys.readouterr().out
    assert main(["webhooks", "add", "http://127.0.0.1:9/h", "--scope", "firm",
                 "--after", "0", "--json"]) == 0
    added = json.loads(capsys.readouterr().out)
    assert main(["webhooks", "list"]) == 0
    assert added["id"] in (listed := capsys.readouterr().out)
    assert added["secret"] not in listed
    assert main(["webhooks", "replay", added["id"], "--from", "2"]) == 0
    assert main(["webhooks", "attempts", added["id"], "--json"]) == 0
    assert main(["webhooks", "replay", "not-a-uuid", "--from", "2"]) == 2


def test_python_client_follows_and_checks_the_chain(api: Api, server: str) -> None:
    from ledger.subscribers.client import follow, pull

    seed(api)
    token = api.tokens["admin"]
    events = list(follow(server, token, limit=4, raw=True))
    assert [e.position for e in events] == list(range(1, api.store.head().position + 1))
    page = pull(server, token, after=2, limit=3, types=["ClientOnboarded"])
    assert page.events and all(e.type and e.type.endswith("ClientOnboarded")
                               for e in page.events)
