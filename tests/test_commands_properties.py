"""Property-based: whatever the order of commands, money always adds up and no
entry is billed twice. Each example runs a random command sequence against the
real ledger (a fresh client and matter per example), accepting refusals but
checking that a refusal records nothing.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from commands import models as m
from commands.service import BillingService
from ledger.errors import LedgerError
from tests.support.billing import (
    ADMIN,
    client,
    draft,
    issue,
    key,
    log,
    matter,
    pay,
    set_up_firm,
    timekeeper,
)

START = date(2024, 1, 1)
KINDS = ["log"] * 3 + ["expense", "draft", "draft"] + ["issue"] * 3 + ["pay"] * 2 + [
    "allocate"] * 4 + ["write_off", "credit", "void", "write_down", "correct"]
operation = st.tuples(st.sampled_from(KINDS), st.integers(0, 50), st.integers(0, 50),
                      st.integers(1, 90_000))


class Run:
    """One example's client, matter, and what was created so far.

    Each run works in its own fortnight so that the timekeepers' daily cap,
    which is firm-wide, is not used up by earlier examples.
    """

    runs = itertools.count()

    def __init__(self, svc: BillingService) -> None:
        self.svc = svc
        self.start = START + timedelta(days=14 * next(self.runs))
        self.client = client(svc)
        self.matter = matter(svc, self.client, m.HourlyTerms(increment_minutes=15))
        self.entries: list[UUID] = []
        self.invoices: list[UUID] = []
        self.payments: list[UUID] = []
        self.issued: list[UUID] = []

    def pick(self, items: list[UUID], index: int) -> UUID | None:
        return items[index % len(items)] if items else None

    def apply(self, kind: str, a: int, b: int, amount: int) -> None:
        """Run one command; picks drafts for draft-only commands and issued invoices
        for settlements, so that most commands get past the obvious refusals."""
        svc, day = self.svc, self.start + timedelta(days=a % 10)
        drafts = [i for i in self.invoices if i not in self.issued]
        if kind == "log":
            self.entries.append(log(svc, self.matter, "AB" if b % 2 else "CD", day,
                                    1 + amount % 600))
        elif kind == "expense":
            svc.log_expense(ADMIN, m.LogExpense(
                idempotency_key=key(), matter_id=self.matter, spent_on=day,
                description="Disbursement", amount_minor=amount, currency="USD"))
        elif kind == "draft":
            first = self.start if b % 2 else day
            self.invoices.append(draft(svc, self.matter, first, day + timedelta(days=b % 10)))
        elif kind == "pay":
            self.payments.append(pay(svc, self.client, amount, day))
        elif kind == "correct" and (entry := self.pick(self.entries, b)) is not None:
            svc.correct_time(ADMIN, m.CorrectTime(
                idempotency_key=key(), matter_id=self.matter, entry_id=entry,
                minutes=1 + amount % 300, reason="corrected", corrected_on=day))
        elif kind in ("issue", "write_down") and (invoice := self.pick(drafts, a)):
            if kind == "issue":
                issue(svc, invoice, day)
                self.issued.append(invoice)
            else:
                svc.write_down(ADMIN, m.WriteDown(
                    idempotency_key=key(), invoice_id=invoice, line_no=1 + b % 3,
                    amount_minor=amount, reason="review", written_down_on=day))
        elif (invoice := self.pick(self.issued, a)) is None:
            return
        elif kind == "allocate" and (payment := self.pick(self.payments, b)) is not None:
            svc.allocate_payment(ADMIN, m.AllocatePayment(
                idempotency_key=key(), payment_id=payment, allocated_on=day,
                allocations=(m.Allocation(invoice_id=invoice,
                                          amount_minor=1 + amount % 40_000),)))
        elif kind == "write_off":
            svc.write_off(ADMIN, m.WriteOff(idempotency_key=key(), invoice_id=invoice,
                                            amount_minor=amount, reason="uncollectible",
                                            approved_by="partner", written_off_on=day))
        elif kind == "credit":
            svc.issue_credit_note(ADMIN, m.IssueCreditNote(
                idempotency_key=key(), invoice_id=invoice, amount_minor=amount,
                reason="goodwill", issued_on=day))
        elif kind == "void":
            svc.void_invoice(ADMIN, m.VoidInvoice(idempotency_key=key(), invoice_id=invoice,
                                                  reason="in error", voided_on=day))


def check_money_adds_up(run: Run) -> None:
    svc = run.svc
    invoices = svc.invoices(ADMIN, run.client)
    payments = svc.payments(ADMIN, run.client)
    billed: Counter[str] = Counter()
    for inv in invoices:
        assert inv.lines_total_minor == sum(li.amount_minor - li.written_down_minor
                                            for li in inv.lines)
        assert all(li.written_down_minor <= li.amount_minor for li in inv.lines)
        if inv.number is None:  # never issued: a draft, or a draft voided
            assert inv.paid_minor == inv.credited_minor == inv.written_off_minor == 0
            continue
        billed.update(li.source_id for li in inv.lines)
        assert inv.total_minor == inv.lines_total_minor
        settled = inv.paid_minor + inv.credited_minor + inv.written_off_minor
        assert 0 <= settled <= inv.total_minor
        if inv.status == "issued":
            assert inv.open_balance_minor == inv.total_minor - settled >= 0
        else:
            assert inv.paid_minor == 0
    assert all(count == 1 for count in billed.values()), "an entry was billed twice"
    for payment in payments:
        assert 0 <= payment.allocated_minor <= payment.amount_minor
    per_invoice: Counter[UUID] = Counter()
    for payment in payments:
        per_invoice.update(payment.allocations)
    assert {inv.id: inv.paid_minor for inv in invoices if inv.paid_minor} == dict(per_invoice)
    received = sum(p.amount_minor for p in payments)
    assert received == sum(i.paid_minor for i in invoices) + svc.client_unapplied_credit(
        ADMIN, run.client)
    assert svc.client_open_balance(ADMIN, run.client) == sum(
        i.total_minor - i.paid_minor - i.credited_minor - i.written_off_minor
        for i in invoices if i.status == "issued")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.tuples(
    st.lists(st.tuples(st.just("log"), st.integers(0, 50), st.integers(0, 50),
                       st.integers(1, 90_000)), min_size=1, max_size=4),
    st.lists(operation, min_size=8, max_size=30)).map(lambda parts: parts[0] + parts[1]))
def test_money_always_adds_up_whatever_the_order(
    service: BillingService, operations: list[tuple[str, int, int, int]],
) -> None:
    if service.event_count() == 0:
        set_up_firm(service)
        timekeeper(service, "AB", 25_000)
        timekeeper(service, "CD", 17_500)
    run = Run(service)
    for op in operations:
        before = service.event_count()
        try:
            run.apply(*op)
        except LedgerError:
            assert service.event_count() == before, f"refused {op[0]} recorded events"
    check_money_adds_up(run)
    issued = [i for i in service.invoices(ADMIN, run.client) if i.number is not None]
    event(f"issued invoices: {min(len(issued), 3)}+")
    event(f"invoices with payments: {min(sum(1 for i in issued if i.paid_minor), 2)}+")


def test_allocations_race_but_never_overdraw(service: BillingService) -> None:
    """Many small allocations of one payment to one invoice, in threads: the sums hold."""
    from tests.support.threads import run_together

    set_up_firm(service)
    timekeeper(service, "AB", 30_000)
    run = Run(service)
    log(service, run.matter, "AB", START, 60)  # 300.00
    invoice = draft(service, run.matter, START, START)
    issue(service, invoice, START)
    payment = pay(service, run.client, 25_000, START)

    def allocate(amount: int) -> Any:
        return service.allocate_payment(ADMIN, m.AllocatePayment(
            idempotency_key=key(), payment_id=payment, allocated_on=START,
            allocations=(m.Allocation(invoice_id=invoice, amount_minor=amount),)))

    results = run_together([lambda: allocate(4_000)] * 6 + [lambda: allocate(9_000)] * 2)
    done = [r for r in results if not isinstance(r, Exception)]
    assert all(isinstance(r, LedgerError) for r in results if isinstance(r, Exception))
    check_money_adds_up(run)
    state = service.invoice_state(ADMIN, invoice)
    assert state["paid_minor"] == 25_000 - service.client_unapplied_credit(ADMIN, run.client)
    assert len(done) >= 3  # 25,000 fits at least three of the allocations
