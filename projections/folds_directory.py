"""The directory read model: firm, timekeepers, clients, matters, rates, and which
client each aggregate belongs to.

``rm_originators`` is what makes an as-of report for one client cheap: it maps
every client-owned aggregate (client, matter, invoice, payment) to its client
and the position where it began, so the replay reads only that client's events
through the event table's primary key instead of scanning the whole log.
"""

from __future__ import annotations

from uuid import UUID

from projections import events as ev
from projections.model import ReadModel, table
from projections.rows import Rows

FIRM_KEY = "firm"

FIRM = table("rm_firm", ("key",), ("key", "text"), ("currency", "text"))
TIMEKEEPERS = table(
    "rm_timekeepers", ("timekeeper_id",), ("timekeeper_id", "text"), ("name", "text"),
    ("title", "text"), ("default_rate_minor_per_hour", "bigint"), ("registered_on", "date"))
CLIENTS = table(
    "rm_clients", ("client_id",), ("client_id", "uuid"), ("currency", "text"),
    ("payment_terms_days", "integer"), ("name", "text"), ("billing_contact", "text"),
    ("onboarded_on", "date"))
MATTERS = table(
    "rm_matters", ("matter_id",), ("matter_id", "uuid"), ("client_id", "uuid"),
    ("currency", "text"), ("arrangement", "text"), ("utbms", "boolean"), ("title", "text"),
    ("opened_on", "date"), ("closed_on", "date"))
RATES = table(
    "rm_rates", ("matter_id", "timekeeper_id", "effective_on"), ("matter_id", "uuid"),
    ("timekeeper_id", "text"), ("effective_on", "date"), ("rate_minor_per_hour", "bigint"))
ORIGINATORS = table(
    "rm_originators", ("originator_id",), ("originator_id", "uuid"), ("client_id", "uuid"),
    ("kind", "text"), ("first_position", "bigint"), final=lambda _: True,
    indexes=("client_id",))


def _owned(rows: Rows, oid: UUID, client_id: UUID, kind: str, pos: int) -> None:
    rows.put("rm_originators", {"originator_id": oid, "client_id": client_id, "kind": kind,
                                "first_position": pos})


def firm_set_up(rows: Rows, pos: int, oid: UUID, e: ev.FirmSetUp) -> None:
    rows.put("rm_firm", {"key": FIRM_KEY, "currency": e.currency})


def timekeeper(rows: Rows, pos: int, oid: UUID, e: ev.TimekeeperRegistered) -> None:
    rows.put("rm_timekeepers", {
        "timekeeper_id": e.timekeeper_id, "name": e.name, "title": e.title,
        "default_rate_minor_per_hour": e.default_rate_minor_per_hour,
        "registered_on": e.effective_on})


def client(rows: Rows, pos: int, oid: UUID, e: ev.ClientOnboarded) -> None:
    rows.put("rm_clients", {
        "client_id": oid, "currency": e.currency, "payment_terms_days": e.payment_terms_days,
        "name": e.confidential.get("name", ""),
        "billing_contact": e.confidential.get("billing_contact", ""),
        "onboarded_on": e.effective_on})
    _owned(rows, oid, oid, "client", pos)


def matter(rows: Rows, pos: int, oid: UUID, e: ev.MatterOpened) -> None:
    rows.put("rm_matters", {
        "matter_id": oid, "client_id": e.client_id, "currency": e.currency,
        "arrangement": e.arrangement.kind, "utbms": e.utbms,
        "title": e.confidential.get("title", ""), "opened_on": e.effective_on,
        "closed_on": None})
    _owned(rows, oid, e.client_id, "matter", pos)


def matter_closed(rows: Rows, pos: int, oid: UUID, e: ev.MatterClosed) -> None:
    rows.update("rm_matters", oid, closed_on=e.effective_on)


def rate(rows: Rows, pos: int, oid: UUID, e: ev.RateSet) -> None:
    rows.put("rm_rates", {"matter_id": oid, "timekeeper_id": e.timekeeper_id,
                          "effective_on": e.effective_on,
                          "rate_minor_per_hour": e.rate_minor_per_hour})


def invoice(rows: Rows, pos: int, oid: UUID, e: ev.InvoiceDrafted) -> None:
    _owned(rows, oid, e.client_id, "invoice", pos)


def payment(rows: Rows, pos: int, oid: UUID, e: ev.PaymentReceived) -> None:
    _owned(rows, oid, e.client_id, "payment", pos)


DIRECTORY = ReadModel(
    "directory", (FIRM, TIMEKEEPERS, CLIENTS, MATTERS, RATES, ORIGINATORS),
    {ev.FirmSetUp: firm_set_up, ev.TimekeeperRegistered: timekeeper,
     ev.ClientOnboarded: client, ev.MatterOpened: matter, ev.MatterClosed: matter_closed,
     ev.RateSet: rate, ev.InvoiceDrafted: invoice, ev.PaymentReceived: payment},
)
