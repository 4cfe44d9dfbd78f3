"""Property-based: no sequence of trust commands makes a client's or matter's
trust balance negative (on any business date), and the three-way
reconciliation always shows exactly the difference between its totals.

Each example opens a fresh trust account with fresh clients and matters on one
firm ledger, runs random commands (refusals are expected and must record
nothing), keeps its own model of what was accepted, then imports a bank
statement that clears a random part of the journal (plus, sometimes, a bank
line nobody recorded) and compares the report with the model.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.service import BillingService
from commands.trust import models as t
from ledger.errors import LedgerError
from projections.trust import reports as r
from projections.trust.books import load_books
from tests.support.billing import ADMIN, key, set_up_firm
from tests.support.trust import (
    bank_charge,
    d,
    deposit,
    disburse,
    firm_funds,
    onboard,
    open_matter,
    open_signed_account,
    statement,
)

KINDS = ["deposit"] * 4 + ["disburse"] * 4 + ["move", "reverse", "firm", "charge", "dispute",
                                                "resolve"]
operation = st.tuples(st.sampled_from(KINDS), st.integers(0, 5), st.integers(0, 5),
                      st.integers(1, 80_000), st.integers(1, 28))
_refs = itertools.count()


class Run:
    def __init__(self, svc: BillingService) -> None:
        self.svc = svc
        self.account = open_signed_account(svc, cushion=5_000)
        self.clients = [onboard(svc, "Alpha"), onboard(svc, "Beta")]
        self.matters = [(c, open_matter(svc, c)) for c in self.clients for _ in range(2)]
        self.deposits: list[tuple[UUID, str, int, UUID]] = []
        self.disputes: list[str] = []
        self.journal: list[tuple[str, int, date]] = []
        self.matter_balance: dict[UUID, int] = {mt: 0 for _, mt in self.matters}
        self.firm = 0

    def step(self, kind: str, i: int, j: int, amount: int, day: int) -> None:
        svc, acc, on = self.svc, self.account, d(3, day)
        client, mt = self.matters[i % 4]
        ref = f"R{next(_refs)}"
        if kind == "deposit":
            dep = deposit(svc, acc, client, mt, amount, on, ref)
            self.deposits.append((dep, ref, amount, mt))
            self._moved(mt, amount, ref, on)
        elif kind == "disburse":
            disburse(svc, acc, client, mt, amount, on, ref)
            self._moved(mt, -amount, ref, on)
        elif kind == "move":
            _, to = self.matters[j % 4]
            svc.transfer_trust_between_matters(ADMIN, t.TransferTrustBetweenMatters(
                idempotency_key=key(), account_id=acc, from_matter_id=mt, to_matter_id=to,
                amount_minor=amount, client_consent_ref=ref, consent_on=on,
                transferred_on=on))
            self.matter_balance[mt] -= amount
            self.matter_balance[to] += amount
        elif kind == "reverse" and self.deposits:
            dep, dep_ref, dep_amount, matter = self.deposits[j % len(self.deposits)]
            svc.reverse_trust_deposit(ADMIN, t.ReverseTrustDeposit(
                idempotency_key=key(), account_id=acc, deposit_id=dep, reason="returned NSF",
                reversed_on=on))
            self._moved(matter, -dep_amount, dep_ref, on)
        elif kind == "firm":
            firm_funds(svc, acc, amount % 6_000 + 1, on, ref)
            self.firm += amount % 6_000 + 1
            self.journal.append((ref, amount % 6_000 + 1, on))
        elif kind == "charge":
            bank_charge(svc, acc, amount % 3_000 + 1, on, ref)
            self.firm -= amount % 3_000 + 1
            self.journal.append((ref, -(amount % 3_000 + 1), on))
        elif kind == "dispute":
            result = svc.dispute_trust_funds(ADMIN, t.DisputeTrustFunds(
                idempotency_key=key(), account_id=acc, matter_id=mt, amount_minor=amount,
                reason="fee disputed", disputed_on=on))
            self.disputes.append(str(result["dispute_id"]))
        elif kind == "resolve" and self.disputes:
            svc.resolve_trust_dispute(ADMIN, t.ResolveTrustDispute(
                idempotency_key=key(), account_id=acc,
                dispute_id=UUID(self.disputes.pop(j % len(self.disputes))),
                resolution="agreed", resolved_on=on))

    def _moved(self, matter: UUID, amount: int, ref: str, on: date) -> None:
        self.matter_balance[matter] += amount
        self.journal.append((ref, amount, on))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(operations=st.lists(operation, min_size=1, max_size=14),
       cleared=st.lists(st.booleans(), min_size=40, max_size=40),
       stray=st.sampled_from([0, 0, 0, 700, -300]))
def test_balances_never_negative_and_differences_always_shown(
        service: BillingService, operations: list[Any], cleared: list[bool],
        stray: int) -> None:
    if not getattr(service, "_trust_firm_ready", False):
        set_up_firm(service)
        service._trust_firm_ready = True  # type: ignore[attr-defined]
    run = Run(service)
    for kind, i, j, amount, day in operations:
        before = service.event_count()
        try:
            run.step(kind, i, j, amount, day)
        except LedgerError:
            assert service.event_count() == before, f"refused {kind} recorded events"

    books = load_books(service.store)
    ledgers = r.client_ledgers(books, run.account, d(3, 31))
    for c in ledgers["clients"]:
        assert not c["negative"] and all(not mt["negative"] for mt in c["matters"])
        assert all(ln["balance_minor"] >= 0 for ln in c["lines"])
    balances = {UUID(mt["matter_id"]): mt["balance_minor"]
                for c in ledgers["clients"] for mt in c["matters"]}
    assert {k: v for k, v in run.matter_balance.items() if v or k in balances} == {
        k: balances.get(k, 0) for k, v in run.matter_balance.items() if v or k in balances}

    lines, in_transit, outstanding = [], 0, 0
    for n, (ref, amount, on) in enumerate(run.journal):
        if cleared[n % len(cleared)]:
            lines.append(f"{on},Cleared,{amount},{ref}")
        elif amount > 0:
            in_transit += amount
        else:
            outstanding -= amount
    if stray:
        lines.append(f"2024-03-30,Unknown,{stray},STRAY")
    closing = sum(int(ln.split(",")[2]) for ln in lines)
    csv_text = "date,description,amount_minor,reference\n" + "\n".join(lines) + "\n"
    statement(service, run.account, d(3, 1), d(3, 31), 0, closing, csv_text)

    rec = r.three_way(load_books(service.store), run.account, d(3, 31))
    journal = sum(a for _, a, _ in run.journal)
    assert rec["journal_minor"] == journal
    assert rec["client_ledgers_minor"] == sum(run.matter_balance.values())
    assert rec["firm_ledger_minor"] == run.firm
    assert rec["bank_balance_minor"] == closing
    assert rec["deposits_in_transit_minor"] == in_transit
    assert rec["outstanding_checks_minor"] == outstanding
    assert rec["adjusted_bank_minor"] == closing + in_transit - outstanding
    assert rec["difference_bank_vs_journal_minor"] == rec["adjusted_bank_minor"] - journal
    assert rec["difference_journal_vs_ledgers_minor"] == journal - rec["ledgers_total_minor"]
    assert rec["difference_bank_vs_journal_minor"] == stray
    assert rec["balanced"] == (stray == 0)
    assert [i["amount_minor"] for i in rec["unrecorded_bank_items"]] == ([stray] if stray else [])
