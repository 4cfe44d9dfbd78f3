"""The app factory: state opened in the lifespan, routes, problem handlers.

The lifespan opens the firm's ``BillingService``, the key store and the access
log writer, and on shutdown drains the access log completely before closing
anything (no ``RecordAccessed`` is lost on a clean stop). Every request gets a
request id (the caller's ``X-Request-Id`` when well-formed, else a fresh one),
echoed in the response and bound to every log line of the request together
with the principal; the URL's query and the body are never logged.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import structlog
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from psycopg.sql import SQL, Identifier

from ledger import __version__
from ledger.api import problems, routes_audit, routes_commands, routes_queries, trust
from ledger.api.keys import Caller
from ledger.api.security import allow, state_of
from ledger.api.state import ApiConfig, open_state
from ledger.api.subscribers import router as subscribers_router
from ledger.domain.roles import ME
from ledger.errors import DatabaseBusyError
from ledger.store.firm import FirmStore
from projections.catalog import MODELS

REQUEST_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
HSTS = "max-age=31536000"  # one year; no includeSubDomains: the API does not own its siblings
log = structlog.get_logger("ledger.api")


def projection_lag(store: FirmStore) -> dict[str, int]:
    """Events each read model still has to apply (head minus tracked position)."""
    head = store.head().position
    lag: dict[str, int] = {}
    with store.location.connect() as conn:
        for model in MODELS.values():
            table = f"{model.projection_name}_tracking"
            found = conn.execute("SELECT to_regclass(%s)",
                                 (f'"{store.schema}"."{table}"',)).fetchone()
            position = 0
            if found and found[0] is not None:
                row = conn.execute(SQL("SELECT max(notification_id) FROM {s}.{t}").format(
                    s=Identifier(store.schema), t=Identifier(table))).fetchone()
                position = int(row[0]) if row and row[0] is not None else 0
            lag[model.name] = max(head - position, 0)
    return lag


def _follow(store: FirmStore, stop: threading.Event) -> threading.Thread:
    from projections.live import run_live

    def run() -> None:
        while not stop.is_set():
            try:
                run_live(store, list(MODELS.values()), stop)
            except DatabaseBusyError:
                # The pool is shared with requests: a burst may spend it for a moment.
                # Follow again after a pause rather than leave the models behind.
                log.warning("projection follower paused", error="database-busy")
                stop.wait(1.0)
            except Exception as exc:  # readiness will show the lag
                log.error("projection follower stopped", error=type(exc).__name__)
                return

    thread = threading.Thread(target=run, name="projections", daemon=True)
    thread.start()
    return thread


def create_app(store: FirmStore, config: ApiConfig | None = None) -> FastAPI:
    """The app on ``store``, whose location carries the process's pool when the
    composition root (``ledger.bootstrap``) built it."""
    cfg = config or ApiConfig()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = open_state(store, cfg)
        app.state.ledger = state
        stop = threading.Event()
        follower = _follow(store, stop) if cfg.follow_projections else None
        try:
            yield
        finally:
            stop.set()
            state.access.close()  # drains every queued RecordAccessed first
            if follower is not None:
                follower.join(timeout=10)
            state.service.close()
            state.keys.close()

    app = FastAPI(title="Legal billing ledger", version=__version__, lifespan=lifespan,
                  description="Event-sourced, hash-chained billing ledger. Money is integer "
                  "minor units with an ISO 4217 currency. Errors are RFC 9457 "
                  "application/problem+json with a stable `type`.")
    problems.install(app)

    @app.middleware("http")
    async def request_context(request: Request,
                              call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        given = request.headers.get("x-request-id", "")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        request.state.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["X-Request-Id"] = request_id
        if cfg.tls:  # browsers and clients that honour it never fall back to plain HTTP
            response.headers["Strict-Transport-Security"] = HSTS
        route = request.scope.get("route")
        log.info("request", method=request.method, route=getattr(route, "path", "-"),
                 status=response.status_code,
                 ms=int((time.perf_counter() - started) * 1000))
        return response

    @app.get("/healthz", tags=["operations"], summary="The process is up")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"],
             summary="Database reachable and read models caught up within the bound")
    def readyz(request: Request) -> JSONResponse:
        try:
            lag = projection_lag(state_of(request).store)
        except Exception as exc:
            log.warning("not ready", error=type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"},
                                status_code=503)
        bound = cfg.readiness_max_lag
        ok = all(v <= bound for v in lag.values())
        return JSONResponse({"status": "ready" if ok else "lagging", "database": "ok",
                             "projection_lag": lag, "max_lag": bound,
                             "access_log_pending": state_of(request).access.pending},
                            status_code=200 if ok else 503)

    @app.get("/v1/me", tags=["operations"], summary="Who the key stands for")
    def me(caller: Annotated[Caller, Depends(allow(ME))]) -> dict[str, Any]:
        return {"principal_id": caller.principal.id, "role": caller.role,
                "key_id": str(caller.key_id), "timekeeper_id": caller.timekeeper_id}

    app.include_router(routes_commands.router())
    app.include_router(routes_queries.r)
    app.include_router(routes_audit.r)
    app.include_router(trust.router())
    app.include_router(subscribers_router())
    return app
