"""Trust accounting over HTTP: every trust command as an idempotent POST, and the
trust reports as GET (each with ``as_of``).

Commands reuse the command routes' machinery (``Idempotency-Key`` header, body
generated from the command model, path ids merged in, grants checked by the
command). Roles: client-money commands are for firm admins and billing clerks
(the command then needs a ``collect`` grant on the client or matter); the
account, firm funds, bank charges, statements and signing are firm-admin only.

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

from commands.trust import models as t
from ledger.api.http import Day, record_reads, respond
from ledger.api.routes_commands import CommandAccepted, CommandRoute, make_endpoint
from ledger.api.routes_queries import AsOf, On, utc
from ledger.api.security import (
    ADMIN,
    ADMIN_ONLY,
    AUDITOR,
    BILLING,
    MONEY_READ,
    Gate,
    gate_for,
    state_of,
)
from ledger.domain.policy import AccessDeniedError
from projections.trust import reports as r
from projections.trust.books import TrustBooks, load_books

A = "/v1/trust/accounts/{account_id}"
TRUST_ROUTES: list[CommandRoute] = [
    CommandRoute("/v1/trust/accounts", "open_trust_account", t.OpenTrustAccount, ADMIN_ONLY,
                 "Open a trust (IOLTA) bank account"),
    CommandRoute(f"{A}/deposits", "record_trust_deposit", t.RecordTrustDeposit, BILLING,
                 "Record money received in trust for a client's matter"),
    CommandRoute(f"{A}/deposits/{{deposit_id}}/reversal", "reverse_trust_deposit",
                 t.ReverseTrustDeposit, BILLING, "Reverse a deposit returned unpaid"),
    CommandRoute(f"{A}/disbursements", "record_trust_disbursement",
                 t.RecordTrustDisbursement, BILLING, "Pay out of trust for a client"),
    CommandRoute(f"{A}/transfers-to-operating", "transfer_trust_to_operating",
                 t.TransferTrustToOperating, BILLING,
                 "Move earned money to operating (against an invoice or an earned flat fee)"),
    CommandRoute(f"{A}/matter-transfers", "transfer_trust_between_matters",
                 t.TransferTrustBetweenMatters, BILLING,
                 "Move client money between matters, with the client's consent"),
    CommandRoute(f"{A}/replenishment-requests", "request_trust_replenishment",
                 t.RequestTrustReplenishment, BILLING, "Ask to refill an evergreen retainer"),
    CommandRoute(f"{A}/disputes", "dispute_trust_funds", t.DisputeTrustFunds, BILLING,
                 "Hold disputed money in trust"),
    CommandRoute(f"{A}/disputes/{{dispute_id}}/resolve", "resolve_trust_dispute",
                 t.ResolveTrustDispute, BILLING, "Release a dispute hold"),
    CommandRoute(f"{A}/firm-funds", "deposit_firm_funds", t.DepositFirmFunds, ADMIN_ONLY,
                 "Put firm money in trust to cover bank charges"),
    CommandRoute(f"{A}/bank-charges", "record_bank_charge", t.RecordBankCharge, ADMIN_ONLY,
                 "Record a bank fee (firm ledger)"),
    CommandRoute(f"{A}/statements", "import_bank_statement", t.ImportBankStatement,
                 ADMIN_ONLY, "Import a bank statement (JSON lines or CSV text)"),
    CommandRoute(f"{A}/reconciliations", "complete_trust_reconciliation",
                 t.CompleteTrustReconciliation, ADMIN_ONLY,
                 "Sign the balanced three-way reconciliation of a month end"),
]

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
    commands = APIRouter(tags=["trust"])
    for spec in TRUST_ROUTES:
        roles = ", ".join(sorted(spec.roles))
        commands.add_api_route(spec.path, make_endpoint(spec), methods=["POST"],
                               status_code=201, response_model=CommandAccepted,
                               summary=spec.summary,
                               description=f"Roles: {roles}. Grants are checked by the "
                               "command.", responses={409: {"description": "idempotency "
                                                            "conflict"}})
    out.include_router(commands)
    out.include_router(reads_router())
    return out
