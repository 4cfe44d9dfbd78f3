"""Bank statements of a trust account, their CSV form, and signed reconciliations.

Bank statement CSV (UTF-8, comma-separated, one header line, any column order):

    date,description,amount_minor,reference
    2024-03-04,Deposit RET-001,500000,RET-001
    2024-03-31,Monthly service fee,-1500,FEE-0331

* ``date``: ISO ``YYYY-MM-DD``, within the statement's period;
* ``description``: free text (confidential: stored sealed with the statement);
* ``amount_minor``: signed integer of minor units (credits positive, debits
  negative) - or, instead, ``amount``: a signed decimal string with at most the
  currency's minor digits (``-15.00``), converted to minor units exactly,
  never through a float;
* ``reference``: the cheque number, wire or deposit reference the journal
  entry carries; matching to the journal is by reference and amount.

Opening balance plus the lines must equal the closing balance, or the statement
is refused. The statement's closing date is the event's ``effective_on``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.domain.money import CURRENCY_EXPONENTS
from ledger.domain.trust.errors import (
    TrustPeriodClosedError,
    TrustReconciliationUnbalancedError,
    TrustStatementFormatError,
    TrustStatementNotFoundError,
    TrustStatementUnbalancedError,
)
from ledger.domain.trust.events import (
    BankStatementImported,
    StatementLine,
    TrustReconciliationCompleted,
)
from ledger.domain.trust.reconcile import (
    JournalItem,
    Reconciliation,
    latest_statements,
    reconcile,
)

_DECIMAL = re.compile(r"^([+-]?)(\d{1,15})(?:\.(\d+))?$")


@dataclass(frozen=True)
class ParsedLine:
    on: date
    description: str
    amount_minor: int
    reference: str


def decimal_to_minor(text: str, currency: str) -> int:
    """``"-1234.5"`` in USD → ``-123450``; more decimals than the currency has is an error."""
    found = _DECIMAL.match(text.strip().replace(",", ""))
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    if found is None or len(found.group(3) or "") > exponent:
        raise ValueError(f"not an amount with at most {exponent} decimals")
    sign, whole, frac = str(found.group(1)), str(found.group(2)), str(found.group(3) or "")
    value: int = int(whole) * 10**exponent + int(frac.ljust(exponent, "0") or "0")
    return -value if sign == "-" else value


def parse_statement_csv(text: str, currency: str) -> list[ParsedLine]:
    """The lines of a statement CSV (see the module doc), or the first bad line and why."""
    reader = csv.DictReader(io.StringIO(text))
    columns = set(reader.fieldnames or [])
    amount_column = "amount_minor" if "amount_minor" in columns else "amount"
    missing = {"date", "reference", amount_column} - columns
    if missing:
        raise TrustStatementFormatError(f"missing column(s): {', '.join(sorted(missing))}",
                                        field="csv")
    lines: list[ParsedLine] = []
    for number, row in enumerate(reader, start=2):
        try:
            raw = (row.get(amount_column) or "").strip()
            if amount_column == "amount":
                amount = decimal_to_minor(raw, currency)
            elif re.fullmatch(r"[+-]?\d{1,16}", raw):
                amount = int(raw)
            else:
                raise ValueError("amount_minor must be an integer")
            on = date.fromisoformat((row.get("date") or "").strip())
        except ValueError as exc:
            raise TrustStatementFormatError(f"line {number}: {exc}", field="csv") from None
        reference = (row.get("reference") or "").strip()
        if not reference:
            raise TrustStatementFormatError(f"line {number}: a reference is required",
                                            field="csv")
        lines.append(ParsedLine(on, (row.get("description") or "").strip(), amount,
                                reference))
    return lines


def statement_digest(lines: list[ParsedLine]) -> str:
    """SHA-256 of the lines in a canonical form (ties the event to what was imported)."""
    canonical = "\n".join(f"{ln.on}|{ln.amount_minor}|{ln.reference}|{ln.description}"
                          for ln in lines)
    return hashlib.sha256(canonical.encode()).hexdigest()


class TrustStatements(Aggregate):
    """The statement and reconciliation half of ``TrustAccount`` (balances live there)."""

    moves: dict[str, list[tuple[date, int]]]
    journal: list[JournalItem]

    def __init__(self) -> None:
        self.statements: dict[UUID, BankStatementImported] = {}
        self.closed_through: date | None = None
        self.reconciled: dict[date, UUID] = {}

    def import_statement(self, *, actor: str, statement_id: UUID, period_start: date,
                         period_end: date, opening_balance_minor: int,
                         closing_balance_minor: int, lines: list[ParsedLine]) -> None:
        if self.closed_through is not None and period_end <= self.closed_through:
            raise TrustPeriodClosedError(
                f"the account is reconciled and signed through {self.closed_through}",
                field="statement_date")
        if period_start > period_end:
            raise TrustStatementFormatError("the period starts after it ends",
                                            field="period_start")
        for n, line in enumerate(lines, start=1):
            if not period_start <= line.on <= period_end:
                raise TrustStatementFormatError(f"line {n} is dated outside the period",
                                                field="lines")
        total = opening_balance_minor + sum(ln.amount_minor for ln in lines)
        if total != closing_balance_minor:
            raise TrustStatementUnbalancedError(
                f"opening balance plus the lines is {total}, not the closing balance "
                f"{closing_balance_minor}", field="closing_balance_minor")
        self.trigger_event(
            BankStatementImported, actor=actor, effective_on=period_end,
            statement_id=statement_id, period_start=period_start,
            opening_balance_minor=opening_balance_minor,
            closing_balance_minor=closing_balance_minor,
            lines=tuple(StatementLine(n, ln.on, ln.amount_minor, ln.reference)
                        for n, ln in enumerate(lines, start=1)),
            source_sha256=statement_digest(lines),
            confidential={f"line:{n}": ln.description
                          for n, ln in enumerate(lines, start=1) if ln.description})

    def reconciliation(self, period_end: date) -> tuple[UUID, Reconciliation]:
        """The three-way reconciliation at ``period_end`` from this account's state."""
        statements = latest_statements(self.statements.values())
        ending = [s for s in statements if s.effective_on == period_end]
        if not ending:
            raise TrustStatementNotFoundError(f"no bank statement closes on {period_end}",
                                              field="period_end")
        statement = ending[-1]
        lines = [ln for s in statements if s.effective_on <= period_end for ln in s.lines]

        def at(key: str) -> int:
            return sum(a for d, a in self.moves.get(key, []) if d <= period_end)

        clients = sum(at(k) for k in self.moves if k.startswith("client:"))
        return statement.statement_id, reconcile(
            period_end=period_end, bank_balance_minor=statement.closing_balance_minor,
            journal=self.journal, bank_lines=lines, client_ledgers_minor=clients,
            firm_ledger_minor=at("firm"))

    def complete_reconciliation(self, *, actor: str, effective_on: date,
                                reconciliation_id: UUID, period_end: date) -> Reconciliation:
        if self.closed_through is not None and period_end <= self.closed_through:
            raise TrustPeriodClosedError(
                f"the account is reconciled and signed through {self.closed_through}",
                field="period_end")
        statement_id, rec = self.reconciliation(period_end)
        if not rec.balanced:
            raise TrustReconciliationUnbalancedError(
                f"adjusted bank minus journal is {rec.bank_vs_journal_minor}, journal minus "
                f"ledgers is {rec.journal_vs_ledgers_minor}; explain and record the "
                "differences before signing", field="period_end")
        self.trigger_event(
            TrustReconciliationCompleted, actor=actor, effective_on=effective_on,
            reconciliation_id=reconciliation_id, period_end=period_end,
            statement_id=statement_id, bank_balance_minor=rec.bank_balance_minor,
            deposits_in_transit_minor=rec.deposits_in_transit_minor,
            outstanding_checks_minor=rec.outstanding_checks_minor,
            adjusted_bank_minor=rec.adjusted_bank_minor, journal_minor=rec.journal_minor,
            client_ledgers_minor=rec.client_ledgers_minor,
            firm_ledger_minor=rec.firm_ledger_minor, outstanding_items=rec.outstanding_items,
            status="balanced", signed_by=actor)
        return rec

    def when_statement(self, event: Any) -> None:
        match event:
            case BankStatementImported():
                self.statements[event.statement_id] = event
            case TrustReconciliationCompleted():
                self.reconciled[event.period_end] = event.reconciliation_id
                self.closed_through = max(self.closed_through or event.period_end,
                                          event.period_end)
