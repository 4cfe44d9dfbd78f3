"""Reports computed from read-model rows (live tables or an as-of replay alike).

Money is integer minor units with its currency; dates are ISO strings in the
JSON. Aging counts days past the invoice's due date (``current`` = not yet
due), in buckets 1–30, 31–60, 61–90 and over 90.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from uuid import UUID

from ledger.domain.errors import ClientNotFoundError
from ledger.domain.money import time_amount
from ledger.domain.rates import billing_rate
from projections.rows import Reader, Row

BUCKETS = ("current_minor", "days_1_30_minor", "days_31_60_minor", "days_61_90_minor",
           "days_over_90_minor")
AGED_BY = "days past due date"


def bucket(days_past_due: int) -> str:
    if days_past_due <= 0:
        return BUCKETS[0]
    if days_past_due <= 30:
        return BUCKETS[1]
    if days_past_due <= 60:
        return BUCKETS[2]
    if days_past_due <= 90:
        return BUCKETS[3]
    return BUCKETS[4]


def _s(value: Any) -> Any:
    return None if value is None else str(value)


def _names(reader: Reader, table: str, key: str, column: str) -> dict[Any, str]:
    return {r[key]: r[column] for r in reader.select(table)}


def existing_client(reader: Reader, client_id: UUID) -> Row:
    """The client's row, or ``client-not-found`` when the books (at T) do not hold it."""
    found = next(iter(reader.select("rm_clients", client_id=client_id)), None)
    if found is None:
        raise ClientNotFoundError("no such client at that moment", field="client_id")
    return found


def invoice_balances(reader: Reader, on: date,
                     client_id: UUID | None = None) -> list[dict[str, Any]]:
    """Every invoice with what was issued, paid, credited, written off and is open."""
    where = {"client_id": client_id} if client_id else {}
    clients = _names(reader, "rm_clients", "client_id", "name")
    matters = _names(reader, "rm_matters", "matter_id", "title")
    out = []
    for r in reader.select("rm_invoices", **where):
        overdue = 0
        if r["status"] == "issued" and r["open_minor"] > 0 and r["due_on"] is not None:
            overdue = max(0, (on - r["due_on"]).days)
        out.append({
            "invoice_id": str(r["invoice_id"]), "number": r["number"],
            "client_id": str(r["client_id"]), "client": clients.get(r["client_id"], ""),
            "matter_id": str(r["matter_id"]), "matter": matters.get(r["matter_id"], ""),
            "status": r["status"], "currency": r["currency"], "issued_on": _s(r["issued_on"]),
            "due_on": _s(r["due_on"]), "total_minor": r["total_minor"],
            "paid_minor": r["paid_minor"], "credited_minor": r["credited_minor"],
            "written_off_minor": r["written_off_minor"], "open_minor": r["open_minor"],
            "days_overdue": overdue})
    out.sort(key=lambda i: (i["number"] or "~", i["invoice_id"]))
    return out


def _aging(lines: list[Row], on: date) -> tuple[dict[str, int], list[dict[str, Any]]]:
    open_by: dict[Any, int] = defaultdict(int)
    info: dict[Any, Row] = {}
    for li in lines:
        if li["invoice_id"] is not None and li["on_date"] <= on:
            open_by[li["invoice_id"]] += li["applied_minor"]
            if li["kind"] == "invoice":
                info[li["invoice_id"]] = li
    sums = dict.fromkeys(BUCKETS, 0)
    detail = []
    for invoice_id, amount in open_by.items():
        inv = info.get(invoice_id)
        if amount == 0 or inv is None:
            continue
        days = (on - inv["due_on"]).days
        sums[bucket(days)] += amount
        detail.append({"invoice_id": str(invoice_id), "number": inv["number"],
                       "matter_id": _s(inv["matter_id"]), "due_on": str(inv["due_on"]),
                       "days_past_due": max(days, 0), "bucket": bucket(days),
                       "open_minor": amount})
    detail.sort(key=lambda d: (d["due_on"], d["number"]))
    return sums, detail


def statement(reader: Reader, client_id: UUID, start: date, end: date) -> dict[str, Any]:
    """Opening balance, the period's lines with a running balance, closing, aging.

    A client the rows do not hold (onboarded after the as-of moment, or never)
    is refused: a zero balance would be a statement about nobody.
    """
    client = existing_client(reader, client_id)
    lines = sorted(reader.select("rm_statement_lines", client_id=client_id),
                   key=lambda li: (li["on_date"], li["position"]))
    opening = sum(li["amount_minor"] for li in lines if li["on_date"] < start)
    balance, shown = opening, []
    for li in lines:
        if not start <= li["on_date"] <= end or li["kind"] == "allocation":
            continue
        balance += li["amount_minor"]
        shown.append({"date": str(li["on_date"]), "kind": li["kind"], "number": li["number"],
                      "invoice_id": _s(li["invoice_id"]), "reference": li["reference"],
                      "amount_minor": li["amount_minor"], "balance_minor": balance})
    sums, detail = _aging(lines, end)
    aged = sum(sums.values())
    return {
        "client_id": str(client_id), "client": client["name"],
        "currency": client["currency"],
        "period": {"start": str(start), "end": str(end)},
        "opening_balance_minor": opening, "lines": shown, "closing_balance_minor": balance,
        "aging": {"on": str(end), "aged_by": AGED_BY, **sums, "total_open_minor": aged,
                  "unapplied_credit_minor": aged - balance, "invoices": detail},
    }


def ar_aging(reader: Reader, on: date) -> dict[str, Any]:
    """Open receivables of every client on a business date, by age."""
    by_client: dict[Any, list[Row]] = defaultdict(list)
    for li in reader.select("rm_statement_lines"):
        by_client[li["client_id"]].append(li)
    clients = {r["client_id"]: r for r in reader.select("rm_clients")}
    rows: list[dict[str, Any]] = []
    totals: dict[str, dict[str, int]] = {}
    for client_id, lines in by_client.items():
        sums, _ = _aging(lines, on)
        currency = clients[client_id]["currency"] if client_id in clients else lines[0]["currency"]
        row = {"client_id": str(client_id),
               "client": clients[client_id]["name"] if client_id in clients else "",
               "currency": currency, **sums, "total_open_minor": sum(sums.values())}
        rows.append(row)
        total = totals.setdefault(currency, dict.fromkeys((*BUCKETS, "total_open_minor"), 0))
        for k in total:
            total[k] += row[k]
    rows.sort(key=lambda r: (r["client"], r["client_id"]))
    return {"on": str(on), "aged_by": AGED_BY, "clients": rows, "totals": totals}


def _rate(reader_rates: dict[tuple[Any, str], list[tuple[date, int]]], defaults: dict[str, int],
          firm_currency: str | None, entry: Row, currency: str) -> int | None:
    """The entry's rate by the domain's one rule, from the read model's copy of the facts."""
    return billing_rate(reader_rates.get((entry["matter_id"], entry["timekeeper_id"]), ()),
                        entry["work_on"], matter_currency=currency, firm_currency=firm_currency,
                        default_rate=lambda: defaults.get(entry["timekeeper_id"]))


def wip(reader: Reader, client_id: UUID | None = None) -> dict[str, Any]:
    """Unbilled billable time and expenses, per matter and timekeeper, priced now."""
    where = {"client_id": client_id} if client_id else {}
    matters = {r["matter_id"]: r for r in reader.select("rm_matters")}
    clients = _names(reader, "rm_clients", "client_id", "name")
    firm = next(iter(reader.select("rm_firm")), None)
    defaults = {r["timekeeper_id"]: r["default_rate_minor_per_hour"]
                for r in reader.select("rm_timekeepers")}
    rates: dict[tuple[Any, str], list[tuple[date, int]]] = defaultdict(list)
    for r in reader.select("rm_rates"):
        rates[(r["matter_id"], r["timekeeper_id"])].append((r["effective_on"],
                                                            r["rate_minor_per_hour"]))
    groups: dict[tuple[Any, str | None], dict[str, Any]] = {}
    for e in reader.select("rm_entries", **where):
        if not e["billable"] or e["voided"] or e["billed_invoice_id"] is not None:
            continue
        matter = matters.get(e["matter_id"], {})
        currency = matter.get("currency", "")
        g = groups.setdefault((e["matter_id"], e["timekeeper_id"]), {
            "matter_id": str(e["matter_id"]), "matter": matter.get("title", ""),
            "client_id": _s(e["client_id"]), "client": clients.get(e["client_id"], ""),
            "timekeeper_id": e["timekeeper_id"], "kind": e["kind"], "currency": currency,
            "entries": 0, "minutes": 0, "value_minor": 0, "unpriced_entries": 0,
            "oldest_work_on": str(e["work_on"])})
        g["entries"] += 1
        g["oldest_work_on"] = min(g["oldest_work_on"], str(e["work_on"]))
        if e["kind"] == "expense":
            g["value_minor"] += e["amount_minor"]
            continue
        g["minutes"] += e["minutes"]
        rate = (_rate(rates, defaults, firm["currency"] if firm else None, e, currency)
                if matter.get("arrangement") == "hourly" else None)
        if rate is None:
            g["unpriced_entries"] += 1
        else:
            g["value_minor"] += time_amount(e["minutes"], rate)
    rows = sorted(groups.values(), key=lambda g: (g["client"], g["matter"], g["matter_id"],
                                                  g["kind"], g["timekeeper_id"] or ""))
    return {"rows": rows, "total_minutes": sum(g["minutes"] for g in rows),
            "totals": _by_currency(rows, "value_minor")}


def _by_currency(rows: list[dict[str, Any]], column: str) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for r in rows:
        out[r["currency"] or ""] += r[column]
    return dict(sorted(out.items()))
