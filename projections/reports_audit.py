"""Compliance reports: write-downs and write-offs, access, verification status."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from uuid import UUID

from projections.rows import Reader, Row


def _s(value: Any) -> Any:
    return None if value is None else str(value)


def _group(rows: list[Row], key: str) -> list[dict[str, Any]]:
    sums: dict[tuple[Any, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        s = sums[(r[key], r["kind"], r["currency"] or "")]
        s[0] += 1
        s[1] += r["amount_minor"]
    return [{key: k[0], "kind": k[1], "currency": k[2], "count": v[0], "amount_minor": v[1]}
            for k, v in sorted(sums.items(), key=lambda kv: (str(kv[0][0]), kv[0][1:]))]


def writeoffs(reader: Reader, start: date | None = None,
              end: date | None = None) -> dict[str, Any]:
    """Write-downs (by line's timekeeper) and write-offs (by approver), in a period."""
    rows = [r for r in reader.select("rm_adjustments")
            if (start is None or r["effective_on"] >= start)
            and (end is None or r["effective_on"] <= end)]
    rows.sort(key=lambda r: (r["effective_on"], r["position"]))
    numbers = {r["invoice_id"]: r["number"] for r in reader.select("rm_audit_invoices")}
    listed = [{"position": r["position"], "kind": r["kind"], "date": str(r["effective_on"]),
               "invoice_id": str(r["invoice_id"]),
               "number": r["number"] or numbers.get(r["invoice_id"]),
               "client_id": _s(r["client_id"]), "line_no": r["line_no"],
               "timekeeper_id": r["timekeeper_id"], "approver": r["approver"],
               "recorded_by": r["actor"], "reason": r["reason"],
               "amount_minor": r["amount_minor"], "currency": r["currency"]} for r in rows]
    return {"adjustments": listed, "by_timekeeper": _group(rows, "timekeeper_id"),
            "by_approver": _group(rows, "approver")}


def _active(grant: Row, on: date) -> bool:
    return (grant["granted_on"] <= on
            and (grant["revoked_on"] is None or on < grant["revoked_on"])
            and (grant["expires_on"] is None or on < grant["expires_on"]))


def access(reader: Reader, on: date, client_id: UUID | None = None) -> dict[str, Any]:
    """Grants and revocations, and who could see which client on a business date."""
    clients = {r["client_id"]: r["name"] for r in reader.select("rm_clients")}
    grants = sorted(reader.select("rm_grants"), key=lambda g: g["granted_position"])
    if client_id is not None:
        grants = [g for g in grants if g["client_id"] == client_id]
    listed = [{"grant_id": str(g["grant_id"]), "principal_id": g["principal_id"],
               "scope": g["scope"], "scope_id": str(g["scope_id"]),
               "client_id": _s(g["client_id"]), "client": clients.get(g["client_id"], ""),
               "role": g["role"], "reason": g["reason"], "granted_by": g["granted_by"],
               "granted_on": str(g["granted_on"]), "expires_on": _s(g["expires_on"]),
               "revoked_on": _s(g["revoked_on"]), "revoked_by": g["revoked_by"],
               "revoke_reason": g["revoke_reason"]} for g in grants]
    could_see = sorted(
        ({"client_id": _s(g["client_id"]), "client": clients.get(g["client_id"], ""),
          "principal_id": g["principal_id"], "role": g["role"], "scope": g["scope"],
          "grant_id": str(g["grant_id"])} for g in grants if _active(g, on)),
        key=lambda r: (r["client"], r["principal_id"], r["grant_id"]))
    return {"on": str(on), "grants": listed, "could_see": could_see,
            "note": "firm admins see every client without a grant"}
