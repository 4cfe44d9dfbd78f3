"""Compliance read model: write-downs and write-offs with who approved them, and
every access grant with its revocation.

A write-down is attributed to the timekeeper of the line it reduces and to the
principal who recorded it (pre-bill review); a write-off is invoice-level, so it
has no timekeeper, and names its approver as recorded. Grant and revocation
dates are business dates, so "who could see client C on D" is answered from
the rows for any D.
"""

from __future__ import annotations

from uuid import UUID

from projections import events as ev
from projections.model import ReadModel, table
from projections.rows import Rows

ADJUSTMENTS = table(
    "rm_adjustments", ("position",), ("position", "bigint"), ("kind", "text"),
    ("invoice_id", "uuid"), ("number", "text"), ("client_id", "uuid"), ("matter_id", "uuid"),
    ("line_no", "integer"), ("timekeeper_id", "text"), ("amount_minor", "bigint"),
    ("currency", "text"), ("reason", "text"), ("approver", "text"), ("actor", "text"),
    ("effective_on", "date"), final=lambda _: True)
GRANTS = table(
    "rm_grants", ("grant_id",), ("grant_id", "uuid"), ("principal_id", "text"),
    ("scope", "text"), ("scope_id", "uuid"), ("client_id", "uuid"), ("role", "text"),
    ("reason", "text"), ("granted_by", "text"), ("granted_on", "date"),
    ("expires_on", "date"), ("granted_position", "bigint"), ("revoked_on", "date"),
    ("revoked_by", "text"), ("revoke_reason", "text"), ("revoked_position", "bigint"),
    final=lambda r: r["revoked_on"] is not None)
AUDIT_INVOICES = table(
    "rm_audit_invoices", ("invoice_id",), ("invoice_id", "uuid"), ("client_id", "uuid"),
    ("matter_id", "uuid"), ("currency", "text"), ("number", "text"),
    ("line_timekeepers", "text[]"))
AUDIT_MATTERS = table(
    "rm_audit_matters", ("matter_id",), ("matter_id", "uuid"), ("client_id", "uuid"))


def matter(rows: Rows, pos: int, oid: UUID, e: ev.MatterOpened) -> None:
    rows.put("rm_audit_matters", {"matter_id": oid, "client_id": e.client_id})


def drafted(rows: Rows, pos: int, oid: UUID, e: ev.InvoiceDrafted) -> None:
    rows.put("rm_audit_invoices", {"invoice_id": oid, "client_id": e.client_id,
                                   "matter_id": e.matter_id, "currency": e.currency,
                                   "number": None,
                                   "line_timekeepers": [li.timekeeper_id for li in e.lines]})


def issued(rows: Rows, pos: int, oid: UUID, e: ev.InvoiceIssued) -> None:
    rows.update("rm_audit_invoices", oid, number=e.number)


def _adjustment(rows: Rows, pos: int, oid: UUID, kind: str, e: ev.WrittenDown | ev.WrittenOff,
                *, line_no: int | None, timekeeper_id: str | None, approver: str) -> None:
    inv = rows.get("rm_audit_invoices", oid)
    rows.put("rm_adjustments", {
        "position": pos, "kind": kind, "invoice_id": oid,
        "number": inv["number"] if inv else None,
        "client_id": inv["client_id"] if inv else None,
        "matter_id": inv["matter_id"] if inv else None, "line_no": line_no,
        "timekeeper_id": timekeeper_id, "amount_minor": e.amount_minor,
        "currency": inv["currency"] if inv else None, "reason": e.reason,
        "approver": approver, "actor": e.actor, "effective_on": e.effective_on})


def written_down(rows: Rows, pos: int, oid: UUID, e: ev.WrittenDown) -> None:
    inv = rows.get("rm_audit_invoices", oid)
    keepers: list[str | None] = inv["line_timekeepers"] if inv else []
    keeper = keepers[e.line_no - 1] if 0 < e.line_no <= len(keepers) else None
    _adjustment(rows, pos, oid, "write_down", e, line_no=e.line_no, timekeeper_id=keeper,
                approver=e.actor)


def written_off(rows: Rows, pos: int, oid: UUID, e: ev.WrittenOff) -> None:
    _adjustment(rows, pos, oid, "write_off", e, line_no=None, timekeeper_id=None,
                approver=e.approved_by)


def granted(rows: Rows, pos: int, oid: UUID, e: ev.AccessGranted) -> None:
    client_id: UUID | None = e.scope_id
    if e.scope == "matter":
        found = rows.get("rm_audit_matters", e.scope_id)
        client_id = found["client_id"] if found else None
    rows.put("rm_grants", {
        "grant_id": e.grant_id, "principal_id": e.principal_id, "scope": e.scope,
        "scope_id": e.scope_id, "client_id": client_id, "role": e.role, "reason": e.reason,
        "granted_by": e.actor, "granted_on": e.effective_on, "expires_on": e.expires_on,
        "granted_position": pos, "revoked_on": None, "revoked_by": None,
        "revoke_reason": None, "revoked_position": None})


def revoked(rows: Rows, pos: int, oid: UUID, e: ev.AccessRevoked) -> None:
    rows.update("rm_grants", e.grant_id, revoked_on=e.effective_on, revoked_by=e.actor,
                revoke_reason=e.reason, revoked_position=pos)


AUDIT = ReadModel(
    "audit", (ADJUSTMENTS, GRANTS, AUDIT_INVOICES, AUDIT_MATTERS),
    {ev.MatterOpened: matter, ev.InvoiceDrafted: drafted, ev.InvoiceIssued: issued,
     ev.WrittenDown: written_down, ev.WrittenOff: written_off, ev.AccessGranted: granted,
     ev.AccessRevoked: revoked},
)
