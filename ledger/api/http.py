"""Cursor pagination, ETags, and recording what a response disclosed.

Why cursors, not offsets: a cursor names the last item's sort key, so a page
stays correct while new invoices or entries arrive between requests. The
cursor is opaque (base64url of the key) and checked on the way back.

ETags are weak and hash the canonical JSON of the body without its
``position`` (the log may move on for other clients while this answer stays
the same); ``If-None-Match`` with a matching tag answers 304 without a body.

Dates and moments in query parameters are parsed here, once: ``Moment`` and
``Day`` are the types every route declares, and both refuse a value outside
``ledger.bounds`` before any route does arithmetic on it (422 ``invalid-request``
naming the parameter). A moment comes out in UTC (naive means UTC).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from ledger.api.access_log import Access
from ledger.api.keys import Caller
from ledger.api.problems import InvalidCursorError
from ledger.api.security import state_of
from ledger.bounds import RANGE_TEXT, DateOutOfRangeError, check_day, check_moment


def _out_of_range() -> PydanticCustomError:
    # The message names the range only; the parameter is named by the handler.
    return PydanticCustomError("date_out_of_range", f"must fall {RANGE_TEXT}")


def _moment(value: datetime) -> datetime:
    try:
        return check_moment(value, "value")
    except DateOutOfRangeError:
        raise _out_of_range() from None


def _day(value: date) -> date:
    try:
        return check_day(value, "value")
    except DateOutOfRangeError:
        raise _out_of_range() from None


Moment = Annotated[datetime, AfterValidator(_moment)]
"""An RFC 3339 moment in the accepted range, as UTC."""
Day = Annotated[date, AfterValidator(_day)]
"""A business date (YYYY-MM-DD) in the accepted range."""


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursorError("the cursor is not one this API gave out",
                                 field="after") from None


def page(items: list[dict[str, Any]], key: Callable[[dict[str, Any]], str], limit: int,
         after: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Items sorted by ``key``, the ``limit`` after the cursor, and the next cursor."""
    ordered = sorted(items, key=key)
    if after is not None:
        last = decode_cursor(after)
        ordered = [i for i in ordered if key(i) > last]
    shown = ordered[:limit]
    more = len(ordered) > limit
    return shown, encode_cursor(key(shown[-1])) if more and shown else None


def etag_of(body: dict[str, Any]) -> str:
    stable = {k: v for k, v in body.items() if k != "position"}
    canonical = json.dumps(stable, sort_keys=True, separators=(",", ":"), default=str)
    return 'W/"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    tags = {t.strip() for t in header.split(",")}
    bare = etag.removeprefix("W/")
    return "*" in tags or etag in tags or bare in tags or f"W/{bare}" in tags


def respond(request: Request, body: dict[str, Any]) -> Response:
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(jsonable(body), headers=headers)


def jsonable(value: Any) -> Any:
    """JSON-ready: UUIDs, dates and datetimes as strings, ints stay ints."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _u(value: Any) -> UUID | None:
    return None if value is None else UUID(str(value))


def record_reads(request: Request, caller: Caller, what: str,
                 rows: list[dict[str, Any]]) -> None:
    """One ``RecordAccessed`` per client, matter or invoice the response disclosed."""
    log = state_of(request).access
    request_id = str(getattr(request.state, "request_id", ""))
    for r in rows:
        log.record(Access(principal_id=caller.principal.id, role=caller.role, what=what,
                          request_id=request_id, client_id=_u(r.get("client_id")),
                          matter_id=_u(r.get("matter_id")),
                          invoice_id=_u(r.get("invoice_id"))))
