"""Helpers shared by the trust tests: a firm with a trust account, clients and matters."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from commands import models as m
from commands.service import BillingService
from commands.trust import models as t
from tests.support.billing import ADMIN, key, set_up_firm, timekeeper


def d(month: int, day: int) -> date:
    return date(2024, month, day)


def open_account(svc: BillingService, *, cushion: int = 10_000) -> UUID:
    result = svc.open_trust_account(ADMIN, t.OpenTrustAccount(
        idempotency_key=key(), bank="First Bank", account_number="000123456789",
        currency="USD", iolta=True, jurisdiction="US-AZ",
        bank_charge_cushion_minor=cushion, opened_on=d(3, 1)))
    return UUID(str(result["account_id"]))


def onboard(svc: BillingService, name: str) -> UUID:
    result = svc.onboard_client(ADMIN, m.OnboardClient(
        idempotency_key=key(), name=name, billing_contact=f"ap@{name.lower()}.example",
        currency="USD", payment_terms_days=30, effective_on=d(1, 2)))
    return UUID(str(result["client_id"]))


def open_matter(svc: BillingService, client_id: UUID, arrangement: Any = None) -> UUID:
    result = svc.open_matter(ADMIN, m.OpenMatter(
        idempotency_key=key(), client_id=client_id, title="Confidential matter title",
        arrangement=arrangement or m.HourlyTerms(), opened_on=d(1, 3)))
    return UUID(str(result["matter_id"]))


def add_signer(svc: BillingService, account: UUID, principal: str, *,
               firm_admin: bool = False) -> None:
    svc.add_trust_signer(ADMIN, t.AddTrustSigner(
        idempotency_key=key(), account_id=account, principal_id=principal,
        firm_admin=firm_admin, added_on=d(3, 1)))


def open_signed_account(svc: BillingService, *, cushion: int = 10_000) -> UUID:
    """An account whose signers are the test admin (a firm admin) and ``partner@firm``."""
    account = open_account(svc, cushion=cushion)
    add_signer(svc, account, ADMIN.id, firm_admin=True)
    add_signer(svc, account, "partner@firm")
    return account


def firm_with_trust(svc: BillingService) -> dict[str, Any]:
    set_up_firm(svc)
    timekeeper(svc, "AB", 30_000)
    acme = onboard(svc, "Acme")
    baker = onboard(svc, "Baker")
    return {"svc": svc, "account": open_signed_account(svc), "acme": acme, "baker": baker,
            "a1": open_matter(svc, acme), "a2": open_matter(svc, acme),
            "b1": open_matter(svc, baker)}


def deposit(svc: BillingService, account: UUID, client: UUID, matter: UUID, amount: int,
            on: date, reference: str, purpose: str = "retainer", who: Any = ADMIN) -> UUID:
    result = svc.record_trust_deposit(who, t.RecordTrustDeposit(
        idempotency_key=key(), account_id=account, client_id=client, matter_id=matter,
        amount_minor=amount, currency="USD", payor="Payor Person", purpose=purpose,  # type: ignore[arg-type]
        reference=reference, received_on=on))
    return UUID(str(result["deposit_id"]))


def disburse(svc: BillingService, account: UUID, client: UUID, matter: UUID, amount: int,
             on: date, reference: str, *, method: str = "check", memo: str | None = None,
             who: Any = ADMIN) -> UUID:
    result = svc.record_trust_disbursement(who, t.RecordTrustDisbursement(
        idempotency_key=key(), account_id=account, client_id=client, matter_id=matter,
        amount_minor=amount, currency="USD", payee="Payee Person", purpose="paid on behalf",
        method=method, reference=reference, authorised_by="partner@firm",  # type: ignore[arg-type]
        authorisation_memo=memo, paid_on=on))
    return UUID(str(result["disbursement_id"]))


def transfer(svc: BillingService, account: UUID, matter: UUID, amount: int, on: date,
             reference: str, *, invoice: UUID | None = None,
             notice_on: date | None = None) -> Any:
    return svc.transfer_trust_to_operating(ADMIN, t.TransferTrustToOperating(
        idempotency_key=key(), account_id=account, matter_id=matter, amount_minor=amount,
        invoice_id=invoice, reference=reference, client_notice_sent_on=notice_on or on,
        notice_reference=f"NOTICE-{reference}", transferred_on=on))


def firm_funds(svc: BillingService, account: UUID, amount: int, on: date, ref: str) -> None:
    svc.deposit_firm_funds(ADMIN, t.DepositFirmFunds(
        idempotency_key=key(), account_id=account, amount_minor=amount, reference=ref,
        deposited_on=on))


def bank_charge(svc: BillingService, account: UUID, amount: int, on: date, ref: str) -> None:
    svc.record_bank_charge(ADMIN, t.RecordBankCharge(
        idempotency_key=key(), account_id=account, amount_minor=amount, reference=ref,
        description="Monthly service fee", charged_on=on))


def statement(svc: BillingService, account: UUID, start: date, end: date, opening: int,
              closing: int, csv_text: str) -> UUID:
    result = svc.import_bank_statement(ADMIN, t.ImportBankStatement(
        idempotency_key=key(), account_id=account, period_start=start, statement_date=end,
        opening_balance_minor=opening, closing_balance_minor=closing, csv=csv_text))
    return UUID(str(result["statement_id"]))
