"""Webhooks against a real local receiver: signatures, order, retries, scope, crashes."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger.store.firm import FirmStore
from ledger.subscribers import feed
from ledger.subscribers.delivery import DeliveryWorker
from ledger.subscribers.scope import FIRM, parse_scope
from ledger.subscribers.signing import signature_header, verify_signature
from ledger.subscribers.webhooks import WebhookStore
from tests.support.subscribers import Receiver, Recorder, wait_until

README = Path(__file__).parents[1] / "ledger" / "subscribers" / "README.md"


def documented_verifier() -> Callable[[str, bytes, str], bool]:
    """The exact snippet the README gives receivers, executed as written."""
    text = README.read_text()
    block = re.search(r"<!-- verify-snippet -->\n```python\n(.*?)```", text, re.S)
    assert block, "the README must hold the verification snippet"
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), "README-snippet", "exec"), namespace)
    verifier: Callable[[str, bytes, str], bool] = namespace["verify_ledger_signature"]
    return verifier


def log_positions(store: FirmStore) -> list[int]:
    with store.location.connect() as conn:
        return [r[0] for r in conn.execute(
            f'SELECT notification_id FROM "{store.schema}".events ORDER BY 1').fetchall()]


def positions_of(r: Receiver) -> list[int]:
    with r.lock:
        return [feed.decode(x.body).position for x in r.received]


@pytest.fixture
def worker(firm_store: FirmStore) -> Iterator[tuple[DeliveryWorker, threading.Event]]:
    stop = threading.Event()
    w = DeliveryWorker(firm_store, backoff_base=0.05, backoff_cap=0.2, timeout=5, poll=0.05)
    thread = threading.Thread(target=w.run, kwargs={"stop": stop, "timeout": 50})
    thread.start()
    try:
        yield w, stop
    finally:
        stop.set()
        thread.join(timeout=20)
        w.close()


def test_signatures_verify_with_the_documented_snippet(
        firm_store: FirmStore, recorder: Recorder, receiver: Receiver,
        worker: Any) -> None:
    hooks = WebhookStore(firm_store)
    _, secret = hooks.add(receiver.url, event_types=[], scope=FIRM, after=0)
    _, matter = recorder.client()
    recorder.time(matter, 3)
    assert wait_until(lambda: len(receiver.received) >= 5)
    verify = documented_verifier()
    for got in receiver.received:
        header = got.headers["Ledger-Signature"]
        assert verify(secret, got.body, header)
        assert verify_signature(secret, got.body, header)
        assert not verify(secret, got.body + b" ", header)
        tampered = bytearray(got.body)
        tampered[12] ^= 1  # one bit of the position
        assert not verify(secret, bytes(tampered), header)
        assert not verify("whsec_other", got.body, header)
    body = receiver.received[0].body
    old = int(time.time()) - 301
    assert not verify(secret, body, signature_header(secret, body, old))
    assert verify(secret, body, signature_header(secret, body, old + 10))
    forged = f"t={int(time.time())},v1=" + hmac.new(
        b"guess", body, hashlib.sha256).hexdigest()
    assert not verify(secret, body, forged)
    assert positions_of(receiver) == log_positions(firm_store)


def test_a_failing_receiver_gets_everything_in_order_once_it_recovers(
        firm_store: FirmStore, recorder: Recorder, receiver: Receiver,
        worker: Any) -> None:
    hooks = WebhookStore(firm_store)
    endpoint, _ = hooks.add(receiver.url, event_types=[], scope=FIRM, after=0)
    recovers_at = time.monotonic() + 1.5
    receiver.fail = lambda: time.monotonic() < recovers_at
    _, matter = recorder.client()
    for _ in range(5):
        recorder.time(matter, 4)
    assert wait_until(lambda: positions_of(receiver) == log_positions(firm_store), 20)
    attempts = hooks.attempts(endpoint.id, limit=1000)
    assert any(not a["delivered"] and a["status_code"] == 500 for a in attempts)
    assert hooks.get(endpoint.id).consecutive_failures == 0


def test_a_slow_endpoint_does_not_hold_up_others(
        firm_store: FirmStore, recorder: Recorder, receiver: Receiver,
        worker: Any) -> None:
    slow = Receiver(delay=1.0)
    try:
        hooks = WebhookStore(firm_store)
        hooks.add(slow.url, event_types=[], scope=FIRM, after=0)
        hooks.add(receiver.url, event_types=[], scope=FIRM, after=0)
        _, matter = recorder.client()
        recorder.time(matter, 18)
        started = time.monotonic()
        assert wait_until(lambda: positions_of(receiver) == log_positions(firm_store), 10)
        assert time.monotonic() - started < 5
        assert len(slow.received) < 10
    finally:
        slow.close()


def test_scope_types_disable_and_replay(
        firm_store: FirmStore, recorder: Recorder, receiver: Receiver) -> None:
    a, ma = recorder.client("A")
    b, mb = recorder.client("B")
    hooks = WebhookStore(firm_store)
    scoped, _ = hooks.add(receiver.url, event_types=["TimeLogged", "MatterOpened"],
                          scope=parse_scope([f"client:{a}"]), after=0)
    recorder.time(ma, 2)
    recorder.time(mb, 2)
    with DeliveryWorker(firm_store, backoff_base=0.05, poll=0.05,
                        max_failure=timedelta(seconds=0.3)) as w:
        w.run(timeout=2)
        got = [feed.decode(x.body) for x in receiver.received]
        assert [e.type.rpartition(":")[2] for e in got if e.type] == [
            "MatterOpened", "TimeLogged", "TimeLogged"]
        assert {e.client_id for e in got} == {str(a)}
        everything = b"".join(x.body for x in receiver.received)
        assert not any(s.encode() in everything for s in recorder.population.secrets[b])
        assert hooks.get(scoped.id).position == firm_store.head().position
        receiver.fail = lambda: True  # now it fails for longer than max_failure
        recorder.time(ma, 1)
        w.run(timeout=2)
        assert hooks.get(scoped.id).status == "disabled"
        receiver.fail = lambda: False
        before = len(receiver.received)
        hooks.replay(scoped.id, 1)
        w.run(timeout=2)
    again = [feed.decode(x.body).position for x in receiver.received[before:]]
    assert again == [e.position for e in got] + [firm_store.head().position]


WORKER = textwrap.dedent("""
    import sys, time
    from ledger.database import DatabaseLocation
    from ledger.store.firm import FirmStore
    from ledger.subscribers.delivery import DeliveryWorker

    store = FirmStore(DatabaseLocation(sys.argv[1], False), sys.argv[2], pool_size=2)
    until = int(sys.argv[4]) if len(sys.argv) > 4 else None
    deadline = time.monotonic() + float(sys.argv[3])
    with DeliveryWorker(store, backoff_base=0.05, poll=0.05, threads=2) as worker:
        while time.monotonic() < deadline:
            worker.run(timeout=0.5)
            ends = [e.position for e in worker.webhooks.endpoints()]
            if until is not None and ends and min(ends) >= until:
                break
""")


def test_killed_worker_restarts_at_least_once_and_in_order(
        firm_store: FirmStore, recorder: Recorder) -> None:
    slowish = Receiver(delay=0.01)
    try:
        WebhookStore(firm_store).ensure()
        WebhookStore(firm_store).add(slowish.url, event_types=[], scope=FIRM, after=0)
        rng = random.Random(3)
        _, matter = recorder.client()
        args = [sys.executable, "-c", WORKER, firm_store.location.url, firm_store.firm]
        for _ in range(5):
            recorder.time(matter, rng.randint(20, 60))
            proc = subprocess.Popen([*args, "30"])
            time.sleep(rng.uniform(0.4, 1.2))
            proc.kill()
            proc.wait(timeout=10)
        proc = subprocess.Popen([*args, "45", str(firm_store.head().position)])
        assert proc.wait(timeout=60) == 0
        got = positions_of(slowish)
        assert got == sorted(got), "never out of order"
        assert sorted(set(got)) == log_positions(firm_store), "every event at least once"
    finally:
        slowish.close()
