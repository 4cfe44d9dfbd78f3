"""Three-way reconciliation of a trust bank account for a period end.

Pure arithmetic, shared by the command that signs a reconciliation (over the
aggregate's state) and the report (over events folded as of any moment), so
the figures signed are the figures reported.

* The **trust journal** is every receipt (+) and payment (−) of the account
  dated on or before the period end; transfers between matters move no money
  at the bank and are not in it.
* Each journal item is matched to a bank statement line (statements closing on
  or before the period end, lines dated on or before it) with the same
  reference and the same signed amount; each line matches at most one item.
  An item left unmatched then matches a remaining line of the same signed amount
  dated from the item's date to ``MATCH_WINDOW_DAYS`` after it (banks shorten or
  rewrite references; a cheque clears days after it is written). Such matches are
  listed apart (``matched_by_amount_and_date``) so the signer can check each one.
* Unmatched receipts are **deposits in transit**, unmatched payments
  **outstanding checks**; unmatched bank lines are **unrecorded bank items**
  (unidentified funds, unrecorded charges): they are listed and, since nothing
  adjusts for them, show up as a difference.
* ``adjusted bank = bank balance + deposits in transit − outstanding checks``
  must equal the journal balance, which must equal the sum of the client
  ledgers plus the firm's own-funds ledger. Both differences are reported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ledger.domain.trust.events import BankStatementImported, StatementLine

MATCH_WINDOW_DAYS = 10
"""How many days after a journal item its bank line may be dated to match on amount alone."""


@dataclass(frozen=True)
class JournalItem:
    """One line of the trust journal: a signed movement of money at the bank."""

    entry_id: str
    on: date
    kind: str
    amount_minor: int
    reference: str


@dataclass
class Reconciliation:
    period_end: date
    bank_balance_minor: int
    journal_minor: int
    client_ledgers_minor: int
    firm_ledger_minor: int
    deposits_in_transit: list[JournalItem] = field(default_factory=list)
    outstanding_checks: list[JournalItem] = field(default_factory=list)
    unrecorded_bank_items: list[StatementLine] = field(default_factory=list)
    matched_by_amount: list[tuple[JournalItem, StatementLine]] = field(default_factory=list)

    @property
    def deposits_in_transit_minor(self) -> int:
        return sum(i.amount_minor for i in self.deposits_in_transit)

    @property
    def outstanding_checks_minor(self) -> int:
        return -sum(i.amount_minor for i in self.outstanding_checks)

    @property
    def adjusted_bank_minor(self) -> int:
        return (self.bank_balance_minor + self.deposits_in_transit_minor
                - self.outstanding_checks_minor)

    @property
    def ledgers_minor(self) -> int:
        return self.client_ledgers_minor + self.firm_ledger_minor

    @property
    def bank_vs_journal_minor(self) -> int:
        return self.adjusted_bank_minor - self.journal_minor

    @property
    def journal_vs_ledgers_minor(self) -> int:
        return self.journal_minor - self.ledgers_minor

    @property
    def balanced(self) -> bool:
        return self.bank_vs_journal_minor == 0 and self.journal_vs_ledgers_minor == 0

    @property
    def outstanding_items(self) -> int:
        return (len(self.deposits_in_transit) + len(self.outstanding_checks)
                + len(self.unrecorded_bank_items))

    def as_dict(self) -> dict[str, Any]:
        def item(i: JournalItem) -> dict[str, Any]:
            return {"entry_id": i.entry_id, "date": str(i.on), "kind": i.kind,
                    "reference": i.reference, "amount_minor": abs(i.amount_minor)}

        return {
            "period_end": str(self.period_end),
            "bank_balance_minor": self.bank_balance_minor,
            "deposits_in_transit_minor": self.deposits_in_transit_minor,
            "outstanding_checks_minor": self.outstanding_checks_minor,
            "adjusted_bank_minor": self.adjusted_bank_minor,
            "journal_minor": self.journal_minor,
            "client_ledgers_minor": self.client_ledgers_minor,
            "firm_ledger_minor": self.firm_ledger_minor,
            "ledgers_total_minor": self.ledgers_minor,
            "difference_bank_vs_journal_minor": self.bank_vs_journal_minor,
            "difference_journal_vs_ledgers_minor": self.journal_vs_ledgers_minor,
            "balanced": self.balanced,
            "deposits_in_transit": [item(i) for i in self.deposits_in_transit],
            "outstanding_checks": [item(i) for i in self.outstanding_checks],
            "matched_by_amount_and_date": [
                {**item(i), "bank_line_no": ln.line_no, "bank_date": str(ln.on),
                 "bank_reference": ln.reference} for i, ln in self.matched_by_amount],
            "unrecorded_bank_items": [
                {"line_no": ln.line_no, "date": str(ln.on), "reference": ln.reference,
                 "amount_minor": ln.amount_minor} for ln in self.unrecorded_bank_items],
        }


def latest_statements(statements: Iterable[BankStatementImported]
                      ) -> list[BankStatementImported]:
    """One statement per closing date: a later import for the same date supersedes
    (a corrected statement), in closing-date order."""
    by_date = {s.effective_on: s for s in statements}
    return [by_date[day] for day in sorted(by_date)]


def reconcile(*, period_end: date, bank_balance_minor: int, journal: Iterable[JournalItem],
              bank_lines: Iterable[StatementLine], client_ledgers_minor: int,
              firm_ledger_minor: int) -> Reconciliation:
    """Match the journal to the bank's lines and compute the three totals (see module)."""
    items = sorted((i for i in journal if i.on <= period_end), key=lambda i: (i.on, i.entry_id))
    unmatched: dict[tuple[str, int], list[StatementLine]] = defaultdict(list)
    for line in sorted((ln for ln in bank_lines if ln.on <= period_end),
                       key=lambda ln: (ln.on, ln.line_no)):
        unmatched[(line.reference, line.amount_minor)].append(line)
    result = Reconciliation(period_end, bank_balance_minor,
                            sum(i.amount_minor for i in items), client_ledgers_minor,
                            firm_ledger_minor)
    left: list[JournalItem] = []
    for item in items:
        candidates = unmatched.get((item.reference, item.amount_minor))
        if candidates:
            candidates.pop(0)
        else:
            left.append(item)
    remaining = sorted((ln for lines in unmatched.values() for ln in lines),
                       key=lambda ln: (ln.on, ln.line_no))
    for item in left:
        window = item.on + timedelta(days=MATCH_WINDOW_DAYS)
        near = next((ln for ln in remaining if ln.amount_minor == item.amount_minor
                     and item.on <= ln.on <= window), None)
        if near is not None:
            remaining.remove(near)
            result.matched_by_amount.append((item, near))
        elif item.amount_minor >= 0:
            result.deposits_in_transit.append(item)
        else:
            result.outstanding_checks.append(item)
    result.unrecorded_bank_items = remaining
    return result
