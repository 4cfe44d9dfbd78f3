"""A client trust (IOLTA) bank account: client and matter ledgers that never go negative.

Why one aggregate per bank account (and not per-client ledger aggregates):
every movement of client money is a line of the account's one trust journal,
and the three-way reconciliation compares that journal with the bank and with
the sum of the ledgers, so the journal must be a single ordered history. With
the whole account in one aggregate, every deposit, disbursement and transfer is
serialised by the aggregate's version: two concurrent disbursements both load
version N, the first to save wins, the second conflicts, is retried by the
command service from fresh state, re-checks the balance and is refused. A trust
account sees tens of movements a day, not thousands, so one writer at a time
costs nothing that matters; per-client aggregates would still need the account
aggregate in every transaction (for the journal and the firm ledger) and so
would serialise on it anyway, with two places to keep in step.

Balances are checked on business dates, not just now: an outflow dated D must
fit the balance of every day from D on (a back-dated cheque may not overdraw a
day that later deposits cover), so a ledger's running balance in date order is
never negative. Nothing may be dated on or before the last signed
reconciliation, so a signed month stays as signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.domain.errors import (
    AllocationExceedsBalanceError,
    ClientMismatchError,
    CurrencyMismatchError,
    InvalidAmountError,
    UnknownCurrencyError,
)
from ledger.domain.invoice import Invoice
from ledger.domain.matter import Matter
from ledger.domain.money import is_currency
from ledger.domain.payment import Payment
from ledger.domain.trust.errors import (
    TrustComminglingError,
    TrustConsentMissingError,
    TrustCoverExceedsShortfallError,
    TrustCrossClientTransferError,
    TrustDepositNotFoundError,
    TrustDepositReversedError,
    TrustDisputeExceedsBalanceError,
    TrustDisputeNotFoundError,
    TrustDuplicateCheckError,
    TrustDuplicateDepositError,
    TrustFeeNotEarnedError,
    TrustFirmFundsInsufficientError,
    TrustFundsDisputedError,
    TrustNoticeMissingError,
    TrustNoticeReferenceMissingError,
    TrustOverdraftError,
    TrustPeriodClosedError,
    TrustReplenishmentNotDueError,
    TrustSameMatterError,
    TrustTransferBasisError,
    TrustWireUnauthorisedError,
)
from ledger.domain.trust.events import (
    BankChargeRecorded,
    BankStatementImported,
    DisbursementMethod,
    FirmCoveredShortfall,
    FirmFundsDeposited,
    TrustAccountOpened,
    TrustDepositRecorded,
    TrustDepositReversed,
    TrustDisbursementRecorded,
    TrustDisputeResolved,
    TrustFundsDisputed,
    TrustPurpose,
    TrustReconciliationCompleted,
    TrustReplenishmentRequested,
    TrustTransferredBetweenClients,
    TrustTransferredBetweenMatters,
    TrustTransferredToOperating,
)
from ledger.domain.trust.reconcile import JournalItem
from ledger.domain.trust.signers import TrustSigners
from ledger.domain.trust.statements import TrustStatements

FIRM = "firm"


@dataclass
class Deposit:
    client_id: UUID
    matter_id: UUID
    amount_minor: int
    reversed: bool = False


def earned_flat_fee_minor(matter: Matter, on: date) -> int:
    """The flat fee earned by ``on`` and not billed on an invoice (its instalments due)."""
    if matter.arrangement.kind != "flat_fee":
        return 0
    return sum(i.amount_minor for i in matter.arrangement.instalments
               if i.due_on <= on and f"instalment:{i.key}" not in matter.billed)


class TrustAccount(TrustSigners, TrustStatements, Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.currency = ""
        self.iolta = False
        self.jurisdiction = ""
        self.cushion_minor = 0
        self.moves: dict[str, list[tuple[date, int]]] = {}
        self.matter_client: dict[UUID, UUID] = {}
        self.deposits: dict[UUID, Deposit] = {}
        self.disputes: dict[UUID, tuple[UUID, int]] = {}
        self.flat_fee_taken: dict[UUID, int] = {}
        self.journal: list[JournalItem] = []
        self.deposit_references: set[str] = set()
        self.check_numbers: set[str] = set()

    @classmethod
    def open(cls, *, account_id: UUID, actor: str, effective_on: date, currency: str,
             iolta: bool, jurisdiction: str, bank: str, account_number: str,
             bank_charge_cushion_minor: int) -> TrustAccount:
        if not is_currency(currency):
            raise UnknownCurrencyError("not an accepted ISO 4217 code", field="currency")
        if bank_charge_cushion_minor < 0:
            raise InvalidAmountError("the cushion cannot be negative",
                                     field="bank_charge_cushion_minor")
        return cls._create(
            TrustAccountOpened, id=account_id, actor=actor, effective_on=effective_on,
            currency=currency, iolta=iolta, jurisdiction=jurisdiction,
            bank_charge_cushion_minor=bank_charge_cushion_minor,
            confidential={"bank": bank, "account": account_number})

    # -- balances ------------------------------------------------------------------

    def balance_minor(self, key: str | UUID, on: date = date.max) -> int:
        """A ledger's balance at the end of ``on``: a matter, a client, or ``"firm"``."""
        return sum(a for d, a in self.moves.get(str(key), []) if d <= on)

    def client_balance_minor(self, client_id: UUID, on: date = date.max) -> int:
        return self.balance_minor(f"client:{client_id}", on)

    def _available(self, key: str, on: date) -> int:
        """The least balance of any day from ``on`` on: what an outflow dated ``on`` may take."""
        moves = self.moves.get(key, [])
        days = {on} | {d for d, _ in moves if d > on}
        return min(sum(a for d, a in moves if d <= day) for day in days)

    def held_minor(self, matter_id: UUID) -> int:
        return sum(a for m, a in self.disputes.values() if m == matter_id)

    def _check_outflow(self, client_id: UUID, matter_id: UUID, amount: int, on: date,
                       *, respect_disputes: bool = True) -> None:
        self._check_amount(amount)
        self._check_period(on)
        matter = self._available(str(matter_id), on)
        client = self._available(f"client:{client_id}", on)
        if amount > min(matter, client):
            which = "matter" if matter <= client else "client"
            raise TrustOverdraftError(
                f"the {which}'s trust balance available from {on} is {min(matter, client)}; "
                f"{amount} would make it negative", field="amount_minor")
        held = self.held_minor(matter_id) if respect_disputes else 0
        if amount > matter - held:
            raise TrustFundsDisputedError(
                f"{held} of the matter's trust balance is disputed and stays in trust",
                field="amount_minor")

    def _check_amount(self, amount: int) -> None:
        if amount <= 0:
            raise InvalidAmountError("an amount must be positive", field="amount_minor")

    def _check_period(self, on: date) -> None:
        if self.closed_through is not None and on <= self.closed_through:
            raise TrustPeriodClosedError(
                f"the account is reconciled and signed through {self.closed_through}",
                field="effective_on")

    def _check_matter(self, client_id: UUID, matter_id: UUID) -> None:
        known = self.matter_client.get(matter_id)
        if known is not None and known != client_id:
            raise ClientMismatchError("the matter is not the client's", field="matter_id")

    # -- client money --------------------------------------------------------------

    def record_deposit(self, *, actor: str, effective_on: date, deposit_id: UUID,
                       matter: Matter, currency: str, amount_minor: int,
                       purpose: TrustPurpose, reference: str, payor: str) -> None:
        assert matter.client_id is not None
        if currency != self.currency:
            raise CurrencyMismatchError("the deposit's currency is not the account's",
                                        field="currency")
        self._check_amount(amount_minor)
        self._check_period(effective_on)
        if reference in self.deposit_references:
            raise TrustDuplicateDepositError(
                f"a deposit with reference {reference} is already recorded on this account",
                field="reference")
        self.trigger_event(TrustDepositRecorded, actor=actor, effective_on=effective_on,
                           deposit_id=deposit_id, client_id=matter.client_id,
                           matter_id=matter.id, amount_minor=amount_minor, purpose=purpose,
                           reference=reference, confidential={"payor": payor})

    def reverse_deposit(self, *, actor: str, effective_on: date, deposit_id: UUID,
                        reason: str, reference: str, after_use: bool = False) -> None:
        """The bank took a deposit back. Refused if the money was already used, unless
        ``after_use`` says so: then it is recorded all the same (it is the bank's fact),
        the client's ledger shows the shortfall as a negative balance, which ``trust
        exceptions`` lists until the firm covers it (``cover_shortfall``)."""
        deposit = self.deposits.get(deposit_id)
        if deposit is None:
            raise TrustDepositNotFoundError("no such deposit on this account",
                                            field="deposit_id")
        if deposit.reversed:
            raise TrustDepositReversedError("the deposit is already reversed",
                                            field="deposit_id")
        if after_use:
            self._check_period(effective_on)
        else:
            self._check_outflow(deposit.client_id, deposit.matter_id, deposit.amount_minor,
                                effective_on, respect_disputes=False)
        self.trigger_event(TrustDepositReversed, actor=actor, effective_on=effective_on,
                           deposit_id=deposit_id, client_id=deposit.client_id,
                           matter_id=deposit.matter_id, amount_minor=deposit.amount_minor,
                           reason=reason, reference=reference)

    def disburse(self, *, actor: str, effective_on: date, disbursement_id: UUID,
                 client_id: UUID, matter_id: UUID, amount_minor: int, purpose: str,
                 method: DisbursementMethod, reference: str, authorised_by: str,
                 authorisation_memo: str | None, payee: str) -> None:
        self._check_matter(client_id, matter_id)
        self.check_signer(authorised_by, "authorised_by")
        if method == "check" and reference in self.check_numbers:
            raise TrustDuplicateCheckError(
                f"cheque number {reference} is already used on this account",
                field="reference")
        if method == "wire" and not authorisation_memo:
            raise TrustWireUnauthorisedError("a wire needs its written authorisation memo",
                                             field="authorisation_memo")
        self._check_outflow(client_id, matter_id, amount_minor, effective_on)
        self.trigger_event(TrustDisbursementRecorded, actor=actor, effective_on=effective_on,
                           disbursement_id=disbursement_id, client_id=client_id,
                           matter_id=matter_id, amount_minor=amount_minor, purpose=purpose,
                           method=method, reference=reference, authorised_by=authorised_by,
                           authorisation_memo=authorisation_memo,
                           confidential={"payee": payee})

    def transfer_to_operating(
        self, *, actor: str, effective_on: date, transfer_id: UUID, matter: Matter,
        amount_minor: int, invoice: Invoice | None, payment_id: UUID, reference: str,
        notice_sent_on: date | None, notice_reference: str | None, authorised_by: str,
    ) -> Payment | None:
        """Take earned money: against an issued invoice (recording a ``trust`` payment
        allocated to it, saved together) or, without an invoice, an earned flat fee."""
        assert matter.client_id is not None
        client_id = matter.client_id
        self.check_signer(authorised_by, "authorised_by")
        if not notice_reference:
            raise TrustNoticeReferenceMissingError(
                "notice_reference (--notice-ref) is missing: name the notice sent to the "
                "client about this withdrawal", field="notice_reference")
        if notice_sent_on is None or notice_sent_on > effective_on:
            raise TrustNoticeMissingError(
                "the client must be notified of the withdrawal no later than its date",
                field="client_notice_sent_on")
        if invoice is not None:
            if (invoice.status != "issued" or invoice.client_id != client_id
                    or invoice.matter_id != matter.id):
                raise TrustTransferBasisError(
                    "the invoice must be issued, for this client and this matter",
                    field="invoice_id")
            if amount_minor > invoice.open_balance_minor:
                raise AllocationExceedsBalanceError(
                    f"the invoice's open balance is {invoice.open_balance_minor}",
                    field="amount_minor")
        else:
            left = earned_flat_fee_minor(matter, effective_on) - self.flat_fee_taken.get(
                matter.id, 0)
            if amount_minor > left:
                raise TrustFeeNotEarnedError(
                    f"{max(left, 0)} of the flat fee is earned and not yet taken; with no "
                    "invoice only an earned flat fee may leave trust", field="amount_minor")
        self._check_outflow(client_id, matter.id, amount_minor, effective_on)
        payment = None
        if invoice is not None:
            payment = Payment.receive(
                payment_id=payment_id, actor=actor, effective_on=effective_on,
                client_id=client_id, client_currency=invoice.currency,
                amount_minor=amount_minor, currency=self.currency, method="trust",
                reference=reference)
            payment.allocate(actor=actor, effective_on=effective_on, invoice=invoice,
                             amount_minor=amount_minor)
        self.trigger_event(
            TrustTransferredToOperating, actor=actor, effective_on=effective_on,
            transfer_id=transfer_id, client_id=client_id, matter_id=matter.id,
            amount_minor=amount_minor, basis="invoice" if invoice else "flat_fee",
            invoice_id=invoice.id if invoice else None,
            payment_id=payment.id if payment else None, reference=reference,
            client_notice_sent_on=notice_sent_on, notice_reference=notice_reference)
        return payment

    def transfer_between_matters(
        self, *, actor: str, effective_on: date, transfer_id: UUID, source: Matter,
        target: Matter, amount_minor: int, consent_ref: str | None, consent_on: date | None,
        authorised_by: str, direction_ref: str | None = None, direction_on: date | None = None,
        approved_by: str | None = None,
    ) -> None:
        assert source.client_id is not None and target.client_id is not None
        if source.id == target.id:
            raise TrustSameMatterError("the matters must differ", field="to_matter_id")
        self.check_signer(authorised_by, "authorised_by")
        if source.client_id != target.client_id:
            self._transfer_between_clients(
                actor=actor, effective_on=effective_on, transfer_id=transfer_id, source=source,
                target=target, amount_minor=amount_minor, authorised_by=authorised_by,
                direction_ref=direction_ref, direction_on=direction_on,
                approved_by=approved_by)
            return
        if not consent_ref or consent_on is None or consent_on > effective_on:
            raise TrustConsentMissingError(
                "the client's written consent must be recorded no later than the transfer",
                field="client_consent_ref")
        self._check_outflow(source.client_id, source.id, amount_minor, effective_on)
        self.trigger_event(
            TrustTransferredBetweenMatters, actor=actor, effective_on=effective_on,
            transfer_id=transfer_id, from_client_id=source.client_id, from_matter_id=source.id,
            to_client_id=target.client_id, to_matter_id=target.id, amount_minor=amount_minor,
            client_consent_ref=consent_ref, consent_on=consent_on)

    def _transfer_between_clients(
        self, *, actor: str, effective_on: date, transfer_id: UUID, source: Matter,
        target: Matter, amount_minor: int, authorised_by: str, direction_ref: str | None,
        direction_on: date | None, approved_by: str | None,
    ) -> None:
        """One client's money to another client: the source client's written direction
        and a firm admin signer's approval, or refused."""
        assert source.client_id is not None and target.client_id is not None
        if not direction_ref or direction_on is None or direction_on > effective_on:
            raise TrustCrossClientTransferError(
                "the matters belong to different clients: record the source client's written "
                "direction (direction_ref and direction_on, no later than the transfer)",
                field="direction_ref")
        if not approved_by or not self.signers.get(approved_by, False):
            raise TrustCrossClientTransferError(
                "the matters belong to different clients: approved_by must name a firm admin "
                "who is an authorised signer of this account", field="approved_by")
        self._check_outflow(source.client_id, source.id, amount_minor, effective_on)
        self.trigger_event(
            TrustTransferredBetweenClients, actor=actor, effective_on=effective_on,
            transfer_id=transfer_id, from_client_id=source.client_id, from_matter_id=source.id,
            to_client_id=target.client_id, to_matter_id=target.id, amount_minor=amount_minor,
            direction_ref=direction_ref, direction_on=direction_on, approved_by=approved_by,
            authorised_by=authorised_by)

    def request_replenishment(self, *, actor: str, effective_on: date, request_id: UUID,
                              matter: Matter, floor_minor: int, target_minor: int,
                              due_on: date) -> int:
        assert matter.client_id is not None
        self._check_amount(floor_minor)
        balance = self.balance_minor(matter.id, effective_on)
        if balance >= floor_minor:
            raise TrustReplenishmentNotDueError(
                f"the balance {balance} is not below the floor {floor_minor}",
                field="floor_minor")
        requested = max(target_minor, floor_minor) - balance
        self.trigger_event(TrustReplenishmentRequested, actor=actor, effective_on=effective_on,
                           request_id=request_id, client_id=matter.client_id,
                           matter_id=matter.id, floor_minor=floor_minor,
                           balance_minor=balance, requested_minor=requested, due_on=due_on)
        return requested

    def dispute(self, *, actor: str, effective_on: date, dispute_id: UUID, matter: Matter,
                amount_minor: int, reason: str) -> None:
        assert matter.client_id is not None
        self._check_amount(amount_minor)
        held_by = min(self.balance_minor(matter.id, effective_on),
                      self.client_balance_minor(matter.client_id, effective_on),
                      self.balance_minor(matter.id))
        free = held_by - self.held_minor(matter.id)
        if amount_minor > free:
            raise TrustDisputeExceedsBalanceError(
                f"only {free} of the matter's trust balance is not already disputed",
                field="amount_minor")
        self.trigger_event(TrustFundsDisputed, actor=actor, effective_on=effective_on,
                           dispute_id=dispute_id, client_id=matter.client_id,
                           matter_id=matter.id, amount_minor=amount_minor, reason=reason)

    def resolve_dispute(self, *, actor: str, effective_on: date, dispute_id: UUID,
                        resolution: str) -> None:
        if dispute_id not in self.disputes:
            raise TrustDisputeNotFoundError("no open dispute with this id", field="dispute_id")
        self.trigger_event(TrustDisputeResolved, actor=actor, effective_on=effective_on,
                           dispute_id=dispute_id, resolution=resolution)

    # -- the firm's own money ------------------------------------------------------

    def shortfall_minor(self, client_id: UUID, matter_id: UUID, on: date) -> int:
        """How far below zero the matter's or client's ledger goes from ``on`` on."""
        least = min(self._available(str(matter_id), on),
                    self._available(f"client:{client_id}", on))
        return max(0, -least)

    def cover_shortfall(self, *, actor: str, effective_on: date, entry_id: UUID,
                        matter: Matter, amount_minor: int, reference: str) -> None:
        assert matter.client_id is not None
        self._check_amount(amount_minor)
        self._check_period(effective_on)
        shortfall = self.shortfall_minor(matter.client_id, matter.id, effective_on)
        if amount_minor > shortfall:
            raise TrustCoverExceedsShortfallError(
                f"the matter's trust shortfall from {effective_on} is {shortfall}; firm money "
                "beyond it would be commingled", field="amount_minor")
        self.trigger_event(FirmCoveredShortfall, actor=actor, effective_on=effective_on,
                           entry_id=entry_id, client_id=matter.client_id, matter_id=matter.id,
                           amount_minor=amount_minor, reference=reference)

    def deposit_firm_funds(self, *, actor: str, effective_on: date, entry_id: UUID,
                           amount_minor: int, reference: str) -> None:
        self._check_amount(amount_minor)
        self._check_period(effective_on)
        after = self.balance_minor(FIRM) + amount_minor
        if after > self.cushion_minor:
            raise TrustComminglingError(
                f"the firm's own funds in trust may not exceed the bank-charge cushion of "
                f"{self.cushion_minor}; this would make {after}", field="amount_minor")
        self.trigger_event(FirmFundsDeposited, actor=actor, effective_on=effective_on,
                           entry_id=entry_id, amount_minor=amount_minor, reference=reference)

    def record_bank_charge(self, *, actor: str, effective_on: date, entry_id: UUID,
                           amount_minor: int, reference: str, description: str) -> None:
        self._check_amount(amount_minor)
        self._check_period(effective_on)
        available = self._available(FIRM, effective_on)
        if amount_minor > available:
            raise TrustFirmFundsInsufficientError(
                f"the firm ledger holds {available} from {effective_on}; deposit firm funds "
                "first so the charge never touches client money", field="amount_minor")
        self.trigger_event(BankChargeRecorded, actor=actor, effective_on=effective_on,
                           entry_id=entry_id, amount_minor=amount_minor, reference=reference,
                           description=description)

    # -- evolution -----------------------------------------------------------------

    def _move(self, on: date, client_id: UUID | None, matter_id: UUID | None,
              amount: int) -> None:
        keys = [FIRM] if matter_id is None else [str(matter_id), f"client:{client_id}"]
        for key in keys:
            self.moves.setdefault(key, []).append((on, amount))
        if matter_id is not None and client_id is not None:
            self.matter_client[matter_id] = client_id

    def _journal(self, event: Any, entry_id: UUID, kind: str, amount: int) -> None:
        self.journal.append(JournalItem(str(entry_id), event.effective_on, kind, amount,
                                        event.reference))

    def when(self, event: Any) -> None:
        on = event.effective_on
        match event:
            case TrustAccountOpened():
                self.currency, self.iolta = event.currency, event.iolta
                self.jurisdiction = event.jurisdiction
                self.cushion_minor = event.bank_charge_cushion_minor
            case TrustDepositRecorded():
                self.deposits[event.deposit_id] = Deposit(event.client_id, event.matter_id,
                                                          event.amount_minor)
                self.deposit_references.add(event.reference)
                self._move(on, event.client_id, event.matter_id, event.amount_minor)
                self._journal(event, event.deposit_id, "deposit", event.amount_minor)
            case TrustDepositReversed():
                self.deposits[event.deposit_id].reversed = True
                self._move(on, event.client_id, event.matter_id, -event.amount_minor)
                self._journal(event, event.deposit_id, "reversal", -event.amount_minor)
            case TrustDisbursementRecorded():
                if event.method == "check":
                    self.check_numbers.add(event.reference)
                self._move(on, event.client_id, event.matter_id, -event.amount_minor)
                self._journal(event, event.disbursement_id, "disbursement", -event.amount_minor)
            case TrustTransferredToOperating():
                self._move(on, event.client_id, event.matter_id, -event.amount_minor)
                self._journal(event, event.transfer_id, "transfer_to_operating",
                              -event.amount_minor)
                if event.basis == "flat_fee":
                    self.flat_fee_taken[event.matter_id] = (
                        self.flat_fee_taken.get(event.matter_id, 0) + event.amount_minor)
            case TrustTransferredBetweenMatters() | TrustTransferredBetweenClients():
                self._move(on, event.from_client_id, event.from_matter_id, -event.amount_minor)
                self._move(on, event.to_client_id, event.to_matter_id, event.amount_minor)
            case TrustFundsDisputed():
                self.disputes[event.dispute_id] = (event.matter_id, event.amount_minor)
            case TrustDisputeResolved():
                self.disputes.pop(event.dispute_id, None)
            case FirmCoveredShortfall():
                self._move(on, event.client_id, event.matter_id, event.amount_minor)
                self._journal(event, event.entry_id, "firm_cover", event.amount_minor)
            case FirmFundsDeposited():
                self._move(on, None, None, event.amount_minor)
                self._journal(event, event.entry_id, "firm_funds", event.amount_minor)
            case BankChargeRecorded():
                self._move(on, None, None, -event.amount_minor)
                self._journal(event, event.entry_id, "bank_charge", -event.amount_minor)
            case BankStatementImported() | TrustReconciliationCompleted():
                self.when_statement(event)
            case _:
                self.when_signer(event)

# First recorded (as each account's ``originator_topic``) from the module
# ``ledger.domain.trust``: keep writing that topic (see ``ledger.domain.moved``).
setattr(TrustAccount, "TOPIC", "ledger.domain.trust:TrustAccount")  # noqa: B010
