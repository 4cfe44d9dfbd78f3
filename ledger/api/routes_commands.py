"""Every command of the registry as a POST, each with an ``Idempotency-Key`` header.

One route per row of ``commands.registry`` with an ``http`` part (path, roles,
summary); nothing here names a command. The request body is the command model
minus the ids in the path and minus the idempotency key (which travels in the
header), generated from the model so the OpenAPI document and the validation
are the command's own. Idempotency is the command side's
(``BillingService.execute``): the same principal and key with the same command
and payload gives the first result and records nothing; with anything else,
``409 idempotency-conflict``.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, create_model

from commands import models as m
from commands.errors import AccessDeniedError
from commands.ledger_app import Context
from commands.registry import COMMANDS
from commands.spec import CommandSpec, Http
from ledger.api.keys import Caller
from ledger.api.problems import IdempotencyKeyRequiredError
from ledger.api.security import allow, state_of
from ledger.domain.roles import TK


class CommandAccepted(BaseModel):
    """What the command produced (ids, numbers, amounts in minor units)."""

    model_config = ConfigDict(extra="allow")
    command: str


def _http(spec: CommandSpec) -> Http:
    assert spec.http is not None, f"{spec.name} has no HTTP route"
    return spec.http


def body_model(spec: CommandSpec) -> type[BaseModel]:
    skip = {"idempotency_key", *_http(spec).path_fields}
    fields: dict[str, Any] = {name: (f.annotation, f) for name, f in
                              spec.model.model_fields.items() if name not in skip}
    return create_model(f"{spec.model.__name__}Request",
                        __config__=ConfigDict(extra="forbid"), **fields)


def own_time_only(request: Request, caller: Caller, spec: CommandSpec,
                  data: dict[str, Any]) -> None:
    """A timekeeper logs, corrects and voids only entries of its own timekeeper id."""
    if caller.role != TK:
        return
    mine = caller.timekeeper_id
    named = data.get("timekeeper_id")
    if named is not None and named != mine:
        raise AccessDeniedError("a timekeeper may only record its own time",
                                field="timekeeper_id")
    if "entry_id" in _http(spec).path_fields:
        ctx = Context(state_of(request).service.app)
        entry = ctx.matter(UUID(str(data["matter_id"]))).entry(UUID(str(data["entry_id"])))
        if entry.timekeeper_id != mine:
            raise AccessDeniedError("a timekeeper may only change its own entries",
                                    field="entry_id")


def make_endpoint(spec: CommandSpec) -> Any:
    body_cls, http = body_model(spec), _http(spec)

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
        result = service.run(spec.name, caller.principal, command)
        return JSONResponse({"command": result.command, **result.data}, status_code=201)

    kw = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                          annotation=Request),
        inspect.Parameter("caller", kw, annotation=Annotated[Caller, Depends(allow(http.roles))]),
        *(inspect.Parameter(f, kw, annotation=UUID) for f in http.path_fields),
        inspect.Parameter("body", kw, annotation=body_cls),
        inspect.Parameter("idempotency_key", kw, default=None, annotation=Annotated[
            str | None, Header(alias="Idempotency-Key",
                               description="retry-safe key, 8-128 of [A-Za-z0-9_.:-]")]),
    ]
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = spec.name
    return endpoint


def command_router(tag: str) -> APIRouter:
    """The POST routes of the registry's commands tagged ``tag``, in registry order."""
    r = APIRouter(tags=[tag])
    for spec in COMMANDS.values():
        if spec.http is None or spec.http.tag != tag:
            continue
        roles = ", ".join(sorted(spec.http.roles))
        r.add_api_route(spec.http.path, make_endpoint(spec), methods=["POST"], status_code=201,
                        response_model=CommandAccepted, summary=spec.http.summary,
                        description=f"Roles: {roles}. Grants are checked by the command.",
                        responses={409: {"description": "idempotency conflict"}})
    return r


def router() -> APIRouter:
    return command_router("commands")
