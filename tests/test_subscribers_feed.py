"""Pull feed: order, chaining across pages, scopes and redaction, filters."""

from __future__ import annotations

import pytest

from ledger.store.firm import FirmStore
from ledger.subscribers.feed import (
    ChainBreakError,
    FeedEvent,
    InvalidFeedRequestError,
    check_chain,
    encode,
    opener_for,
    read_page,
)
from ledger.subscribers.scope import FIRM, FIRM_REDACTED, Owners, Scope, parse_scope
from tests.support.subscribers import Recorder


def all_pages(store: FirmStore, scope: Scope, *, limit: int = 7, raw: bool = False,
              **filters: object) -> list[FeedEvent]:
    owners = Owners(store.schema, store.events_table)
    opener = opener_for(store)
    events: list[FeedEvent] = []
    after = 0
    with store.location.connect() as conn:
        for _ in range(1000):
            page = read_page(conn, store, owners, scope, after=after, limit=limit, raw=raw,
                             opener=opener, **filters)  # type: ignore[arg-type]
            events += page.events
            if page.next_after >= page.head:
                break
            after = page.next_after
    return events


def test_pages_chain_from_genesis_and_hashes_recompute(
        firm_store: FirmStore, recorder: Recorder) -> None:
    for _ in range(4):
        _, mid = recorder.client()
        recorder.time(mid, 3)
    head = firm_store.head()
    events = all_pages(firm_store, FIRM, raw=True)
    assert [e.position for e in events] == list(range(1, head.position + 1))
    last = None
    for start in range(0, len(events), 7):  # page by page, as a subscriber would
        last = check_chain(events[start:start + 7], previous_hash=last,
                           ledger_id=head.ledger_id)
    assert last == head.hash
    tampered = list(events)
    tampered[5].payload = {"changed": True}
    assert tampered[5].state_b64
    tampered[5].state_b64 = tampered[5].state_b64[:-4] + "AAAA"
    with pytest.raises(ChainBreakError):
        check_chain(tampered, ledger_id=head.ledger_id)
    with pytest.raises(ChainBreakError):
        check_chain(events[:3] + events[4:])  # one lost


def test_client_scope_sees_its_own_and_never_another_clients_secrets(
        firm_store: FirmStore, recorder: Recorder) -> None:
    a, ma = recorder.client("A")
    b, mb = recorder.client("B")
    recorder.time(ma, 2)
    recorder.time(mb, 2)
    scope = parse_scope([f"client:{a}"])
    events = all_pages(firm_store, scope, raw=True)
    check_chain(events)  # withheld stubs keep the chain whole
    text = b"".join(encode(e) for e in events)
    for secret in recorder.population.secrets[b]:
        assert secret.encode() not in text
    for secret in recorder.population.secrets[a]:
        assert secret.encode() in text
    own = [e for e in events if not e.withheld]
    assert {e.client_id for e in own} == {str(a)}
    assert all(e.type is None and e.payload is None for e in events if e.withheld)
    matter_scope = all_pages(firm_store, parse_scope([f"matter:{mb}"]))
    assert {e.matter_id for e in matter_scope if not e.withheld} == {str(mb)}


def test_firm_redacted_scope_sees_every_event_without_secrets(
        firm_store: FirmStore, recorder: Recorder) -> None:
    _, m1 = recorder.client()
    recorder.time(m1, 2)
    events = all_pages(firm_store, FIRM_REDACTED, raw=True)
    assert not any(e.withheld for e in events)
    text = b"".join(encode(e) for e in events)
    for values in recorder.population.secrets.values():
        for secret in values:
            assert secret.encode() not in text
    assert all(e.state_b64 is None for e in events)
    confidential = [e.payload["confidential"] for e in events if e.payload
                    and "confidential" in e.payload]
    assert confidential and all(c == {"redacted": True} for c in confidential)


def test_type_and_client_filters(firm_store: FirmStore,
                                 recorder: Recorder) -> None:
    a, ma = recorder.client()
    _, mb = recorder.client()
    recorder.time(ma, 3)
    recorder.time(mb, 3)
    logged = all_pages(firm_store, FIRM, limit=2, types=["TimeLogged"])
    assert len(logged) == 6 and all(e.type and e.type.endswith(":TimeLogged") for e in logged)
    assert all(e.schema_version == 1 and e.effective_on == "2024-03-01" for e in logged)
    only_a = all_pages(firm_store, FIRM, limit=3, client_id=a)
    assert len(only_a) == 5 and {e.client_id for e in only_a} == {str(a)}
    with pytest.raises(InvalidFeedRequestError):
        all_pages(firm_store, FIRM, types=["NoSuchEvent"])
