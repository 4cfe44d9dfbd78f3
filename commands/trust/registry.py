"""The trust commands' rows of the command registry (``commands.registry`` appends them).

HTTP: client-money commands are for firm admins and billing clerks (the handler
then needs a ``collect`` grant on the client or matter); the account, firm funds,
bank charges, statements and signing are firm-admin only. Command line: the
``trust`` group. ``--no-iolta`` is a switch; ``--csv FILE`` of
``import-statement`` is read by the shell (the model takes the CSV text).
"""

from __future__ import annotations

from commands.spec import Cli, CommandSpec, Flag, Http, opt, switch
from commands.trust import handlers as h
from commands.trust import models as t
from ledger.domain.roles import ADMIN_ONLY, BILLING, Role

P = "/v1/trust/accounts/{account_id}"
A = Flag("--account", "account_id")
AMOUNT = Flag("--amount", "amount_minor", int)
MATTER = Flag("--matter", "matter_id")
REFERENCE = Flag("--reference", "reference")


def _http(path: str, roles: frozenset[Role], summary: str) -> Http:
    return Http(path, roles, summary, tag="trust")


def _cli(verb: str, help_text: str, *flags: Flag) -> Cli:
    return Cli("trust", verb, help_text, flags)


TRUST: tuple[CommandSpec, ...] = (
    CommandSpec(
        "open_trust_account", t.OpenTrustAccount, h.open_trust_account,
        _http("/v1/trust/accounts", ADMIN_ONLY, "Open a trust (IOLTA) bank account"),
        _cli("open-account", "open a trust bank account",
             Flag("--bank", "bank"), Flag("--account-number", "account_number"),
             Flag("--currency", "currency"), Flag("--jurisdiction", "jurisdiction"),
             opt("--cushion", "bank_charge_cushion_minor", int), Flag("--date", "opened_on"),
             switch("--no-iolta", "iolta", sets=False,
                    help="a separate (non-pooled) trust account"))),
    CommandSpec(
        "record_trust_deposit", t.RecordTrustDeposit, h.record_trust_deposit,
        _http(f"{P}/deposits", BILLING, "Record money received in trust for a client's matter"),
        _cli("deposit", "record money received in trust",
             A, Flag("--client", "client_id"), MATTER, AMOUNT, Flag("--currency", "currency"),
             Flag("--payor", "payor"), Flag("--purpose", "purpose"), REFERENCE,
             Flag("--date", "received_on"))),
    CommandSpec(
        "reverse_trust_deposit", t.ReverseTrustDeposit, h.reverse_trust_deposit,
        _http(f"{P}/deposits/{{deposit_id}}/reversal", BILLING,
              "Reverse a deposit returned unpaid"),
        _cli("reverse-deposit", "reverse a deposit returned unpaid",
             A, Flag("--deposit", "deposit_id"), Flag("--reason", "reason"),
             opt("--reference", "reference"),
             switch("--after-use", "after_use", sets=True,
                    help="returned after the money was used: the client's ledger goes negative "
                    "until the firm covers it (cover-shortfall)"),
             Flag("--date", "reversed_on"))),
    CommandSpec(
        "record_trust_disbursement", t.RecordTrustDisbursement, h.record_trust_disbursement,
        _http(f"{P}/disbursements", BILLING, "Pay out of trust for a client"),
        _cli("disburse", "pay out of trust for a client",
             A, Flag("--client", "client_id"), MATTER, AMOUNT, Flag("--currency", "currency"),
             Flag("--payee", "payee"), Flag("--purpose", "purpose"), Flag("--method", "method"),
             REFERENCE, Flag("--authorised-by", "authorised_by"),
             opt("--memo", "authorisation_memo"), Flag("--date", "paid_on"))),
    CommandSpec(
        "transfer_trust_to_operating", t.TransferTrustToOperating,
        h.transfer_trust_to_operating,
        _http(f"{P}/transfers-to-operating", BILLING,
              "Move earned money to operating (against an invoice or an earned flat fee)"),
        _cli("to-operating",
             "move earned money to operating (against an invoice, or an earned flat fee)",
             A, MATTER, AMOUNT, opt("--invoice", "invoice_id"), REFERENCE,
             opt("--notice-sent-on", "client_notice_sent_on"),
             opt("--notice-ref", "notice_reference"), opt("--authorised-by", "authorised_by"),
             Flag("--date", "transferred_on"))),
    CommandSpec(
        "transfer_trust_between_matters", t.TransferTrustBetweenMatters,
        h.transfer_trust_between_matters,
        _http(f"{P}/matter-transfers", BILLING,
              "Move client money between matters, with the client's consent"),
        _cli("between-matters", "move client money between matters (with the client's consent)",
             A, Flag("--from-matter", "from_matter_id"), Flag("--to-matter", "to_matter_id"),
             AMOUNT, opt("--consent-ref", "client_consent_ref"),
             opt("--consent-on", "consent_on"), opt("--direction-ref", "direction_ref"),
             opt("--direction-on", "direction_on"), opt("--approved-by", "approved_by"),
             opt("--authorised-by", "authorised_by"), Flag("--date", "transferred_on"))),
    CommandSpec(
        "request_trust_replenishment", t.RequestTrustReplenishment,
        h.request_trust_replenishment,
        _http(f"{P}/replenishment-requests", BILLING, "Ask to refill an evergreen retainer"),
        _cli("request-replenishment", "ask the client to refill an evergreen retainer",
             A, MATTER, Flag("--floor", "floor_minor", int), opt("--target", "target_minor", int),
             Flag("--due-on", "due_on"), Flag("--date", "requested_on"))),
    CommandSpec(
        "dispute_trust_funds", t.DisputeTrustFunds, h.dispute_trust_funds,
        _http(f"{P}/disputes", BILLING, "Hold disputed money in trust"),
        _cli("dispute", "hold disputed money in trust",
             A, MATTER, AMOUNT, Flag("--reason", "reason"), Flag("--date", "disputed_on"))),
    CommandSpec(
        "resolve_trust_dispute", t.ResolveTrustDispute, h.resolve_trust_dispute,
        _http(f"{P}/disputes/{{dispute_id}}/resolve", BILLING, "Release a dispute hold"),
        _cli("resolve-dispute", "release a hold",
             A, Flag("--dispute", "dispute_id"), Flag("--resolution", "resolution"),
             Flag("--date", "resolved_on"))),
    CommandSpec(
        "deposit_firm_funds", t.DepositFirmFunds, h.deposit_firm_funds,
        _http(f"{P}/firm-funds", ADMIN_ONLY, "Put firm money in trust to cover bank charges"),
        _cli("firm-funds", "put firm money in trust for bank charges",
             A, AMOUNT, REFERENCE, Flag("--date", "deposited_on"))),
    CommandSpec(
        "cover_trust_shortfall", t.CoverTrustShortfall, h.cover_trust_shortfall,
        _http(f"{P}/shortfall-covers", ADMIN_ONLY,
              "Cover with firm money a client matter's ledger left negative by a returned deposit"),
        _cli("cover-shortfall", "cover a client matter's trust shortfall with firm money",
             A, MATTER, AMOUNT, REFERENCE, Flag("--date", "covered_on"))),
    CommandSpec(
        "record_bank_charge", t.RecordBankCharge, h.record_bank_charge,
        _http(f"{P}/bank-charges", ADMIN_ONLY, "Record a bank fee (firm ledger)"),
        _cli("bank-charge", "record a bank fee",
             A, AMOUNT, REFERENCE, Flag("--description", "description"),
             Flag("--date", "charged_on"))),
    CommandSpec(
        "import_bank_statement", t.ImportBankStatement, h.import_bank_statement,
        _http(f"{P}/statements", ADMIN_ONLY, "Import a bank statement (JSON lines or CSV text)"),
        _cli("import-statement", "import a bank statement CSV",
             A, Flag("--from", "period_start"), Flag("--to", "statement_date"),
             Flag("--opening", "opening_balance_minor", int),
             Flag("--closing", "closing_balance_minor", int))),
    CommandSpec(
        "complete_trust_reconciliation", t.CompleteTrustReconciliation,
        h.complete_trust_reconciliation,
        _http(f"{P}/reconciliations", ADMIN_ONLY,
              "Sign the balanced three-way reconciliation of a month end"),
        _cli("reconcile", "sign the three-way reconciliation of a month end",
             A, Flag("--period-end", "period_end"), Flag("--date", "signed_on"))),
    CommandSpec(
        "add_trust_signer", t.AddTrustSigner, h.add_trust_signer,
        _http(f"{P}/signers", ADMIN_ONLY, "Make a principal an authorised signer of the account"),
        _cli("signer-add", "make a principal an authorised signer of the account",
             A, Flag("--principal", "principal_id"),
             switch("--firm-admin", "firm_admin", sets=True,
                    help="a firm admin: may approve transfers between clients"),
             Flag("--date", "added_on"))),
    CommandSpec(
        "remove_trust_signer", t.RemoveTrustSigner, h.remove_trust_signer,
        _http(f"{P}/signers/{{principal_id}}/removal", ADMIN_ONLY,
              "Remove an authorised signer of the account"),
        _cli("signer-remove", "remove an authorised signer of the account",
             A, Flag("--principal", "principal_id"), Flag("--date", "removed_on"))),
)
