"""The trust commands of ``BillingService`` (mixed into it, one method per command).

Kept apart from ``commands.service`` so the trust side grows without touching
the billing pipeline: every method goes through the same ``execute`` (idempotency,
one transaction, retry on an optimistic-concurrency conflict).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.auth import Principal
from commands.trust import handlers as h
from commands.trust import models as t

if TYPE_CHECKING:
    from commands.decision import Handler
    from commands.models import Command
    from commands.service import CommandResult


class TrustCommands:
    """Trust-accounting commands; ``BillingService`` supplies ``execute``."""

    if TYPE_CHECKING:
        def execute(self, name: str, handler: Handler, who: Principal,
                    command: Command) -> CommandResult: ...

    def open_trust_account(self, who: Principal, cmd: t.OpenTrustAccount) -> CommandResult:
        return self.execute("open_trust_account", h.open_trust_account, who, cmd)

    def record_trust_deposit(self, who: Principal, cmd: t.RecordTrustDeposit) -> CommandResult:
        return self.execute("record_trust_deposit", h.record_trust_deposit, who, cmd)

    def reverse_trust_deposit(self, who: Principal, cmd: t.ReverseTrustDeposit) -> CommandResult:
        return self.execute("reverse_trust_deposit", h.reverse_trust_deposit, who, cmd)

    def record_trust_disbursement(self, who: Principal,
                                  cmd: t.RecordTrustDisbursement) -> CommandResult:
        return self.execute("record_trust_disbursement", h.record_trust_disbursement, who, cmd)

    def transfer_trust_to_operating(self, who: Principal,
                                    cmd: t.TransferTrustToOperating) -> CommandResult:
        return self.execute("transfer_trust_to_operating", h.transfer_trust_to_operating,
                            who, cmd)

    def transfer_trust_between_matters(self, who: Principal,
                                       cmd: t.TransferTrustBetweenMatters) -> CommandResult:
        return self.execute("transfer_trust_between_matters",
                            h.transfer_trust_between_matters, who, cmd)

    def request_trust_replenishment(self, who: Principal,
                                    cmd: t.RequestTrustReplenishment) -> CommandResult:
        return self.execute("request_trust_replenishment", h.request_trust_replenishment,
                            who, cmd)

    def dispute_trust_funds(self, who: Principal, cmd: t.DisputeTrustFunds) -> CommandResult:
        return self.execute("dispute_trust_funds", h.dispute_trust_funds, who, cmd)

    def resolve_trust_dispute(self, who: Principal, cmd: t.ResolveTrustDispute) -> CommandResult:
        return self.execute("resolve_trust_dispute", h.resolve_trust_dispute, who, cmd)

    def deposit_firm_funds(self, who: Principal, cmd: t.DepositFirmFunds) -> CommandResult:
        return self.execute("deposit_firm_funds", h.deposit_firm_funds, who, cmd)

    def record_bank_charge(self, who: Principal, cmd: t.RecordBankCharge) -> CommandResult:
        return self.execute("record_bank_charge", h.record_bank_charge, who, cmd)

    def import_bank_statement(self, who: Principal, cmd: t.ImportBankStatement) -> CommandResult:
        return self.execute("import_bank_statement", h.import_bank_statement, who, cmd)

    def complete_trust_reconciliation(self, who: Principal,
                                      cmd: t.CompleteTrustReconciliation) -> CommandResult:
        return self.execute("complete_trust_reconciliation", h.complete_trust_reconciliation,
                            who, cmd)
