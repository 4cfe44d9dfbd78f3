"""Bank lines match journal items by reference, or else by amount within a date window:
a bank that rewrites a deposit's reference does not leave the month unbalanced."""

from __future__ import annotations

from datetime import date

from ledger.domain.trust.events import StatementLine
from ledger.domain.trust.reconcile import MATCH_WINDOW_DAYS, JournalItem, reconcile


def d(day: int) -> date:
    return date(2024, 3, day)


def test_an_item_matches_a_line_of_its_amount_within_the_window() -> None:
    journal = [JournalItem("dep", d(4), "deposit", 100_000, "DEP-A1"),
               JournalItem("chk", d(5), "disbursement", -40_000, "CHK-1001"),
               JournalItem("late", d(6), "deposit", 7_000, "DEP-B1")]
    lines = [StatementLine(1, d(6), 100_000, "DEPOSIT 4471"),  # reference rewritten
             StatementLine(2, d(9), -40_000, "1001"),
             StatementLine(3, d(6 + MATCH_WINDOW_DAYS + 1), 7_000, "DEP 88")]  # too late
    rec = reconcile(period_end=d(31), bank_balance_minor=67_000, journal=journal,
                    bank_lines=lines, client_ledgers_minor=67_000, firm_ledger_minor=0)
    report = rec.as_dict()
    assert [(m["entry_id"], m["bank_line_no"]) for m in report[
        "matched_by_amount_and_date"]] == [("dep", 1), ("chk", 2)]
    assert [i.entry_id for i in rec.deposits_in_transit] == ["late"]
    assert [ln.line_no for ln in rec.unrecorded_bank_items] == [3]
    assert rec.outstanding_checks == []


def test_a_reference_match_comes_first_and_a_line_is_used_once() -> None:
    journal = [JournalItem("a", d(4), "deposit", 5_000, "DEP-1"),
               JournalItem("b", d(4), "deposit", 5_000, "DEP-2")]
    lines = [StatementLine(1, d(4), 5_000, "DEP-2")]
    rec = reconcile(period_end=d(31), bank_balance_minor=5_000, journal=journal,
                    bank_lines=lines, client_ledgers_minor=10_000, firm_ledger_minor=0)
    assert rec.matched_by_amount == []
    assert [i.entry_id for i in rec.deposits_in_transit] == ["a"]
    assert rec.balanced
