"""Pull feed and subscriber helpers: positions beyond the head, malformed resume ids,
another ledger's events, a broken chain: each refused, never silently followed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import Cursor

from ledger.store.firm import FirmStore
from ledger.subscribers.client import follow
from ledger.subscribers.consumer import TRACKING_TABLE, TrackedConsumer
from ledger.subscribers.continuity import LedgerMismatchError
from ledger.subscribers.feed import ChainBreakError, FeedEvent
from tests.chain_helpers import superuser_sql
from tests.support.api import Api, make_api, seed
from tests.support.subscribers import Recorder

PROBLEMS = "https://legal-ledger.dev/problems/"
OTHER_LEDGER = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def api(firm_store: FirmStore) -> Iterator[Api]:
    yield from make_api(firm_store)


def test_after_beyond_the_head_is_a_422_not_a_silent_skip(api: Api) -> None:
    seed(api)
    head = api.store.head().position
    at_head = api.get("admin", "/v1/events", after=head)
    assert at_head.status_code == 200
    assert at_head.json()["next_after"] == head and at_head.json()["events"] == []
    for path in ("/v1/events", "/v1/events/stream"):
        r = api.get("admin", path, after=head + 1000)
        assert r.status_code == 422, r.text
        problem = r.json()
        assert problem["type"] == PROBLEMS + "position-beyond-head"
        assert f"head ({head})" in problem["detail"] and problem["field"] == "after"


def test_a_malformed_last_event_id_is_a_400(api: Api) -> None:
    seed(api)
    head = api.store.head().position
    for bad in ("abc", "-1", "1.5", "", "12abc", "99999999999999999999", "\u0663"):
        r = api.client.get("/v1/events/stream", params={"max_events": 1},
                           headers={**api.auth("admin"), "Last-Event-ID": bad.encode()})
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["type"] == PROBLEMS + "invalid-last-event-id"
    r = api.client.get("/v1/events/stream", headers={**api.auth("admin"),
                                                     "Last-Event-ID": str(head + 5)})
    assert r.status_code == 422 and r.json()["type"] == PROBLEMS + "position-beyond-head"


def test_the_client_refuses_another_ledger_a_position_ahead_and_a_broken_link(
        api: Api, server: str) -> None:
    seed(api)
    token = api.tokens["admin"]
    head = api.store.head()
    everything = list(follow(server, token, limit=7, ledger_id=head.ledger_id))
    assert [e.position for e in everything] == list(range(1, head.position + 1))
    middle = everything[9]
    rest = list(follow(server, token, after=middle.position, previous_hash=middle.hash,
                       ledger_id=head.ledger_id, limit=4))
    assert rest == everything[10:]
    with pytest.raises(LedgerMismatchError, match=OTHER_LEDGER):
        list(follow(server, token, ledger_id=OTHER_LEDGER))
    with pytest.raises(LedgerMismatchError, match="beyond the head"):
        list(follow(server, token, after=head.position + 50, ledger_id=head.ledger_id))
    with pytest.raises(ChainBreakError):
        list(follow(server, token, after=middle.position, previous_hash=everything[3].hash))


def consume(store: FirmStore, seen: list[int], **kwargs: Any) -> int:
    def apply(event: FeedEvent, curs: Cursor[Any]) -> None:
        seen.append(event.position)

    with TrackedConsumer(store, "contracts", **kwargs) as consumer:
        return consumer.run(apply, timeout=3)


def test_the_consumer_refuses_another_ledger_and_a_broken_chain(
        firm_store: FirmStore, recorder: Recorder) -> None:
    _, matter = recorder.client()
    recorder.time(matter, 4)
    seen: list[int] = []
    with pytest.raises(LedgerMismatchError, match=OTHER_LEDGER):
        consume(firm_store, seen, ledger_id=OTHER_LEDGER)
    assert seen == []
    ledger_id = firm_store.head().ledger_id
    assert consume(firm_store, seen, ledger_id=ledger_id) == 6
    recorder.time(matter, 3)  # positions 7, 8, 9; 8 no longer links to 7
    superuser_sql(firm_store, "UPDATE EV SET prev_hash = %s WHERE notification_id = 8",
                  (b"\x01" * 32,))
    with pytest.raises(ChainBreakError, match="position 8"):
        consume(firm_store, seen, ledger_id=ledger_id)
    assert seen == [1, 2, 3, 4, 5, 6, 7], "nothing from the break on"


def test_the_consumer_refuses_a_ledger_behind_its_position(
        firm_store: FirmStore, recorder: Recorder) -> None:
    recorder.client()
    seen: list[int] = []
    assert consume(firm_store, seen) == 2
    with firm_store.location.connect() as conn:  # as if the ledger were restored to before
        conn.execute(f'UPDATE "{firm_store.schema}".{TRACKING_TABLE} '
                     "SET notification_id = 40 WHERE application_name = 'contracts'")
    with pytest.raises(LedgerMismatchError, match="already applied position 40"):
        consume(firm_store, seen)
    assert seen == [1, 2]
