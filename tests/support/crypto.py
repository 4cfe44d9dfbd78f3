"""A small book of two clients with known confidential values, for the crypto tests.

Each plaintext is a string that appears nowhere else, so finding its bytes
anywhere (event table, logs, error messages) means it leaked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from commands import models as m
from commands.service import BillingService
from tests.support.billing import ADMIN, key


@dataclass
class ClientBook:
    client_id: UUID
    matter_id: UUID
    invoice_id: UUID
    entry_id: UUID
    plaintexts: dict[str, str] = field(default_factory=dict)


def secrets_of(tag: str) -> dict[str, str]:
    return {
        "name": f"Quillfeather {tag} Maritime Ltd",
        "billing_contact": f"ap-{tag.lower()}@quillfeather.example",
        "title": f"Quillfeather {tag} v. Harbour Board",
        "narrative": f"Drafted the Quillfeather {tag} settlement memo",
        "description": f"Courier to Quillfeather {tag} chambers",
    }


def record_client(svc: BillingService, tag: str) -> ClientBook:
    s = secrets_of(tag)
    client_id = UUID(str(svc.onboard_client(ADMIN, m.OnboardClient(
        idempotency_key=key(), name=s["name"], billing_contact=s["billing_contact"],
        currency="USD", payment_terms_days=30, effective_on=date(2024, 1, 2)))["client_id"]))
    matter_id = UUID(str(svc.open_matter(ADMIN, m.OpenMatter(
        idempotency_key=key(), client_id=client_id, title=s["title"],
        opened_on=date(2024, 1, 3)))["matter_id"]))
    entry_id = UUID(str(svc.log_time(ADMIN, m.LogTime(
        idempotency_key=key(), matter_id=matter_id, timekeeper_id="PA",
        work_on=date(2024, 1, 10), minutes=90, narrative=s["narrative"]))["entry_id"]))
    svc.log_expense(ADMIN, m.LogExpense(
        idempotency_key=key(), matter_id=matter_id, spent_on=date(2024, 1, 11),
        description=s["description"], amount_minor=4_250, currency="USD"))
    invoice_id = UUID(str(svc.draft_invoice(ADMIN, m.DraftInvoice(
        idempotency_key=key(), matter_id=matter_id, period_start=date(2024, 1, 1),
        period_end=date(2024, 1, 31), drafted_on=date(2024, 1, 31)))["invoice_id"]))
    svc.issue_invoice(ADMIN, m.IssueInvoice(idempotency_key=key(), invoice_id=invoice_id,
                                            issued_on=date(2024, 1, 31)))
    svc.record_payment(ADMIN, m.RecordPayment(
        idempotency_key=key(), client_id=client_id, amount_minor=10_000, currency="USD",
        method="wire", reference="WIRE-7", received_on=date(2024, 2, 5),
        allocations=(m.Allocation(invoice_id=invoice_id, amount_minor=10_000),)))
    return ClientBook(client_id, matter_id, invoice_id, entry_id, s)
