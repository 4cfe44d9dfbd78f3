"""Handlers of the trust commands: load, authorise, apply the rules, return what to save.

Every handler loads the ``TrustAccount`` afresh (the service retries the whole
decision after a version conflict), so a disbursement that lost a race
re-checks the balance the winner left and is refused if it no longer fits.
A transfer to operating against an invoice returns the account, the new
``trust`` payment and the invoice: the service saves all three (and the
command record) in one transaction, so trust and receivables move together.

Authorisation: client money (deposits, disbursements, transfers, disputes) is
the ``collect`` action on the client and matter; replenishment requests are
``bill``; the account itself, firm funds, bank charges, statements and
signing a reconciliation are firm-level and admin-only.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from commands.auth import Principal, require_admin, require_grant
from commands.decision import Decision
from commands.ledger_app import Context
from commands.trust import models as t
from ledger.domain.errors import ClientMismatchError, CurrencyMismatchError
from ledger.domain.matter import Matter
from ledger.domain.trust.account import TrustAccount
from ledger.domain.trust.errors import TrustAccountNotFoundError
from ledger.domain.trust.statements import ParsedLine, parse_statement_csv


def trust_account(ctx: Context, account_id: UUID) -> TrustAccount:
    found = ctx.find(account_id, TrustAccount)
    if found is None:
        raise TrustAccountNotFoundError("no such trust account", field="account_id")
    return found


def _matter(ctx: Context, who: Principal, matter_id: UUID, action: str,
            client_id: UUID | None = None) -> Matter:
    matter = ctx.matter(matter_id)
    if client_id is not None and matter.client_id != client_id:
        raise ClientMismatchError("the matter is not the client's", field="matter_id")
    require_grant(who, ctx.access(who.id), action, client_id=matter.client_id,
                  matter_id=matter.id)
    return matter


def open_trust_account(ctx: Context, who: Principal, cmd: t.OpenTrustAccount) -> Decision:
    require_admin(who, "open trust accounts")
    ctx.firm()
    account = TrustAccount.open(
        account_id=uuid4(), actor=who.id, effective_on=cmd.opened_on, currency=cmd.currency,
        iolta=cmd.iolta, jurisdiction=cmd.jurisdiction, bank=cmd.bank,
        account_number=cmd.account_number,
        bank_charge_cushion_minor=cmd.bank_charge_cushion_minor)
    return Decision([account], {"account_id": str(account.id)})


def _balances(account: TrustAccount, matter: Matter) -> dict[str, str | int]:
    assert matter.client_id is not None
    return {"matter_balance_minor": account.balance_minor(matter.id),
            "client_balance_minor": account.client_balance_minor(matter.client_id)}


def record_trust_deposit(ctx: Context, who: Principal, cmd: t.RecordTrustDeposit) -> Decision:
    matter = _matter(ctx, who, cmd.matter_id, "collect", cmd.client_id)
    account = trust_account(ctx, cmd.account_id)
    deposit_id = uuid4()
    account.record_deposit(actor=who.id, effective_on=cmd.received_on, deposit_id=deposit_id,
                           matter=matter, currency=cmd.currency,
                           amount_minor=cmd.amount_minor, purpose=cmd.purpose,
                           reference=cmd.reference, payor=cmd.payor)
    return Decision([account], {"deposit_id": str(deposit_id), **_balances(account, matter)})


def reverse_trust_deposit(ctx: Context, who: Principal, cmd: t.ReverseTrustDeposit) -> Decision:
    account = trust_account(ctx, cmd.account_id)
    deposit = account.deposits.get(cmd.deposit_id)
    if deposit is not None:
        require_grant(who, ctx.access(who.id), "collect", client_id=deposit.client_id,
                      matter_id=deposit.matter_id)
    reference = cmd.reference
    if reference is None:
        found = [j.reference for j in account.journal if j.entry_id == str(cmd.deposit_id)]
        reference = found[0] if found else "-"
    account.reverse_deposit(actor=who.id, effective_on=cmd.reversed_on,
                            deposit_id=cmd.deposit_id, reason=cmd.reason, reference=reference,
                            after_use=cmd.after_use)
    assert deposit is not None
    return Decision([account], {"deposit_id": str(cmd.deposit_id),
                                "matter_balance_minor": account.balance_minor(deposit.matter_id),
                                "client_balance_minor":
                                    account.client_balance_minor(deposit.client_id)})


def record_trust_disbursement(ctx: Context, who: Principal,
                              cmd: t.RecordTrustDisbursement) -> Decision:
    matter = _matter(ctx, who, cmd.matter_id, "collect", cmd.client_id)
    account = trust_account(ctx, cmd.account_id)
    if cmd.currency != account.currency:
        raise CurrencyMismatchError("the disbursement's currency is not the account's",
                                    field="currency")
    disbursement_id = uuid4()
    account.disburse(actor=who.id, effective_on=cmd.paid_on, disbursement_id=disbursement_id,
                     client_id=cmd.client_id, matter_id=cmd.matter_id,
                     amount_minor=cmd.amount_minor, purpose=cmd.purpose, method=cmd.method,
                     reference=cmd.reference, authorised_by=cmd.authorised_by,
                     authorisation_memo=cmd.authorisation_memo, payee=cmd.payee)
    return Decision([account], {"disbursement_id": str(disbursement_id),
                                **_balances(account, matter)})


def transfer_trust_to_operating(ctx: Context, who: Principal,
                                cmd: t.TransferTrustToOperating) -> Decision:
    matter = _matter(ctx, who, cmd.matter_id, "collect")
    account = trust_account(ctx, cmd.account_id)
    invoice = ctx.invoice(cmd.invoice_id) if cmd.invoice_id is not None else None
    transfer_id = uuid4()
    payment = account.transfer_to_operating(
        actor=who.id, effective_on=cmd.transferred_on, transfer_id=transfer_id, matter=matter,
        amount_minor=cmd.amount_minor, invoice=invoice, payment_id=uuid4(),
        reference=cmd.reference, notice_sent_on=cmd.client_notice_sent_on,
        notice_reference=cmd.notice_reference, authorised_by=cmd.authorised_by or who.id)
    saved: list[Aggregate] = [account]
    if payment is not None and invoice is not None:
        saved += [payment, invoice]
    return Decision(saved, {"transfer_id": str(transfer_id),
                            "payment_id": str(payment.id) if payment else "",
                            "invoice_open_minor": invoice.open_balance_minor if invoice else 0,
                            **_balances(account, matter)})


def transfer_trust_between_matters(ctx: Context, who: Principal,
                                   cmd: t.TransferTrustBetweenMatters) -> Decision:
    source = _matter(ctx, who, cmd.from_matter_id, "collect")
    target = _matter(ctx, who, cmd.to_matter_id, "collect")
    account = trust_account(ctx, cmd.account_id)
    transfer_id = uuid4()
    account.transfer_between_matters(
        actor=who.id, effective_on=cmd.transferred_on, transfer_id=transfer_id, source=source,
        target=target, amount_minor=cmd.amount_minor, consent_ref=cmd.client_consent_ref,
        consent_on=cmd.consent_on, authorised_by=cmd.authorised_by or who.id,
        direction_ref=cmd.direction_ref, direction_on=cmd.direction_on,
        approved_by=cmd.approved_by)
    return Decision([account], {"transfer_id": str(transfer_id),
                                "from_matter_balance_minor": account.balance_minor(source.id),
                                "to_matter_balance_minor": account.balance_minor(target.id)})


def request_trust_replenishment(ctx: Context, who: Principal,
                                cmd: t.RequestTrustReplenishment) -> Decision:
    matter = _matter(ctx, who, cmd.matter_id, "bill")
    account = trust_account(ctx, cmd.account_id)
    request_id = uuid4()
    requested = account.request_replenishment(
        actor=who.id, effective_on=cmd.requested_on, request_id=request_id, matter=matter,
        floor_minor=cmd.floor_minor, target_minor=cmd.target_minor or cmd.floor_minor,
        due_on=cmd.due_on)
    return Decision([account], {"request_id": str(request_id), "requested_minor": requested})


def dispute_trust_funds(ctx: Context, who: Principal, cmd: t.DisputeTrustFunds) -> Decision:
    matter = _matter(ctx, who, cmd.matter_id, "collect")
    account = trust_account(ctx, cmd.account_id)
    dispute_id = uuid4()
    account.dispute(actor=who.id, effective_on=cmd.disputed_on, dispute_id=dispute_id,
                    matter=matter, amount_minor=cmd.amount_minor, reason=cmd.reason)
    return Decision([account], {"dispute_id": str(dispute_id),
                                "held_minor": account.held_minor(matter.id)})


def resolve_trust_dispute(ctx: Context, who: Principal, cmd: t.ResolveTrustDispute) -> Decision:
    account = trust_account(ctx, cmd.account_id)
    held = account.disputes.get(cmd.dispute_id)
    if held is not None:
        require_grant(who, ctx.access(who.id), "collect",
                      client_id=account.matter_client.get(held[0]), matter_id=held[0])
    account.resolve_dispute(actor=who.id, effective_on=cmd.resolved_on,
                            dispute_id=cmd.dispute_id, resolution=cmd.resolution)
    return Decision([account], {"dispute_id": str(cmd.dispute_id)})


def deposit_firm_funds(ctx: Context, who: Principal, cmd: t.DepositFirmFunds) -> Decision:
    require_admin(who, "put firm funds in trust")
    account = trust_account(ctx, cmd.account_id)
    entry_id = uuid4()
    account.deposit_firm_funds(actor=who.id, effective_on=cmd.deposited_on, entry_id=entry_id,
                               amount_minor=cmd.amount_minor, reference=cmd.reference)
    return Decision([account], {"entry_id": str(entry_id),
                                "firm_balance_minor": account.balance_minor("firm")})


def record_bank_charge(ctx: Context, who: Principal, cmd: t.RecordBankCharge) -> Decision:
    require_admin(who, "record bank charges")
    account = trust_account(ctx, cmd.account_id)
    entry_id = uuid4()
    account.record_bank_charge(actor=who.id, effective_on=cmd.charged_on, entry_id=entry_id,
                               amount_minor=cmd.amount_minor, reference=cmd.reference,
                               description=cmd.description)
    return Decision([account], {"entry_id": str(entry_id),
                                "firm_balance_minor": account.balance_minor("firm")})


def import_bank_statement(ctx: Context, who: Principal, cmd: t.ImportBankStatement) -> Decision:
    require_admin(who, "import bank statements")
    account = trust_account(ctx, cmd.account_id)
    if cmd.csv is not None:
        lines = parse_statement_csv(cmd.csv, account.currency)
    else:
        lines = [ParsedLine(ln.date, ln.description, ln.amount_minor, ln.reference)
                 for ln in cmd.lines]
    statement_id = uuid4()
    account.import_statement(actor=who.id, statement_id=statement_id,
                             period_start=cmd.period_start, period_end=cmd.statement_date,
                             opening_balance_minor=cmd.opening_balance_minor,
                             closing_balance_minor=cmd.closing_balance_minor, lines=lines)
    return Decision([account], {"statement_id": str(statement_id), "lines": len(lines)})


def complete_trust_reconciliation(ctx: Context, who: Principal,
                                  cmd: t.CompleteTrustReconciliation) -> Decision:
    require_admin(who, "sign trust reconciliations")
    account = trust_account(ctx, cmd.account_id)
    account.check_signer(who.id, "signed_by")
    reconciliation_id = uuid4()
    rec = account.complete_reconciliation(actor=who.id, effective_on=cmd.signed_on,
                                          reconciliation_id=reconciliation_id,
                                          period_end=cmd.period_end)
    return Decision([account], {"reconciliation_id": str(reconciliation_id),
                                "adjusted_bank_minor": rec.adjusted_bank_minor,
                                "journal_minor": rec.journal_minor,
                                "client_ledgers_minor": rec.client_ledgers_minor,
                                "outstanding_items": rec.outstanding_items})


def add_trust_signer(ctx: Context, who: Principal, cmd: t.AddTrustSigner) -> Decision:
    require_admin(who, "designate trust account signers")
    account = trust_account(ctx, cmd.account_id)
    account.add_signer(actor=who.id, effective_on=cmd.added_on, principal_id=cmd.principal_id,
                       firm_admin=cmd.firm_admin)
    return Decision([account], {"principal_id": cmd.principal_id,
                                "signers": len(account.signers)})


def remove_trust_signer(ctx: Context, who: Principal, cmd: t.RemoveTrustSigner) -> Decision:
    require_admin(who, "remove trust account signers")
    account = trust_account(ctx, cmd.account_id)
    account.remove_signer(actor=who.id, effective_on=cmd.removed_on,
                          principal_id=cmd.principal_id)
    return Decision([account], {"principal_id": cmd.principal_id,
                                "signers": len(account.signers)})


def cover_trust_shortfall(ctx: Context, who: Principal, cmd: t.CoverTrustShortfall) -> Decision:
    require_admin(who, "cover trust shortfalls with firm money")
    matter = ctx.matter(cmd.matter_id)
    account = trust_account(ctx, cmd.account_id)
    entry_id = uuid4()
    account.cover_shortfall(actor=who.id, effective_on=cmd.covered_on, entry_id=entry_id,
                            matter=matter, amount_minor=cmd.amount_minor,
                            reference=cmd.reference)
    return Decision([account], {"entry_id": str(entry_id), **_balances(account, matter)})
