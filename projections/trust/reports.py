"""Trust reports computed from ``TrustBooks``: ledgers, journals, trial balance,
three-way reconciliation, evergreen status and exceptions.

All money is integer minor units of the account's currency. ``on`` and
``period_end`` are business dates (entries dated after them are left out);
which events exist at all is decided by the books' ``as_of``. A negative
balance is flagged wherever one could show (the rules make it impossible; the
report does not rely on that).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from ledger.bounds import check_period
from ledger.domain.trust.errors import TrustStatementNotFoundError
from ledger.domain.trust.reconcile import latest_statements, reconcile
from projections.trust.books import Line, TrustBooks

STALE_DAYS = 90


def _running(lines: list[Line]) -> tuple[list[dict[str, Any]], int, bool]:
    balance, shown, negative = 0, [], False
    for ln in lines:
        balance += ln.amount_minor
        negative = negative or balance < 0
        shown.append({**ln.as_dict(), "balance_minor": balance})
    return shown, balance, negative


def client_ledgers(books: TrustBooks, account_id: UUID, on: date,
                   client_id: UUID | None = None) -> dict[str, Any]:
    """Per client (all its matters) and per matter: lines with running balances."""
    by_client: dict[UUID, list[Line]] = defaultdict(list)
    for ln in books.account_lines(account_id, on):
        if ln.client_id is not None and (client_id is None or ln.client_id == client_id):
            by_client[ln.client_id].append(ln)
    clients = []
    for cid, lines in sorted(by_client.items(), key=lambda kv: str(kv[0])):
        shown, balance, negative = _running(lines)
        by_matter: dict[UUID, list[Line]] = defaultdict(list)
        for ln in lines:
            assert ln.matter_id is not None
            by_matter[ln.matter_id].append(ln)
        matters = []
        for mid, mlines in sorted(by_matter.items(), key=lambda kv: str(kv[0])):
            mshown, mbalance, mnegative = _running(mlines)
            matters.append({"matter_id": str(mid), "balance_minor": mbalance,
                            "negative": mnegative, "lines": mshown})
        clients.append({"client_id": str(cid), "client_name": books.client_names.get(cid, ""),
                        "balance_minor": balance, "negative": negative,
                        "lines": shown, "matters": matters})
    return {**books.meta(), "account_id": str(account_id), "on": str(on),
            "currency": books.accounts.get(account_id, {}).get("currency"),
            "clients": clients}


def journals(books: TrustBooks, account_id: UUID, start: date, end: date) -> dict[str, Any]:
    """Receipts (returned deposits as negative receipts), disbursements, and the firm ledger."""
    check_period(start, end, "end")
    receipts, payments = [], []
    for ln in books.account_lines(account_id, end):
        if ln.on < start or not ln.journal_minor:
            continue
        row = {**ln.as_dict(), "amount_minor": abs(ln.journal_minor)}
        if ln.kind == "deposit_reversed":
            receipts.append({**row, "amount_minor": ln.journal_minor})
        elif ln.journal_minor > 0:
            receipts.append(row)
        else:
            payments.append(row)
    firm, firm_balance, _ = _running([ln for ln in books.account_lines(account_id, end)
                                      if ln.client_id is None])
    opening = sum(ln.journal_minor for ln in books.account_lines(account_id, start - timedelta(1))
                  ) if start > date.min else 0
    total_in = sum(r["amount_minor"] for r in receipts)
    total_out = sum(r["amount_minor"] for r in payments)
    return {**books.meta(), "account_id": str(account_id),
            "period": {"start": str(start), "end": str(end)},
            "opening_balance_minor": opening, "receipts": receipts,
            "receipts_total_minor": total_in, "disbursements": payments,
            "disbursements_total_minor": total_out,
            "closing_balance_minor": opening + total_in - total_out,
            "firm_ledger": [f for f in firm if f["date"] >= str(start)],
            "firm_ledger_balance_minor": firm_balance}


def trial_balance(books: TrustBooks, account_id: UUID, on: date) -> dict[str, Any]:
    """Every client and matter balance on ``on``, their sum, the firm ledger, the journal."""
    lines = books.account_lines(account_id, on)
    matters: dict[tuple[UUID, UUID], int] = defaultdict(int)
    for ln in lines:
        if ln.client_id is not None and ln.matter_id is not None:
            matters[(ln.client_id, ln.matter_id)] += ln.amount_minor
    rows = [{"client_id": str(c), "matter_id": str(m), "balance_minor": b, "negative": b < 0}
            for (c, m), b in sorted(matters.items(), key=lambda kv: (str(kv[0][0]),
                                                                      str(kv[0][1])))]
    client_total = sum(matters.values())
    firm = sum(ln.amount_minor for ln in lines if ln.client_id is None)
    journal = sum(ln.journal_minor for ln in lines)
    return {**books.meta(), "account_id": str(account_id), "on": str(on), "matters": rows,
            "client_ledgers_minor": client_total, "firm_ledger_minor": firm,
            "journal_minor": journal,
            "difference_minor": journal - client_total - firm}


def three_way(books: TrustBooks, account_id: UUID, period_end: date) -> dict[str, Any]:
    """The three-way reconciliation at a month end, with the trial balance attached."""
    statements = latest_statements(books.statements.get(account_id, []))
    ending = [s for s in statements if s.effective_on == period_end]
    if not ending:
        raise TrustStatementNotFoundError(f"no bank statement closes on {period_end}",
                                          field="period_end")
    trial = trial_balance(books, account_id, period_end)
    rec = reconcile(
        period_end=period_end, bank_balance_minor=ending[-1].closing_balance_minor,
        journal=books.journal(account_id),
        bank_lines=[ln for s in statements if s.effective_on <= period_end for ln in s.lines],
        client_ledgers_minor=trial["client_ledgers_minor"],
        firm_ledger_minor=trial["firm_ledger_minor"])
    signed = [r for a, r in books.reconciliations if a == account_id
              and r.period_end == period_end]
    return {**books.meta(), "account_id": str(account_id), **rec.as_dict(),
            "statement_id": str(ending[-1].statement_id),
            "signed": None if not signed else {
                "reconciliation_id": str(signed[-1].reconciliation_id),
                "signed_by": signed[-1].signed_by, "signed_on": str(signed[-1].effective_on)},
            "trial_balance": trial["matters"]}


def evergreen(books: TrustBooks, on: date) -> dict[str, Any]:
    """Matters with replenishment requests: floor, balance, shortfall, what came in since."""
    out = []
    latest: dict[tuple[UUID, UUID], Any] = {}
    for account_id, req in books.requests:
        if req.effective_on <= on:
            latest[(account_id, req.matter_id)] = req
    for (account_id, matter_id), req in sorted(latest.items(), key=lambda kv: str(kv[0])):
        lines = [ln for ln in books.account_lines(account_id, on) if ln.matter_id == matter_id]
        balance = sum(ln.amount_minor for ln in lines)
        received = sum(ln.amount_minor for ln in lines
                       if ln.kind in ("deposit", "deposit_reversed")
                       and ln.on >= req.effective_on)
        out.append({"account_id": str(account_id), "client_id": str(req.client_id),
                    "matter_id": str(matter_id), "floor_minor": req.floor_minor,
                    "balance_minor": balance,
                    "shortfall_minor": max(req.floor_minor - balance, 0),
                    "below_floor": balance < req.floor_minor,
                    "request_id": str(req.request_id), "requested_on": str(req.effective_on),
                    "requested_minor": req.requested_minor, "due_on": str(req.due_on),
                    "received_since_minor": received,
                    "request_open": received < req.requested_minor,
                    "overdue": received < req.requested_minor and on > req.due_on})
    return {**books.meta(), "on": str(on), "matters": out}


def exceptions(books: TrustBooks, on: date, stale_days: int = STALE_DAYS) -> dict[str, Any]:
    """What an auditor asks about: negative or stale balances, unidentified funds,
    transfers without timely notice, ``trust`` payments with no trust transfer,
    wires without an authorisation memo, open disputes."""
    negative, stale, unidentified, no_notice, wires = [], [], [], [], []
    cross_client: list[dict[str, Any]] = []
    transfer_payments = set()
    for account_id in books.accounts:
        lines = books.account_lines(account_id, on)
        last: dict[UUID, date] = {}
        balance: dict[UUID, int] = defaultdict(int)
        for ln in lines:
            if ln.matter_id is None:
                continue
            balance[ln.matter_id] += ln.amount_minor
            last[ln.matter_id] = ln.on
            if balance[ln.matter_id] < 0:
                negative.append({**ln.as_dict(), "balance_minor": balance[ln.matter_id]})
            if ln.kind == "transfer_out" and ln.detail.get("cross_client"):
                cross_client.append({"account_id": str(account_id), **ln.as_dict()})
            if ln.kind == "transfer_to_operating":
                transfer_payments.add(ln.detail.get("payment_id"))
                if ln.detail.get("client_notice_sent_on", "9999") > str(ln.on):
                    no_notice.append(ln.as_dict())
            if ln.kind == "disbursement" and ln.detail.get("method") == "wire" and not (
                    ln.detail.get("authorisation_memo")):
                wires.append(ln.as_dict())
        for matter_id, amount in balance.items():
            if amount != 0 and (on - last[matter_id]).days > stale_days:
                stale.append({"account_id": str(account_id), "matter_id": str(matter_id),
                              "balance_minor": amount, "last_activity_on": str(last[matter_id]),
                              "idle_days": (on - last[matter_id]).days})
        try:
            statement_dates = [s.effective_on for s in books.statements.get(account_id, [])
                               if s.effective_on <= on]
            if statement_dates:
                rec = three_way(books, account_id, max(statement_dates))
                unidentified += [{"account_id": str(account_id), **item}
                                 for item in rec["unrecorded_bank_items"]
                                 if item["amount_minor"] > 0]
        except TrustStatementNotFoundError:
            pass
    untransferred = [{"payment_id": str(pid), "client_id": str(p.client_id),
                      "amount_minor": p.amount_minor, "received_on": str(p.effective_on)}
                     for pid, p in books.trust_payments.items()
                     if p.effective_on <= on and str(pid) not in transfer_payments]
    disputes = [d for d in books.disputes.values()
                if d["disputed_on"] <= str(on) and (d["resolved_on"] or "9999") > str(on)]
    return {**books.meta(), "on": str(on), "stale_after_days": stale_days,
            "negative_balances": negative, "stale_balances": stale,
            "unidentified_funds": unidentified, "transfers_without_notice": no_notice,
            "trust_payments_without_transfer": untransferred,
            "wires_without_authorisation": wires, "open_disputes": disputes,
            "transfers_between_clients": cross_client}


def signers(books: TrustBooks, account_id: UUID) -> dict[str, Any]:
    """The account's current authorised signers (who added them and when)."""
    current = books.signers.get(account_id, {})
    return {**books.meta(), "account_id": str(account_id),
            "signers": sorted(current.values(), key=lambda s: s["principal_id"])}
