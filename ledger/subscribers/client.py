"""A small Python client of the pull feed (standard library only).

Why it checks the chain as it goes: a subscriber that pages with ``follow``
knows, page after page, that it received an unbroken run of positions whose
hashes link, so nothing was dropped, reordered or altered on the way; with
``raw=True`` (and an unredacted scope) every hash is also recomputed from the
stored bytes. Given the ledger id, position and hash it last applied, it also
refuses another ledger's events (``LedgerMismatchError``): a server restored
from a backup, or another ledger of the same firm name, cannot pass as the
one it followed (see ``continuity``).

    for event in follow("http://127.0.0.1:8000", token, after=last_seen,
                        ledger_id=my_ledger_id, previous_hash=last_seen_hash):
        handle(event)
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from uuid import UUID

import msgspec

from ledger.subscribers.continuity import Continuity, LedgerMismatchError
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
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if _problem_type(exc).endswith("/position-beyond-head"):
            raise LedgerMismatchError(
                f"position {after} is beyond the head of the ledger at {base_url}: it is "
                "not the ledger this subscriber followed, or it was restored",
                field="after") from None
        raise
    events = [msgspec.convert(e, FeedEvent) for e in body["events"]]
    return PulledPage(body["ledger_id"], events, int(body["next_after"]), int(body["head"]))


def _problem_type(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("type", ""))
    except (ValueError, AttributeError, OSError):
        return ""


def follow(base_url: str, token: str, *, after: int = 0, limit: int = 500,
           previous_hash: str | None = None, ledger_id: str | None = None,
           raw: bool = False, redacted: bool = False) -> Iterator[FeedEvent]:
    """Every event after ``after`` up to the head, each page checked to chain on.

    Pass the ledger id followed, and the hash of the last event already
    processed as ``previous_hash``, to check the first new page against them
    too; without ``ledger_id`` the first page's is adopted and every later
    page must match it. Positions must come one after the other.
    """
    continuity = Continuity(ledger_id, after, previous_hash)
    for _ in range(MAX_PAGES):
        page = pull(base_url, token, after=after, limit=limit, raw=raw, redacted=redacted)
        continuity.same_ledger(page.ledger_id)
        continuity.beyond_head(page.head)
        check_chain(page.events, previous_hash=continuity.last_hash, ledger_id=page.ledger_id)
        for event in page.events:
            continuity.accept(event.position, event.prev_hash, event.hash)
            yield event
        if page.next_after >= page.head or not page.events:
            return
        after = page.next_after
