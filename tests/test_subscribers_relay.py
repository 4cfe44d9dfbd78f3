"""The NATS JetStream relay against a real server: exactly once, in order, across kills."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import nats
import pytest

from ledger.store.firm import FirmStore
from ledger.subscribers import feed
from ledger.subscribers.relay import POSITION_HEADER, StreamNames, names_for, run_relay
from tests.support.subscribers import Recorder, unique_stream_suffix


@pytest.fixture
def names(firm_store: FirmStore, nats_url: str) -> Iterator[StreamNames]:
    chosen = names_for(firm_store.firm, "_" + unique_stream_suffix())
    yield chosen

    async def drop() -> None:
        nc = await nats.connect(nats_url)
        try:
            await nc.jetstream().delete_stream(chosen.stream)
        except nats.js.errors.NotFoundError:
            pass
        finally:
            await nc.close()

    asyncio.run(drop())


def stream_contents(url: str, names: StreamNames) -> list[tuple[int, str, bytes]]:
    """(position header, msg id, body) of every message, in stream order."""

    async def read() -> list[tuple[int, str, bytes]]:
        nc = await nats.connect(url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(names.stream)
            out: list[tuple[int, str, bytes]] = []
            if int(info.state.messages) == 0:
                return out
            for seq in range(int(info.state.first_seq), int(info.state.last_seq) + 1):
                msg = await js.get_msg(names.stream, seq)
                headers = msg.headers or {}
                out.append((int(headers[POSITION_HEADER]), headers["Nats-Msg-Id"],
                            msg.data or b""))
            return out
        finally:
            await nc.close()

    return asyncio.run(read())


def test_relay_publishes_every_event_once_in_order_and_resumes(
        firm_store: FirmStore, recorder: Recorder, nats_url: str,
        names: StreamNames) -> None:
    _, matter = recorder.client()
    recorder.time(matter, 50)
    head = firm_store.head()
    stats = run_relay(firm_store, nats_url, names=names, until=head.position, timeout=20)
    assert stats.published == head.position
    again = run_relay(firm_store, nats_url, names=names, timeout=0.5)
    assert again.published == 0  # resumed at the stream's last position
    recorder.time(matter, 5)
    run_relay(firm_store, nats_url, names=names, until=firm_store.head().position, timeout=20)
    got = stream_contents(nats_url, names)
    assert [p for p, _, _ in got] == list(range(1, firm_store.head().position + 1))
    assert [i for _, i, _ in got] == [f"{head.ledger_id}:{p}" for p, _, _ in got]
    events = [feed.decode(body) for _, _, body in got]
    feed.check_chain(events, ledger_id=head.ledger_id)
    text = b"".join(body for _, _, body in got)
    for secrets in recorder.population.secrets.values():  # firm-redacted by default
        assert not any(s.encode() in text for s in secrets)


def stream_count(url: str, names: StreamNames) -> int:
    async def count() -> int:
        nc = await nats.connect(url)
        try:
            info = await nc.jetstream().stream_info(names.stream)
            return int(info.state.messages)
        except nats.js.errors.NotFoundError:
            return 0
        finally:
            await nc.close()

    return asyncio.run(count())


RELAY = textwrap.dedent("""
    import sys
    from ledger.database import DatabaseLocation
    from ledger.store.firm import FirmStore
    from ledger.subscribers.relay import StreamNames, run_relay

    store = FirmStore(DatabaseLocation(sys.argv[1], False), sys.argv[2], pool_size=2)
    names = StreamNames(sys.argv[4], sys.argv[5])
    until = int(sys.argv[7]) if len(sys.argv) > 7 else None
    run_relay(store, sys.argv[3], names=names, batch=200, timeout=float(sys.argv[6]),
              until=until)
""")


def test_relay_killed_mid_batch_leaves_every_event_exactly_once(
        firm_store: FirmStore, recorder: Recorder, nats_url: str,
        names: StreamNames) -> None:
    rng = random.Random(4)
    args = [sys.executable, "-c", RELAY, firm_store.location.url, firm_store.firm, nats_url,
            names.stream, names.subject]
    counts = []
    for _ in range(5):
        recorder.many(rng.randint(1500, 3000))
        before = stream_count(nats_url, names)
        proc = subprocess.Popen([*args, "30"])
        deadline = time.monotonic() + 20  # wait until it publishes, then kill it soon after
        while stream_count(nats_url, names) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.2))
        proc.kill()
        proc.wait(timeout=10)
        try:
            counts.append(len(stream_contents(nats_url, names)))
        except nats.js.errors.NotFoundError:
            counts.append(0)
    proc = subprocess.Popen([*args, "45", str(firm_store.head().position)])
    assert proc.wait(timeout=60) == 0
    got = stream_contents(nats_url, names)
    head = firm_store.head()
    assert [p for p, _, _ in got] == list(range(1, head.position + 1))
    assert len({i for _, i, _ in got}) == len(got)
    assert any(0 < c < head.position for c in counts), "a kill landed mid-stream"
