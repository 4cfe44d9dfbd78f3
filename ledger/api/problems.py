"""RFC 9457 problem details: one stable ``type`` URI per refusal, never a secret.

Why a closed mapping from exception classes: the ``type`` slug every
``LedgerError`` subclass carries is the contract clients branch on, and the
status follows from the family of the refusal (not found 404, access 403,
idempotency and concurrency 409, rules and validation 422). Bodies carry the
refusal's own message (written never to name a confidential value), the field
at fault and the request id, and never the input, an exception's text from a
library, or a stack trace.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from commands.errors import (
    AccessDeniedError,
    ConcurrentUpdateError,
    IdempotencyConflictError,
    InvalidCommandError,
)
from ledger.domain.errors import NotFoundError
from ledger.errors import DatabaseBusyError, DatabaseUnavailableError, LedgerError

PROBLEM_BASE = "https://legal-ledger.dev/problems/"
PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_BUSY_SECONDS = 1
log = structlog.get_logger("ledger.api")


class ApiError(LedgerError):
    """A refusal of the HTTP shell itself (authentication, headers, cursors)."""

    status = 400
    type = "bad-request"


class UnauthenticatedError(ApiError):
    """No bearer key, an unknown one, or a revoked one."""

    status = 401
    type = "unauthenticated"


class KeyExpiredError(ApiError):
    """A key past the lifetime it was created with (``keys create --expires-in``)."""

    status = 401
    type = "key-expired"


class RoleForbiddenError(ApiError):
    """The key's role may not use this route at all (before any grant is looked at)."""

    status = 403
    type = "role-forbidden"


class IdempotencyKeyRequiredError(ApiError):
    """A POST without an ``Idempotency-Key`` header (or a malformed one)."""

    status = 400
    type = "idempotency-key-required"


class InvalidCursorError(ApiError):
    status = 400
    type = "invalid-cursor"


class InvalidRequestError(ApiError):
    """The request's parameters or body failed validation (the field is named)."""

    status = 422
    type = "invalid-request"


class ResourceNotFoundError(ApiError):
    """No route, or no such record (the id is not echoed)."""

    status = 404
    type = "not-found"


def status_for(exc: LedgerError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, AccessDeniedError):
        return 403
    if isinstance(exc, IdempotencyConflictError | ConcurrentUpdateError):
        return 409
    if isinstance(exc, DatabaseUnavailableError | DatabaseBusyError):
        return 503
    if isinstance(exc, InvalidCommandError):
        return 422
    return 422  # every other billing rule: the request was understood and refused


def problem(request: Request, status: int, slug: str, title: str, detail: str, *,
            field: str | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    # ``instance`` names the occurrence by request id, never by the URL: a path
    # can carry whatever the caller typed into it.
    body: dict[str, Any] = {"type": PROBLEM_BASE + slug, "title": title, "status": status,
                            "detail": detail}
    if field is not None:
        body["field"] = field
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["instance"] = f"urn:ledger:request:{request_id}"
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _title(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


async def on_ledger_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LedgerError)
    if isinstance(exc, AccessDeniedError) and exc.hidden is not None:
        exc = exc.hidden  # out of the caller's reach: answered exactly like an unknown id
    status = status_for(exc)
    log.info("request refused", type=exc.type, status=status, field=exc.field)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, DatabaseBusyError):  # the pool frees up within its wait
        headers = {"Retry-After": str(RETRY_AFTER_BUSY_SECONDS)}
    return problem(request, status, exc.type, _title(exc.type), exc.message, field=exc.field,
                   headers=headers)


def _field(loc: Any) -> str | None:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or None


async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
    field = _field(first.get("loc", ()))
    # Only pydantic's message: the offending input is never echoed back.
    detail = f"{field or 'request'}: {first.get('msg', 'invalid')}"
    return problem(request, 422, InvalidRequestError.type, "Invalid request", detail,
                   field=field)


async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    detail = {404: "no such resource", 405: "method not allowed on this resource"}.get(
        exc.status_code, "the request could not be served")
    return problem(request, exc.status_code, slug, _title(slug), detail,
                   headers=getattr(exc, "headers", None))


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The class name only: a library's message may quote the data it choked on.
    log.error("request failed", error=type(exc).__name__)
    return problem(request, 500, "internal-error", "Internal error",
                   "the request failed; quote the request id to the operator")


def install(app: FastAPI) -> None:
    app.add_exception_handler(LedgerError, on_ledger_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
