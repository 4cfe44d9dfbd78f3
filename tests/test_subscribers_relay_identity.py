"""The relay resumes only from a stream it wrote: another ledger's stream is refused.

Two ledgers of the same firm name (staging beside production on one NATS
cluster, a re-created database) would share ``LEDGER_<FIRM>``; here two test
firms are pointed at one stream name, which is the same situation.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import msgspec
import nats
import pytest

from ledger.database import DatabaseLocation
from ledger.store.firm import FirmStore
from ledger.subscribers import feed
from ledger.subscribers.relay import (
    LEDGER_ID_HEADER,
    POSITION_HEADER,
    RelayError,
    StreamMismatchError,
    StreamNames,
    names_for,
    names_for_stream,
    run_relay,
)
from tests.support.relay import stream_contents
from tests.support.subscribers import Recorder, unique_stream_suffix


def drop_stream(url: str, stream: str) -> None:
    async def drop() -> None:
        nc = await nats.connect(url)
        try:
            await nc.jetstream().delete_stream(stream)
        except nats.js.errors.NotFoundError:
            pass
        finally:
            await nc.close()

    asyncio.run(drop())


@pytest.fixture
def names(firm_store: FirmStore, nats_url: str) -> Iterator[StreamNames]:
    chosen = names_for(firm_store.firm, "_" + unique_stream_suffix())
    yield chosen
    drop_stream(nats_url, chosen.stream)


@pytest.fixture
def twin_store(firm_store: FirmStore) -> Iterator[FirmStore]:
    """A second ledger of the same firm name, in a database of its own (its own ledger id)."""
    name = "twin_" + uuid.uuid4().hex[:10]
    with firm_store.location.connect() as conn:
        conn.autocommit = True
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlsplit(firm_store.location.url)._replace(path="/" + name).geturl()
    store = FirmStore(DatabaseLocation(url, False), firm_store.firm, pool_size=2)
    try:
        store.ensure()
        yield store
    finally:
        with firm_store.location.connect() as conn:
            conn.autocommit = True
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def publish_forged(url: str, names: StreamNames, headers: dict[str, str], body: bytes) -> None:
    async def publish() -> None:
        nc = await nats.connect(url)
        try:
            await nc.jetstream().publish(names.subject, body, headers=headers)
        finally:
            await nc.close()

    asyncio.run(publish())


def test_a_stream_of_another_ledger_is_refused_naming_both(
        firm_store: FirmStore, twin_store: FirmStore, recorder: Recorder,
        nats_url: str, names: StreamNames) -> None:
    recorder.client()
    first = firm_store.head()
    assert run_relay(firm_store, nats_url, names=names, until=first.position,
                     timeout=20).published == first.position
    other = Recorder(twin_store)
    try:
        other.client()
        other.time(next(iter(other.population.matters)), 5)
    finally:
        other.close()
    ours = twin_store.head().ledger_id
    assert ours != first.ledger_id and twin_store.head().position > first.position
    with pytest.raises(StreamMismatchError) as refused:
        run_relay(twin_store, nats_url, names=names, timeout=2)
    assert first.ledger_id in refused.value.message and ours in refused.value.message
    assert "--stream NAME" in refused.value.message
    got = stream_contents(nats_url, names)
    assert [p for p, _, _ in got] == list(range(1, first.position + 1)), "nothing added"
    assert {i.rpartition(":")[0] for _, i, _ in got} == {first.ledger_id}


def test_a_diverged_copy_or_a_stream_ahead_of_the_ledger_is_refused(
        firm_store: FirmStore, recorder: Recorder, nats_url: str,
        names: StreamNames) -> None:
    _, matter = recorder.client()
    recorder.time(matter, 3)
    head = firm_store.head()
    run_relay(firm_store, nats_url, names=names, until=head.position - 1, timeout=20)
    last = feed.decode(stream_contents(nats_url, names)[-1][2])
    forged = msgspec.structs.replace(last, position=head.position, prev_hash=last.hash,
                                     hash="00" * 32)
    publish_forged(nats_url, names, {LEDGER_ID_HEADER: head.ledger_id,
                                     POSITION_HEADER: str(head.position)}, feed.encode(forged))
    with pytest.raises(StreamMismatchError, match="not this ledger's"):
        run_relay(firm_store, nats_url, names=names, timeout=2)
    ahead = msgspec.structs.replace(forged, position=head.position + 100)
    publish_forged(nats_url, names, {LEDGER_ID_HEADER: head.ledger_id,
                                     POSITION_HEADER: str(head.position + 100)},
                   feed.encode(ahead))
    with pytest.raises(StreamMismatchError, match="beyond this ledger's head"):
        run_relay(firm_store, nats_url, names=names, timeout=2)
    publish_forged(nats_url, names, {}, b"not a ledger event")
    with pytest.raises(StreamMismatchError, match="a ledger relay did not write it"):
        run_relay(firm_store, nats_url, names=names, timeout=2)


def test_the_command_line_refuses_with_exit_1_and_an_explicit_stream_works(
        firm_store: FirmStore, twin_store: FirmStore, recorder: Recorder,
        nats_url: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from ledger.cli import main

    own = "LEDGER_STAGING_" + unique_stream_suffix()
    recorder.client()
    other = Recorder(twin_store)
    other.client()
    other.close()
    relay = ["--firm", firm_store.firm, "relay", "run", "--nats", nats_url, "--seconds", "1"]
    try:
        monkeypatch.setenv("LEDGER_DATABASE_URL", firm_store.location.url)
        assert main(relay) == 0
        assert "published 2 events, up to position 2" in capsys.readouterr().out
        monkeypatch.setenv("LEDGER_DATABASE_URL", twin_store.location.url)
        assert main(relay) == 1  # the default stream LEDGER_<FIRM> is the other ledger's
        out, err = capsys.readouterr()
        assert "published" not in out
        assert firm_store.head().ledger_id in err and twin_store.head().ledger_id in err
        assert "--stream NAME" in err
        assert main([*relay, "--stream", own]) == 0
        assert "published 2 events, up to position 2" in capsys.readouterr().out
        got = stream_contents(nats_url, names_for_stream(firm_store.firm, own))
        assert {i for _, i, _ in got} == {f"{twin_store.head().ledger_id}:{p}" for p in (1, 2)}
        assert main([*relay, "--stream", "bad.name"]) == 2
    finally:
        drop_stream(nats_url, names_for(firm_store.firm).stream)
        drop_stream(nats_url, own)


def test_a_stream_that_does_not_take_the_subject_is_refused(
        firm_store: FirmStore, nats_url: str, names: StreamNames) -> None:
    run_relay(firm_store, nats_url, names=names, timeout=0.5)
    with pytest.raises(RelayError, match="does not take subject"):
        run_relay(firm_store, nats_url, timeout=0.5,
                  names=StreamNames(names.stream, "ledger.elsewhere.events"))
