"""HTTP routes of the subscribers: the pull feed, the live stream, webhook endpoints.

Why the caller's grants decide the scope, read fresh on every request: a
revoked grant stops the very next page from showing that client. A firm
admin reads the firm scope; anyone else the clients and matters of their
active grants that permit ``read``; ``redacted=true`` narrows either to
redacted confidential fields; within that reach the key's role decides each
event's form (the access policy, ``ledger.domain.policy``). An open stream
re-reads its caller's key and grants after it read each batch of rows,
before sending it, and at least once a second (while idle, and while a slow
reader takes a long batch): once they no longer cover what
it opened with (key revoked, grant revoked or expired), it sends a final
``event: access-revoked`` and closes. Since rows are read before the check,
nothing recorded after the revocation committed reaches the old caller. Every client or matter whose
events a response disclosed is recorded as a ``RecordAccessed``. Webhook
endpoints are firm-admin business (a webhook's scope is its own, set here).

This module belongs to the HTTP shell (it uses ``ledger.api``'s
authentication); the rest of the package does not import it.
"""

# No "from __future__ import annotations": FastAPI must resolve the closures' annotations.

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ledger.api.http import record_reads
from ledger.api.problems import ApiError
from ledger.api.security import (
    Gate,
    gate_for,
    key_authorizer,
    reauthorize,
    state_of,
)
from ledger.domain.roles import ADMIN_ONLY, MONEY_READ, STAFF_READ
from ledger.subscribers.feed import (
    MAX_PAGE,
    FeedEvent,
    encode,
    keep,
    opener_for,
    read_page,
    resolve_types,
    to_feed_event,
)
from ledger.subscribers.live import LiveFeed
from ledger.subscribers.scope import Owners, Scope, parse_scope
from ledger.subscribers.webhooks import InvalidWebhookError, WebhookStore

HEARTBEAT_SECONDS = 15.0
RECHECK_SECONDS = 1.0  # an open stream re-reads its caller's key and grants this often
REVOKED = (b"event: access-revoked\ndata: {\"reason\": \"the caller's key or grants no longer "
           b"cover this stream\"}\n\n")
STREAM_MAX_SECONDS = 3600.0
Reader = Annotated[Gate, Depends(gate_for(STAFF_READ | MONEY_READ))]
Admin = Annotated[Gate, Depends(gate_for(ADMIN_ONLY))]


def scope_of(gate: Gate, redacted: bool) -> Scope:
    """The caller's scope, as the access policy reads its key's role and grants."""
    return gate.scope(redacted)


def _disclosed(events: list[FeedEvent]) -> list[dict[str, Any]]:
    seen = {(e.client_id, e.matter_id) for e in events
            if not e.withheld and (e.client_id or e.matter_id)}
    return [{"client_id": c, "matter_id": m} for c, m in sorted(seen, key=str)]


MAX_POSITION = 2**63 - 1  # positions are PostgreSQL bigints


class PositionBeyondHeadError(ApiError):
    """``after`` (or ``Last-Event-ID``) names a position this ledger has not written.

    Refused rather than answered with ``next_after`` = head: a subscriber
    that is ahead of the ledger followed another ledger, or this one before a
    restore, and must find out; silently moving it back would make it skip
    or double-apply the positions in between.
    """

    status = 422
    type = "position-beyond-head"


class InvalidLastEventIdError(ApiError):
    """A ``Last-Event-ID`` header that is not a position (digits only)."""

    status = 400
    type = "invalid-last-event-id"


def resume_position(last_event_id: str | None, after: int) -> int:
    """The position to resume after: ``Last-Event-ID`` when sent, else ``after``.

    A malformed id is refused, not taken as 0: replaying from position 1 to a
    subscriber that asked for something else would double-apply everything.
    """
    if last_event_id is None:
        return after
    text = last_event_id.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_POSITION:
        raise InvalidLastEventIdError("Last-Event-ID must be a position (a whole number "
                                      "from 0), as sent in the stream's id: lines",
                                      field="Last-Event-ID")
    return int(text)


def beyond_head(after: int, head: int) -> PositionBeyondHeadError:
    return PositionBeyondHeadError(
        f"position {after} is beyond this ledger's head ({head}): the subscriber followed "
        "another ledger, or this one before a restore; check the ledger_id and resume "
        "from a position you hold for it", field="after")


class NewWebhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000)
    event_types: list[str] = Field(default_factory=list, max_length=100)
    scope: list[str] = Field(min_length=1, max_length=1000,
                             description="firm, firm-redacted, client:<id>, matter:<id>, "
                             "redacted")
    after: int | None = Field(default=None, ge=0, le=MAX_POSITION,
                              description="deliver events after this position "
                              "(default: the head, i.e. only new events)")
    key_id: UUID | None = Field(default=None, description="deliver what this API key may "
                                "see (its role and grants, re-checked before every event; "
                                "the endpoint is paused when they no longer cover it)")


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_position: int = Field(ge=1, le=MAX_POSITION)


def router() -> APIRouter:
    r = APIRouter(tags=["subscribers"])
    owners_by_schema: dict[str, Owners] = {}

    def owners(request: Request) -> Owners:
        store = state_of(request).store
        return owners_by_schema.setdefault(store.schema,
                                           Owners(store.schema, store.events_table))

    @r.get("/v1/events", summary="Events after a position, in order, with their chain hashes")
    def pull(request: Request, gate: Reader,  # noqa: PLR0917 - query parameters
             after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
             limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
             type: Annotated[list[str] | None, Query()] = None,
             client_id: UUID | None = None, raw: bool = False,
             redacted: bool = False) -> dict[str, Any]:
        store = state_of(request).store
        scope = scope_of(gate, redacted)
        with store.location.connect() as conn:
            page = read_page(conn, store, owners(request), scope, after=after, limit=limit,
                             types=type or (), client_id=client_id, raw=raw,
                             opener=opener_for(store) if scope.confidential else None)
        if after > page.head:
            raise beyond_head(after, page.head)
        record_reads(request, gate.caller, "events", _disclosed(page.events))
        return {"ledger_id": page.ledger_id, "after": after, "next_after": page.next_after,
                "head": page.head, "events": [_plain(e) for e in page.events]}

    @r.get("/v1/events/stream", summary="Server-sent events: catch up, then live",
           response_class=StreamingResponse)
    async def stream(request: Request, gate: Reader,  # noqa: PLR0917 - query parameters
                     after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
                     type: Annotated[list[str] | None, Query()] = None,
                     raw: bool = False, redacted: bool = False,
                     max_events: Annotated[int | None, Query(ge=1)] = None,
                     heartbeat: Annotated[float, Query(ge=0.05, le=60)] = HEARTBEAT_SECONDS,
                     last_event_id: Annotated[str | None, Header()] = None,
                     ) -> StreamingResponse:
        start = resume_position(last_event_id, after)
        topics = resolve_types(type or ())
        state = state_of(request)
        store = state.store
        head = (await asyncio.to_thread(store.head)).position
        if start > head:
            raise beyond_head(start, head)
        scope = scope_of(gate, redacted)
        opener = opener_for(store) if scope.confidential else None
        book = owners(request)

        def still_allowed() -> bool:
            now = reauthorize(state, gate.caller, redacted)
            return now is not None and now.covers(scope)

        def resolve(ids: list[UUID]) -> None:
            # A pool connection per batch, never one held for the stream's life.
            with store.location.connect() as conn:
                book.resolve(conn, ids)

        async def events() -> AsyncIterator[bytes]:
            feed = await asyncio.to_thread(LiveFeed, store, start, topics)
            sent, deadline = 0, time.monotonic() + STREAM_MAX_SECONDS
            quiet_since = time.monotonic()
            try:
                yield b"retry: 1000\n\n"
                while time.monotonic() < deadline and not await request.is_disconnected():
                    rows = await asyncio.to_thread(feed.next_rows, 500,
                                                   min(heartbeat, RECHECK_SECONDS))
                    # Rows read, then the key and grants read again: whatever
                    # committed before these rows (a revocation included) is seen.
                    if not await asyncio.to_thread(still_allowed):
                        yield REVOKED
                        return
                    checked = time.monotonic()
                    if not rows:
                        if time.monotonic() - quiet_since >= heartbeat:
                            quiet_since = time.monotonic()
                            yield b": heartbeat\n\n"
                        continue
                    quiet_since = time.monotonic()
                    await asyncio.to_thread(resolve, [row.originator_id for row in rows])
                    out = [to_feed_event(row, book, scope, raw=raw, opener=opener)
                           for row in rows]
                    if topics:  # filtered: as the pull feed, no stubs (``feed.keep``)
                        out = [e for e in out if keep(e)]
                    record_reads(request, gate.caller, "events", _disclosed(out))
                    for event in out:
                        if time.monotonic() - checked >= RECHECK_SECONDS:  # a slow reader
                            if not await asyncio.to_thread(still_allowed):
                                yield REVOKED
                                return
                            checked = time.monotonic()
                        yield (f"id: {event.position}\nevent: ledger-event\ndata: ".encode()
                               + encode(event) + b"\n\n")
                        sent += 1
                        if max_events is not None and sent >= max_events:
                            return
            finally:
                await asyncio.to_thread(feed.close)

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store",
                                          "X-Accel-Buffering": "no"})

    @r.post("/v1/webhooks", status_code=201, summary="Register a webhook endpoint "
            "(the secret is in this response only)")
    def add_webhook(request: Request, gate: Admin,
                    body: Annotated[NewWebhook, Body()]) -> dict[str, Any]:
        state = state_of(request)
        scope = parse_scope(body.scope)
        if body.key_id is not None:
            reach = key_authorizer(state.keys, state.service.app, state.config.today)(
                body.key_id)
            if reach is None:
                raise InvalidWebhookError("the API key is unknown or revoked", field="key_id")
            scope = reach.narrowed(scope)
        endpoint, secret = WebhookStore(state.store).add(
            body.url, event_types=body.event_types, scope=scope, after=body.after,
            key_id=body.key_id)
        return {**endpoint.public(), "secret": secret}

    @r.get("/v1/webhooks", summary="Webhook endpoints, their positions and state")
    def list_webhooks(request: Request, gate: Admin) -> dict[str, Any]:
        hooks = WebhookStore(state_of(request).store)
        hooks.ensure()
        return {"items": [e.public() for e in hooks.endpoints()]}

    @r.post("/v1/webhooks/{endpoint_id}/replay",
            summary="Deliver again from a position (re-enables a disabled endpoint)")
    def replay(request: Request, gate: Admin, endpoint_id: UUID,
               body: Annotated[Replay, Body()]) -> dict[str, Any]:
        hooks = WebhookStore(state_of(request).store)
        hooks.ensure()
        return hooks.replay(endpoint_id, body.from_position).public()

    @r.get("/v1/webhooks/{endpoint_id}/attempts", summary="Delivery attempts, newest first")
    def attempts(request: Request, gate: Admin, endpoint_id: UUID,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 before: Annotated[int | None, Query(ge=1)] = None) -> dict[str, Any]:
        hooks = WebhookStore(state_of(request).store)
        hooks.ensure()
        items = hooks.attempts(endpoint_id, limit=limit, before=before)
        return {"items": items, "now": datetime.now(UTC).isoformat()}

    return r


def _plain(event: FeedEvent) -> dict[str, Any]:
    import msgspec

    data: dict[str, Any] = msgspec.to_builtins(event)
    return data
