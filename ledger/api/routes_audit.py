"""Firm-wide reports (AR aging, WIP) and the auditor's reports, as GET.

Firm-wide reports list only the clients the caller's grants reach (everything
for a firm admin); totals are recomputed over what is shown, so a total never
discloses a client the caller cannot see. Breach-scope reports read the access
chain; the firm admin sees all of it, an auditor what concerns clients it holds
a grant on.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from ledger.api.breach import what_accessed, who_accessed
from ledger.api.http import Day, Moment, record_reads, respond
from ledger.api.routes_queries import AsOf, On, utc
from ledger.api.security import Gate, gate_for, state_of
from ledger.domain.roles import AUDIT, AUDITOR, BILLING
from projections.query import (
    access_report,
    aging_report,
    verification_report,
    wip_report,
    writeoffs_report,
)
from projections.reports import BUCKETS

Reports = Annotated[Gate, Depends(gate_for(BILLING | {AUDITOR}))]
Audit = Annotated[Gate, Depends(gate_for(AUDIT))]
From = Annotated[Moment, Query(alias="from", description="window start (RFC 3339)")]
To = Annotated[Moment, Query(alias="to", description="window end (RFC 3339)")]

r = APIRouter(tags=["reports"])


@r.get("/v1/reports/aging", summary="Accounts receivable aging on a business date")
def aging(request: Request, *, gate: Reports, on: On = None, as_of: AsOf = None) -> Response:
    body = aging_report(state_of(request).store, utc(as_of), on)
    rows = gate.visible(body["clients"])
    totals: dict[str, dict[str, int]] = {}
    for row in rows:
        total = totals.setdefault(row["currency"],
                                  dict.fromkeys((*BUCKETS, "total_open_minor"), 0))
        for k in total:
            total[k] += row[k]
    record_reads(request, gate.caller, "aging", rows)
    return respond(request, {**body, "clients": rows, "totals": totals})


@r.get("/v1/reports/wip", summary="Work in progress: unbilled value per matter")
def wip(request: Request, *, gate: Reports, client_id: UUID | None = None,
        as_of: AsOf = None) -> Response:
    body = wip_report(state_of(request).store, utc(as_of), client_id)
    rows = gate.visible(body["rows"])
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row["currency"] or ""] += row["value_minor"]
    record_reads(request, gate.caller, "wip", rows)
    return respond(request, {**body, "rows": rows, "total_minutes":
                             sum(x["minutes"] for x in rows), "totals": dict(totals)})


@r.get("/v1/audit/write-offs", summary="Write-downs and write-offs in a period")
def write_offs(request: Request, *, gate: Audit,
               start: Annotated[Day | None, Query(alias="from")] = None,
               end: Annotated[Day | None, Query(alias="to")] = None,
               as_of: AsOf = None) -> Response:
    body = writeoffs_report(state_of(request).store, utc(as_of), start, end)
    rows = gate.visible(body["adjustments"])
    record_reads(request, gate.caller, "write_offs", rows)
    shown = {**body, "adjustments": rows}
    if not gate.unrestricted:  # the groupings span clients the caller may not see
        shown.pop("by_timekeeper", None)
        shown.pop("by_approver", None)
    return respond(request, shown)


@r.get("/v1/audit/access-grants", summary="Grants, revocations, who could see what")
def access_grants(request: Request, *, gate: Audit, on: On = None,
                  client_id: UUID | None = None, as_of: AsOf = None) -> Response:
    body = access_report(state_of(request).store, utc(as_of), on, client_id)
    grants, could_see = gate.visible(body["grants"]), gate.visible(body["could_see"])
    record_reads(request, gate.caller, "access_grants", could_see)
    return respond(request, {**body, "grants": grants, "could_see": could_see})


@r.get("/v1/audit/verification", summary="Verify the hash chain from genesis")
def verification(request: Request, *, gate: Audit, as_of: AsOf = None) -> Response:
    return respond(request, verification_report(state_of(request).store, utc(as_of)))


def _scoped(gate: Gate, body: dict[str, Any]) -> dict[str, Any]:
    accesses = gate.visible(body["accesses"])
    return {**body, "accesses": accesses, "count": len(accesses)}


@r.get("/v1/audit/access/who", summary="Breach scope: who read a client's data, when")
def who(request: Request, *, gate: Audit, client_id: UUID, start: From, end: To) -> Response:
    gate.require(client_id)
    body = who_accessed(state_of(request).store, client_id, utc(start) or start,
                        utc(end) or end)
    return respond(request, _scoped(gate, body))


@r.get("/v1/audit/access/what", summary="Breach scope: everything a principal read")
def what(request: Request, *, gate: Audit, principal_id: str, start: From, end: To) -> Response:
    body = what_accessed(state_of(request).store, principal_id, utc(start) or start,
                         utc(end) or end)
    scoped = _scoped(gate, body)
    if not gate.unrestricted:
        seen = {a["client_id"] for a in scoped["accesses"]}
        scoped["clients"] = [c for c in scoped["clients"] if c["client_id"] in seen]
    return respond(request, scoped)
