"""Webhook contracts end to end: which URLs are refused, what the signature covers,
and withheld stubs for scoped endpoints, against a real receiver on 127.0.0.1."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from ledger.store.firm import FirmStore
from ledger.subscribers import feed
from ledger.subscribers.addresses import (
    ALLOW_PRIVATE_ENV,
    AddressRefusedError,
    InvalidWebhookUrlError,
)
from ledger.subscribers.delivery import DeliveryWorker
from ledger.subscribers.scope import FIRM, parse_scope
from ledger.subscribers.signing import signature_header, verify_signature
from ledger.subscribers.webhooks import WebhookStore
from tests.support.subscribers import Receiver, Recorder
from tests.support.webhooks import documented_verifier, log_positions

INTERNAL = ["http://169.254.169.254/latest/meta-data", "http://10.1.2.3/hook",
            "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/hook",
            "http://192.168.1.20/hook", "http://172.16.0.1/hook", "http://[fd12::1]/hook",
            "http://100.100.100.200/meta", "http://[fd00:ec2::254]/", "http://0.0.0.0/",
            "http://[::ffff:10.0.0.1]/hook", "https://[fe80::1]/hook"]
ALWAYS_REFUSED = ["http://169.254.169.254/latest/meta-data", "http://100.100.100.200/meta",
                  "http://[fd00:ec2::254]/", "http://0.0.0.0/", "https://[fe80::1]/hook",
                  "http://224.0.0.1/"]


def worker_pass(store: FirmStore, seconds: float = 1.5) -> None:
    with DeliveryWorker(store, backoff_base=0.05, backoff_cap=0.1, poll=0.05,
                        max_failure=timedelta(days=1)) as w:
        w.run(timeout=seconds)


def test_internal_addresses_and_credentials_are_refused_unless_allowed(
        firm_store: FirmStore, monkeypatch: pytest.MonkeyPatch) -> None:
    hooks = WebhookStore(firm_store)
    monkeypatch.delenv(ALLOW_PRIVATE_ENV)
    for url in INTERNAL:
        with pytest.raises(AddressRefusedError):
            hooks.add(url, event_types=[], scope=FIRM)
    for url in ["http://user:pw@hooks.example.com/x", "https://token@hooks.example.com/",
                "ftp://hooks.example.com/", "http:///nohost", "http://h.example.com:99999/"]:
        with pytest.raises(InvalidWebhookUrlError):
            hooks.add(url, event_types=[], scope=FIRM)
    hooks.ensure()
    assert hooks.endpoints() == [], "a refusal writes nothing"
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")
    for url in ALWAYS_REFUSED:  # no receiver lives there, allowed or not
        with pytest.raises(AddressRefusedError):
            hooks.add(url, event_types=[], scope=FIRM)
    endpoint, _ = hooks.add("http://127.0.0.1:9/hook", event_types=[], scope=FIRM)
    assert [e.id for e in hooks.endpoints()] == [endpoint.id]


def test_the_command_line_refuses_them_and_never_prints_credentials(
        firm_store: FirmStore, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from ledger.cli import main

    monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
    monkeypatch.setenv("LEDGER_FIRM", firm_store.firm)
    monkeypatch.delenv(ALLOW_PRIVATE_ENV)
    for url in ["http://169.254.169.254/latest/meta-data", "http://10.1.2.3/hook",
                "http://user:pw@hooks.example.com/hook"]:
        assert main(["webhooks", "add", url, "--scope", "firm"]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "pw" not in err
    # A row stored before the rules existed: listed with its credentials hidden.
    hooks = WebhookStore(firm_store)
    hooks.ensure()
    with firm_store.location.connect() as conn:
        conn.execute(f'INSERT INTO "{firm_store.schema}".webhook_endpoints '
                     "(id, url, scope, secret) VALUES (gen_random_uuid(), %s, 'firm', 's')",
                     ("http://user:pw@127.0.0.1:9/hook",))
    assert main(["webhooks", "list"]) == 0
    out = capsys.readouterr().out
    assert "user:pw" not in out and "http://***@127.0.0.1:9/hook" in out
    assert main(["webhooks", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["items"]
    assert [e["url"] for e in listed] == ["http://***@127.0.0.1:9/hook"]


def test_delivery_re_checks_the_resolved_address(
        firm_store: FirmStore, recorder: Recorder, receiver: Receiver,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``localhost`` was allowed when registered; without the setting at delivery time
    the worker resolves it again, finds loopback, and sends nothing."""
    port = receiver.url.rsplit(":", 1)[1]
    hooks = WebhookStore(firm_store)
    endpoint, _ = hooks.add(f"http://localhost:{port}", event_types=[], scope=FIRM, after=0)
    recorder.client()
    monkeypatch.delenv(ALLOW_PRIVATE_ENV)
    worker_pass(firm_store)
    assert receiver.received == []
    attempts = hooks.attempts(endpoint.id)
    assert attempts and {a["error"] for a in attempts} == {"AddressRefusedError"}
    assert not any(a["delivered"] for a in attempts)
    assert hooks.get(endpoint.id).position == 0
    monkeypatch.setenv(ALLOW_PRIVATE_ENV, "1")
    hooks.replay(endpoint.id, 1)
    worker_pass(firm_store)
    assert [feed.decode(x.body).position for x in receiver.received] == [1, 2]


def test_the_signature_covers_the_event_id_and_the_ledger_id(
        firm_store: FirmStore, recorder: Recorder, receiver: Receiver) -> None:
    hooks = WebhookStore(firm_store)
    _, secret = hooks.add(receiver.url, event_types=[], scope=FIRM, after=0)
    recorder.client()
    worker_pass(firm_store)
    ledger_id = firm_store.head().ledger_id
    verify = documented_verifier()
    assert len(receiver.received) == 2
    for got in receiver.received:
        header, eid = got.headers["Ledger-Signature"], got.headers["Ledger-Event-Id"]
        position = feed.decode(got.body).position
        assert eid == f"{ledger_id}:{position}"
        assert header.startswith("t=") and ",v2=" in header and "v1=" not in header
        assert verify(secret, got.body, header, eid)
        assert verify_signature(secret, got.body, header, eid)
        for forged in (f"{ledger_id}:{position + 1}", f"{firm_store.firm}:{position}",
                       f"00000000-0000-0000-0000-000000000000:{position}"):
            assert not verify(secret, got.body, header, forged)
            assert not verify_signature(secret, got.body, header, forged)
    body = receiver.received[0].body
    eid = receiver.received[0].headers["Ledger-Event-Id"]
    stamp = int(time.time())
    assert signature_header(secret, body, eid, stamp) != signature_header(
        secret, body, f"{ledger_id}:99", stamp)


def test_a_scoped_endpoint_gets_withheld_stubs_and_can_check_the_chain(
        firm_store: FirmStore, recorder: Recorder, receiver: Receiver) -> None:
    a, ma = recorder.client("A")
    b, mb = recorder.client("B")
    recorder.time(ma, 2)
    recorder.time(mb, 2)
    recorder.time(ma, 1)
    hooks = WebhookStore(firm_store)
    hooks.add(receiver.url, event_types=[], scope=parse_scope([f"client:{a}"]), after=0)
    worker_pass(firm_store)
    events = [feed.decode(x.body) for x in receiver.received]
    assert [e.position for e in events] == log_positions(firm_store), "every position"
    ledger_id = receiver.received[0].headers["Ledger-Event-Id"].partition(":")[0]
    feed.check_chain(events, ledger_id=ledger_id)
    withheld = [e for e in events if e.withheld]
    assert withheld and all(e.type is None and e.payload is None and e.client_id is None
                            for e in withheld)
    assert {e.client_id for e in events if not e.withheld} == {str(a)}
    everything = b"".join(x.body for x in receiver.received)
    assert not any(s.encode() in everything for s in recorder.population.secrets[b])
    assert str(b) not in everything.decode()


def test_the_api_refuses_internal_urls_and_hides_stored_credentials(
        firm_store: FirmStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.api import make_api, seed

    for api in make_api(firm_store):
        seed(api)
        monkeypatch.delenv(ALLOW_PRIVATE_ENV)
        body = {"scope": ["firm"], "after": 0}
        for url, slug in [("http://169.254.169.254/latest/meta-data", "webhook-address-refused"),
                          ("http://10.1.2.3/hook", "webhook-address-refused"),
                          ("http://user:pw@hooks.example.com/x", "invalid-webhook-url")]:
            r = api.post("admin", "/v1/webhooks", {**body, "url": url})
            assert r.status_code == 422, r.text
            assert r.json()["type"].endswith("/" + slug) and "pw" not in r.text
        assert api.get("admin", "/v1/webhooks").json()["items"] == []
        with firm_store.location.connect() as conn:  # stored before the rules existed
            conn.execute(f'INSERT INTO "{firm_store.schema}".webhook_endpoints '
                         "(id, url, scope, secret) VALUES (gen_random_uuid(), %s, 'firm', 's')",
                         ("https://user:pw@hooks.example.com/x",))
        listed = api.get("admin", "/v1/webhooks")
        assert "pw" not in listed.text
        assert [e["url"] for e in listed.json()["items"]] == ["https://***@hooks.example.com/x"]
