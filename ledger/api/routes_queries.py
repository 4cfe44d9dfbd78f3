"""Queries as GET: clients, matters, unbilled time, invoices, statements, payments.

Every answer comes from the read side (``projections.query``): live (caught up
to the head first) or, with ``as_of``, as the books stood at that moment. What
a caller sees is the access policy's answer (``ledger.domain.policy``): an id
out of its reach answers like an unknown one, a client sees issued invoices
only and no internal reasons on its statement. Lists
are cut to what the caller's grants reach *before* paging, then paged with a
cursor; every client, matter or invoice a response discloses is recorded as a
``RecordAccessed`` (304s too: the caller learnt the data is unchanged).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from commands.ledger_app import Context
from ledger.api.http import Day, Moment, page, record_reads, respond
from ledger.api.security import Gate, gate_for, state_of
from ledger.bounds import MIN_DAY
from ledger.domain import policy
from ledger.domain.errors import ClientNotFoundError, InvoiceNotFoundError, MatterNotFoundError
from ledger.domain.roles import MONEY_READ, STAFF_READ
from projections import reports
from projections.query import open_books, payments_rows, statement_report

AsOf = Annotated[Moment | None, Query(description="as the books stood at this moment "
                                        "(RFC 3339; naive means UTC)")]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
After = Annotated[str | None, Query(description="cursor from the previous page's `next`")]
On = Annotated[Day | None, Query(description="business date (default: today / as_of's)")]
Staff = Annotated[Gate, Depends(gate_for(STAFF_READ))]
Anyone = Annotated[Gate, Depends(gate_for(STAFF_READ | MONEY_READ))]
Money = Annotated[Gate, Depends(gate_for(MONEY_READ))]

r = APIRouter(tags=["queries"])


def utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _day(on: date | None, as_of: datetime | None) -> date:
    return on or (as_of or datetime.now(UTC)).astimezone(UTC).date()


def _books(request: Request, names: list[str], as_of: datetime | None,
           scope: UUID | None, table: str, **where: Any) -> tuple[dict[str, Any],
                                                                       list[dict[str, Any]]]:
    with open_books(state_of(request).store, names, utc(as_of), scope) as books:
        return books.meta(), books.reader.select(table, **where)


def _paged(request: Request, gate: Gate, what: str, meta: dict[str, Any],
           rows: list[dict[str, Any]], *, key: Any, limit: int, after: str | None) -> Response:
    items, nxt = page(gate.visible(rows), key, limit, after)
    record_reads(request, gate.caller, what, items)
    return respond(request, {**meta, "items": items, "next": nxt})


def _client(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("client_id", "name", "billing_contact", "currency",
                                "payment_terms_days", "onboarded_on")}


def _matter(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("matter_id", "client_id", "title", "currency", "arrangement",
                                "utbms", "opened_on", "closed_on")}


@r.get("/v1/clients", summary="Clients the caller may read")
def list_clients(request: Request, *, gate: Staff, as_of: AsOf = None, limit: Limit = 100,
                 after: After = None) -> Response:
    meta, rows = _books(request, ["directory"], as_of, None, "rm_clients")
    listed = [{**_client(c), "matter_id": None} for c in rows]
    return _paged(request, gate, "clients", meta, listed,
                  key=lambda c: f"{c['onboarded_on']}|{c['client_id']}", limit=limit, after=after)


@r.get("/v1/clients/{client_id}", summary="One client")
def get_client(request: Request, *, client_id: UUID, gate: Anyone,
               as_of: AsOf = None) -> Response:
    gate.require(client_id)
    meta, rows = _books(request, ["directory"], as_of, client_id, "rm_clients",
                        client_id=client_id)
    if not rows:
        raise ClientNotFoundError("no such client", field="client_id")
    record_reads(request, gate.caller, "client", rows)
    return respond(request, {**meta, **_client(rows[0])})


@r.get("/v1/matters", summary="Matters the caller may read")
def list_matters(request: Request, *, gate: Staff, client_id: UUID | None = None,
                 as_of: AsOf = None, limit: Limit = 100, after: After = None) -> Response:
    where = {"client_id": client_id} if client_id else {}
    meta, rows = _books(request, ["directory"], as_of, client_id, "rm_matters", **where)
    return _paged(request, gate, "matters", meta, [_matter(x) for x in rows],
                  key=lambda x: f"{x['opened_on']}|{x['matter_id']}", limit=limit, after=after)


@r.get("/v1/matters/{matter_id}", summary="One matter")
def get_matter(request: Request, *, matter_id: UUID, gate: Staff, as_of: AsOf = None) -> Response:
    matter = Context(state_of(request).service.app).matter(matter_id)
    gate.require(matter.client_id, matter_id)
    meta, rows = _books(request, ["directory"], as_of, matter.client_id, "rm_matters",
                        matter_id=matter_id)
    if not rows:
        raise MatterNotFoundError("no such matter", field="matter_id")
    record_reads(request, gate.caller, "matter", rows)
    return respond(request, {**meta, **_matter(rows[0])})


@r.get("/v1/unbilled-time", summary="Unbilled billable time and expense entries (WIP)")
def unbilled(request: Request, *, gate: Staff, client_id: UUID | None = None,
             matter_id: UUID | None = None, as_of: AsOf = None, limit: Limit = 100,
             after: After = None) -> Response:
    where: dict[str, Any] = {"client_id": client_id} if client_id else {}
    if matter_id:
        where["matter_id"] = matter_id
    meta, rows = _books(request, ["directory", "wip"], as_of, client_id, "rm_entries", **where)
    entries = [{k: e[k] for k in ("entry_id", "matter_id", "client_id", "kind",
                                  "timekeeper_id", "work_on", "raw_minutes", "minutes",
                                  "amount_minor", "task_code", "activity_code",
                                  "expense_code", "narrative")}
               for e in rows if e["billable"] and not e["voided"]
               and e["billed_invoice_id"] is None]
    return _paged(request, gate, "unbilled_time", meta, entries,
                  key=lambda e: f"{e['work_on']}|{e['entry_id']}", limit=limit, after=after)


@r.get("/v1/invoices", summary="Invoices with their balances (minor units)")
def list_invoices(request: Request, *, gate: Money, client_id: UUID | None = None,
                  status: str | None = None, on: On = None, as_of: AsOf = None,
                  limit: Limit = 100, after: After = None) -> Response:
    with open_books(state_of(request).store, ["directory", "balances"], utc(as_of),
                    client_id) as books:
        meta = books.meta()
        rows = reports.invoice_balances(books.reader, _day(on, as_of), client_id)
    rows = [i for i in rows if (status is None or i["status"] == status)
            and policy.shown_invoice(gate.caller.role, i)]
    return _paged(request, gate, "invoices", meta, rows,
                  key=lambda i: f"{i['number'] or '~'}|{i['invoice_id']}", limit=limit, after=after)


@r.get("/v1/invoices/{invoice_id}", summary="One invoice, its balance and its lines")
def get_invoice(request: Request, *, invoice_id: UUID, gate: Money, on: On = None,
                as_of: AsOf = None) -> Response:
    invoice = Context(state_of(request).service.app).invoice(invoice_id)
    gate.require(invoice.client_id, invoice.matter_id, hidden=policy.not_found("invoice"))
    with open_books(state_of(request).store, ["directory", "balances"], utc(as_of),
                    invoice.client_id) as books:
        meta = books.meta()
        found = [i for i in reports.invoice_balances(books.reader, _day(on, as_of),
                                                     invoice.client_id)
                 if i["invoice_id"] == str(invoice_id)]
        lines = sorted(books.reader.select("rm_invoice_lines", invoice_id=invoice_id),
                       key=lambda li: li["line_no"])
    if not found:
        raise InvoiceNotFoundError("no such invoice at that moment", field="invoice_id")
    if not policy.shown_invoice(gate.caller.role, found[0]):
        raise policy.not_found("invoice")  # a draft, to a client: as if unknown
    record_reads(request, gate.caller, "invoice", found)
    shown = [{k: v for k, v in li.items() if k != "invoice_id"} for li in lines]
    return respond(request, {**meta, **found[0], "lines": shown})


def _client_gate(request: Request, gate: Gate, client_id: UUID) -> None:
    Context(state_of(request).service.app).client(client_id)
    gate.require(client_id)


@r.get("/v1/clients/{client_id}/statement", summary="A client's statement for a period")
def statement(request: Request, *, client_id: UUID, gate: Money,
              start: Annotated[Day | None, Query(alias="from")] = None,
              end: Annotated[Day | None, Query(alias="to")] = None,
              as_of: AsOf = None) -> Response:
    _client_gate(request, gate, client_id)
    last = end or _day(None, as_of)
    first = start or last.replace(month=1, day=1)
    body = statement_report(state_of(request).store, client_id, first, last, utc(as_of))
    body["lines"] = [policy.statement_line(gate.caller.role, li) for li in body["lines"]]
    record_reads(request, gate.caller, "statement", [{"client_id": client_id}])
    return respond(request, body)


@r.get("/v1/clients/{client_id}/payments", summary="A client's payment history")
def payments(request: Request, *, client_id: UUID, gate: Money, as_of: AsOf = None,
             limit: Limit = 100, after: After = None) -> Response:
    _client_gate(request, gate, client_id)
    meta, rows = payments_rows(state_of(request).store, client_id, utc(as_of))
    listed = [{"position": x["position"], "date": x["on_date"], "kind": x["kind"],
               "invoice_id": x["invoice_id"], "number": x["number"],
               "reference": x["reference"],
               "amount_minor": -(x["amount_minor"] if x["kind"] == "payment"
                                 else x["applied_minor"]),
               "currency": x["currency"], "client_id": client_id}
              for x in rows if x["kind"] in ("payment", "allocation")]
    items, nxt = page(listed, lambda x: f"{x['position']:020d}", limit, after)
    record_reads(request, gate.caller, "payments", [{"client_id": client_id}])
    return respond(request, {**meta, "client_id": str(client_id), "items": items,
                             "next": nxt})


@r.get("/v1/clients/{client_id}/balance", summary="What a client owes, and its credit")
def balance(request: Request, *, client_id: UUID, gate: Money, on: On = None,
            as_of: AsOf = None) -> Response:
    _client_gate(request, gate, client_id)
    day = _day(on, as_of)
    body = statement_report(state_of(request).store, client_id, MIN_DAY, day,
                            utc(as_of))
    aging = body["aging"]
    record_reads(request, gate.caller, "balance", [{"client_id": client_id}])
    return respond(request, {
        "as_of": body["as_of"], "position": body["position"], "client_id": str(client_id),
        "on": str(day), "currency": body["currency"],
        "balance_minor": body["closing_balance_minor"],
        "open_invoices_minor": aging["total_open_minor"],
        "unapplied_credit_minor": aging["unapplied_credit_minor"]})
