"""A small Python client of the pull feed (standard library only).

Why it checks the chain as it goes: a subscriber that pages with ``follow``
knows, page after page, that it received an unbroken run of positions whose
hashes link, so nothing was dropped, reordered or altered on the way; with
``raw=True`` (and an unredacted scope) every hash is also recomputed from the
stored bytes.

    for event in follow("http://127.0.0.1:8000", token, after=last_seen):
        handle(event)
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from uuid import UUID

import msgspec

from ledger.subscribers.feed import FeedEvent, check_chain

MAX_PAGES = 1_000_000


@dataclass(frozen=True)
class PulledPage:
    ledger_id: str
    events: list[FeedEvent]
    next_after: int
    head: int


def pull(base_url: str, token: str, *, after: int = 0, limit: int = 100,
         types: Sequence[str] = (), client_id: UUID | None = None, raw: bool = False,
         redacted: bool = False, timeout: float = 30.0) -> PulledPage:
    """One page of ``GET /v1/events``."""
    params: list[tuple[str, str]] = [("after", str(after)), ("limit", str(limit))]
    params += [("type", t) for t in types]
    if client_id is not None:
        params.append(("client_id", str(client_id)))
    if raw:
        params.append(("raw", "true"))
    if redacted:
        params.append(("redacted", "true"))
    url = base_url.rstrip("/") + "/v1/events?" + urllib.parse.urlencode(params)
    if not url.startswith(("http://", "https://")):
        raise ValueError("the feed URL must be http(s)")
    request = urllib.request.Request(url, headers={  # noqa: S310 - scheme checked above
        "Authorization": f"Bearer {token}", "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        body = json.loads(response.read())
    events = [msgspec.convert(e, FeedEvent) for e in body["events"]]
    return PulledPage(body["ledger_id"], events, int(body["next_after"]), int(body["head"]))


def follow(base_url: str, token: str, *, after: int = 0, limit: int = 500,
           previous_hash: str | None = None, raw: bool = False,
           redacted: bool = False) -> Iterator[FeedEvent]:
    """Every event after ``after`` up to the head, each page checked to chain on.

    Pass the hash of the last event already processed as ``previous_hash`` to
    check the first new page against it too.
    """
    last = previous_hash
    for _ in range(MAX_PAGES):
        page = pull(base_url, token, after=after, limit=limit, raw=raw, redacted=redacted)
        last = check_chain(page.events, previous_hash=last, ledger_id=page.ledger_id)
        yield from page.events
        if page.next_after >= page.head or not page.events:
            return
        after = page.next_after
