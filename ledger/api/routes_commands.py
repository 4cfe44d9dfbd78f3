"""Every command of the domain as a POST, each with an ``Idempotency-Key`` header.

The request body is the command model minus the ids in the path and minus the
idempotency key (which travels in the header), generated from ``commands.models``
so the OpenAPI document and the validation are the command's own. Idempotency
is the command side's (``BillingService.execute``): the same principal and key
with the same command and payload gives the first result and records nothing;
with anything else, ``409 idempotency-conflict``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, create_model

from commands import models as m
from commands.errors import AccessDeniedError
from commands.ledger_app import Context
from ledger.api.keys import Caller
from ledger.api.problems import IdempotencyKeyRequiredError
from ledger.api.security import ADMIN_ONLY, BILLING, TIME, TK, allow, state_of


@dataclass(frozen=True)
class CommandRoute:
    path: str
    method: str
    model: type[m.Command]
    roles: frozenset[str]
    summary: str

    @property
    def path_fields(self) -> list[str]:
        return [p.strip("{}") for p in self.path.split("/") if p.startswith("{")]


COMMAND_ROUTES: list[CommandRoute] = [
    CommandRoute("/v1/firm/setup", "set_up_firm", m.SetUpFirm, ADMIN_ONLY,
                 "Set the firm's currency and invoice series"),
    CommandRoute("/v1/timekeepers", "register_timekeeper", m.RegisterTimekeeper, ADMIN_ONLY,
                 "Register a timekeeper"),
    CommandRoute("/v1/clients", "onboard_client", m.OnboardClient, ADMIN_ONLY,
                 "Onboard a client"),
    CommandRoute("/v1/clients/{client_id}/matters", "open_matter", m.OpenMatter, BILLING,
                 "Open a matter for a client"),
    CommandRoute("/v1/matters/{matter_id}/close", "close_matter", m.CloseMatter, BILLING,
                 "Close a matter"),
    CommandRoute("/v1/matters/{matter_id}/rates", "set_rate", m.SetRate, BILLING,
                 "Set a timekeeper's rate on a matter"),
    CommandRoute("/v1/matters/{matter_id}/time-entries", "log_time", m.LogTime, TIME,
                 "Log time (a timekeeper logs only its own)"),
    CommandRoute("/v1/matters/{matter_id}/time-entries/{entry_id}/corrections",
                 "correct_time", m.CorrectTime, TIME, "Correct an unbilled time entry"),
    CommandRoute("/v1/matters/{matter_id}/entries/{entry_id}/void", "void_entry",
                 m.VoidEntry, TIME, "Void an unbilled time or expense entry"),
    CommandRoute("/v1/matters/{matter_id}/expenses", "log_expense", m.LogExpense, BILLING,
                 "Log an expense"),
    CommandRoute("/v1/matters/{matter_id}/recoveries", "record_recovery", m.RecordRecovery,
                 BILLING, "Record a contingency recovery"),
    CommandRoute("/v1/matters/{matter_id}/invoices", "draft_invoice", m.DraftInvoice,
                 BILLING, "Draft an invoice for a period"),
    CommandRoute("/v1/invoices/{invoice_id}/write-downs", "write_down", m.WriteDown,
                 BILLING, "Write a draft's line down"),
    CommandRoute("/v1/invoices/{invoice_id}/issue", "issue_invoice", m.IssueInvoice,
                 BILLING, "Issue a draft (gives it its number)"),
    CommandRoute("/v1/invoices/{invoice_id}/void", "void_invoice", m.VoidInvoice, BILLING,
                 "Void an unpaid invoice"),
    CommandRoute("/v1/invoices/{invoice_id}/write-offs", "write_off", m.WriteOff, BILLING,
                 "Write off an uncollectible balance"),
    CommandRoute("/v1/invoices/{invoice_id}/credit-notes", "issue_credit_note",
                 m.IssueCreditNote, BILLING, "Issue a credit note"),
    CommandRoute("/v1/payments", "record_payment", m.RecordPayment, BILLING,
                 "Record a payment received (optionally allocated)"),
    CommandRoute("/v1/payments/{payment_id}/allocations", "allocate_payment",
                 m.AllocatePayment, BILLING, "Allocate a payment to invoices"),
    CommandRoute("/v1/access-grants", "grant_access", m.GrantAccess, ADMIN_ONLY,
                 "Grant a principal access to a client or matter"),
    CommandRoute("/v1/access-grants/{grant_id}/revoke", "revoke_access", m.RevokeAccess,
                 ADMIN_ONLY, "Revoke a grant"),
]


class CommandAccepted(BaseModel):
    """What the command produced (ids, numbers, amounts in minor units)."""

    model_config = ConfigDict(extra="allow")
    command: str


def body_model(spec: CommandRoute) -> type[BaseModel]:
    skip = {"idempotency_key", *spec.path_fields}
    fields: dict[str, Any] = {name: (f.annotation, f) for name, f in
                              spec.model.model_fields.items() if name not in skip}
    return create_model(f"{spec.model.__name__}Request",
                        __config__=ConfigDict(extra="forbid"), **fields)


def own_time_only(request: Request, caller: Caller, spec: CommandRoute,
                  data: dict[str, Any]) -> None:
    """A timekeeper logs, corrects and voids only entries of its own timekeeper id."""
    if caller.role != TK:
        return
    mine = caller.timekeeper_id
    named = data.get("timekeeper_id")
    if named is not None and named != mine:
        raise AccessDeniedError("a timekeeper may only record its own time",
                                field="timekeeper_id")
    if "entry_id" in spec.path_fields:
        ctx = Context(state_of(request).service.app)
        entry = ctx.matter(UUID(str(data["matter_id"]))).entry(UUID(str(data["entry_id"])))
        if entry.timekeeper_id != mine:
            raise AccessDeniedError("a timekeeper may only change its own entries",
                                    field="entry_id")


def make_endpoint(spec: CommandRoute) -> Any:
    body_cls = body_model(spec)

    def endpoint(request: Request, caller: Caller, body: BaseModel,
                 idempotency_key: str | None, **path: UUID) -> JSONResponse:
        if not idempotency_key:
            raise IdempotencyKeyRequiredError("every POST needs an Idempotency-Key header",
                                              field="Idempotency-Key")
        data = {**body.model_dump(mode="json", exclude_unset=True),
                **{k: str(v) for k, v in path.items()}, "idempotency_key": idempotency_key}
        own_time_only(request, caller, spec, data)
        command = m.parse(spec.model, data)
        service = state_of(request).service
        result = getattr(service, spec.method)(caller.principal, command)
        return JSONResponse({"command": result.command, **result.data}, status_code=201)

    kw = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          annotation=Request),
        inspect.Parameter("caller", kw, annotation=Annotated[Caller, Depends(allow(spec.roles))]),
        *(inspect.Parameter(f, kw, annotation=UUID) for f in spec.path_fields),
        inspect.Parameter("body", kw, annotation=body_cls),
        inspect.Parameter("idempotency_key", kw, default=None, annotation=Annotated[
            str | None, Header(alias="Idempotency-Key",
                               description="retry-safe key, 8-128 of [A-Za-z0-9_.:-]")]),
    ]
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = spec.method
    return endpoint


def router() -> APIRouter:
    r = APIRouter(tags=["commands"])
    for spec in COMMAND_ROUTES:
        roles = ", ".join(sorted(spec.roles))
        r.add_api_route(spec.path, make_endpoint(spec), methods=["POST"], status_code=201,
                        response_model=CommandAccepted, summary=spec.summary,
                        description=f"Roles: {roles}. Grants are checked by the command.",
                        responses={409: {"description": "idempotency conflict"}})
    return r
