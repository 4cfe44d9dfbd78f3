"""The in-memory store of the unit tests runs the same handlers to the same results as
the chained PostgreSQL store: the domain issue's quarter recorded on both agrees."""

from __future__ import annotations

from typing import Any

from commands.service import BillingService
from ledger.store.memory import MemoryStore
from tests.support.billing import ADMIN
from tests.support.quarter import Quarter, record_quarter


def outcome(svc: BillingService, q: Quarter) -> dict[str, Any]:
    """What the quarter left, without the random ids."""
    invoices = {number: {k: v for k, v in svc.invoice_state(ADMIN, invoice).items()
                         if k != "invoice_id"} for number, invoice in q.invoices.items()}
    clients = [(svc.client_open_balance(ADMIN, c), svc.client_unapplied_credit(ADMIN, c))
               for c in (q.northwind, q.contoso, q.fabrikam)]
    return {"events": svc.event_count(), "invoices": invoices, "clients": clients}


def test_the_quarter_on_memory_equals_the_quarter_on_postgres(service: BillingService) -> None:
    on_postgres = outcome(service, record_quarter(service))
    with BillingService(MemoryStore()) as memory:
        on_memory = outcome(memory, record_quarter(memory))
    assert on_memory == on_postgres
    assert on_postgres["invoices"]["INV-00001"]["total_minor"] == 80_500
