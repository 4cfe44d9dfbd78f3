"""Trust accounting over HTTP: every trust command as an idempotent POST, and the
trust reports as GET (each with ``as_of``).

Commands are the registry's rows tagged ``trust`` (``commands.trust.registry``
says who may call each), built by the command routes' machinery
(``Idempotency-Key`` header, body generated from the command model, path ids
merged in, grants checked by the command).

Reads: the client ledgers and evergreen status list only the clients the
caller's grants reach. Account-wide reports (journals, trial balance, three-way
reconciliation, exceptions) add up every client of the account, so they are
for firm admins, and for auditors only when they hold a grant on every client
the report shows. Every client a response discloses is recorded as read.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from ledger.api.http import Day, record_reads, respond
from ledger.api.routes_commands import command_router
from ledger.api.routes_queries import AsOf, On, utc
from ledger.api.security import Gate, gate_for, state_of
from ledger.domain.policy import AccessDeniedError
from ledger.domain.roles import ADMIN, AUDITOR, MONEY_READ
from projections.trust import reports as r
from projections.trust.books import TrustBooks, load_books

A = "/v1/trust/accounts/{account_id}"
Readers = Annotated[Gate, Depends(gate_for(MONEY_READ))]
Accountants = Annotated[Gate, Depends(gate_for(frozenset({ADMIN, AUDITOR})))]
Start = Annotated[Day, Query(description="first business date of the period")]
End = Annotated[Day, Query(description="last business date of the period")]


def _books(request: Request, as_of: Any) -> TrustBooks:
    return load_books(state_of(request).store, utc(as_of))


def _day(on: date | None, books: TrustBooks) -> date:
    from datetime import UTC, datetime

    return on or (books.as_of or datetime.now(UTC)).astimezone(UTC).date()


def _whole_account(request: Request, gate: Gate, what: str, body: dict[str, Any],
                   rows: list[dict[str, Any]]) -> Response:
    """Refuse unless every client shown is within the caller's grants; record the reads."""
    for row in rows:  # a report-wide refusal (no id of the caller's is looked up): 403
        if row.get("client_id") is not None and not gate.can_read(UUID(str(row["client_id"]))):
            raise AccessDeniedError("the report covers clients outside the caller's grants",
                                    field="account_id")
    record_reads(request, gate.caller, what, [{"client_id": c} for c in
                                              sorted({x["client_id"] for x in rows
                                                      if x.get("client_id")})])
    return respond(request, body)


def reads_router() -> APIRouter:
    router = APIRouter(tags=["trust"])

    @router.get(f"{A}/ledgers", summary="Client and matter trust ledgers, running balances")
    def ledgers(request: Request, account_id: UUID, *, gate: Readers,
                client_id: UUID | None = None, on: On = None, as_of: AsOf = None) -> Response:
        if client_id is not None:
            gate.require(client_id)
        books = _books(request, as_of)
        body = r.client_ledgers(books, account_id, _day(on, books), client_id)
        body["clients"] = gate.visible(body["clients"])
        record_reads(request, gate.caller, "trust-ledger", body["clients"])
        return respond(request, body)

    @router.get(f"{A}/journals", summary="Receipts and disbursements journals, firm ledger")
    def journals(request: Request, account_id: UUID, *, gate: Accountants, start: Start,
                 end: End, as_of: AsOf = None) -> Response:
        body = r.journals(_books(request, as_of), account_id, start, end)
        return _whole_account(request, gate, "trust-journals", body,
                              body["receipts"] + body["disbursements"])

    @router.get(f"{A}/trial-balance", summary="Client-ledger trial balance on a date")
    def trial(request: Request, account_id: UUID, *, gate: Accountants, on: On = None,
              as_of: AsOf = None) -> Response:
        books = _books(request, as_of)
        body = r.trial_balance(books, account_id, _day(on, books))
        return _whole_account(request, gate, "trust-trial-balance", body, body["matters"])

    @router.get(f"{A}/reconciliation", summary="Three-way reconciliation of a month end")
    def reconciliation(request: Request, account_id: UUID, *, gate: Accountants,
                       period_end: End, as_of: AsOf = None) -> Response:
        body = r.three_way(_books(request, as_of), account_id, period_end)
        return _whole_account(request, gate, "trust-reconciliation", body,
                              body["trial_balance"])

    @router.get(f"{A}/signers", summary="The account's current authorised signers")
    def signers(request: Request, account_id: UUID, *, gate: Accountants,
                as_of: AsOf = None) -> Response:
        return respond(request, r.signers(_books(request, as_of), account_id))

    @router.get("/v1/trust/evergreen", summary="Evergreen retainers against their floors")
    def evergreen(request: Request, *, gate: Readers, on: On = None,
                  as_of: AsOf = None) -> Response:
        books = _books(request, as_of)
        body = r.evergreen(books, _day(on, books))
        body["matters"] = gate.visible(body["matters"])
        record_reads(request, gate.caller, "trust-evergreen", body["matters"])
        return respond(request, body)

    @router.get("/v1/trust/exceptions", summary="Trust exceptions an auditor asks about")
    def exceptions(request: Request, *, gate: Accountants, on: On = None,
                   stale_days: Annotated[int, Query(ge=1, le=3650)] = r.STALE_DAYS,
                   as_of: AsOf = None) -> Response:
        books = _books(request, as_of)
        body = r.exceptions(books, _day(on, books), stale_days)
        rows = [row for k, v in body.items() if isinstance(v, list) for row in v]
        return _whole_account(request, gate, "trust-exceptions", body, rows)

    return router


def router() -> APIRouter:
    """Trust commands and reads, for ``app.include_router`` (one line in the app factory)."""
    out = APIRouter()
    out.include_router(command_router("trust"))
    out.include_router(reads_router())
    return out
