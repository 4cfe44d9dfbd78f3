"""A small, realistic quarter of billing for the demo (three clients: hourly,
flat fee, contingency), recorded through the same service as everything else.

Fabrikam's invoice is paid from trust the only way the ledger allows: its money
is deposited in a trust account and moved to operating against the invoice, so
the trust ledger and the receivable move together.

Idempotency keys are fixed, so running the demo again on the same firm records
nothing new and prints the same figures.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from commands import models as m
from commands.auth import Principal
from commands.service import BillingService, CommandResult
from commands.trust import models as t
from ledger.domain.ids import firm_id
from ledger.domain.money import format_money
from ledger.domain.roles import ADMIN, CLERK

DEMO_ADMIN = Principal(id="demo-admin", roles=frozenset({ADMIN}))


def record_demo_scenario(service: BillingService) -> list[str]:
    """Record the demo scenario and return readable lines, ending with balances."""
    lines: list[str] = []
    step = iter(range(1, 1000))

    def run(verb: str, model: type[m.Command], /, **fields: object) -> CommandResult:
        command = model.model_validate({"idempotency_key": f"demo-{next(step):04d}", **fields})
        result: CommandResult = getattr(service, verb)(DEMO_ADMIN, command)
        return result

    def uid(result: CommandResult, name: str) -> UUID:
        return UUID(str(result[name]))

    if firm_id() not in service.app.repository:
        lines.append("setting up the firm (USD, invoices INV-00001…)")
    run("set_up_firm", m.SetUpFirm, currency="USD", invoice_prefix="INV-",
        effective_on=date(2024, 1, 1))
    for tk, name, title, rate in (("PA", "Pat Avery", "PARTNR", 50_000),
                                  ("AS", "Sam Lee", "ASSOC", 30_000),
                                  ("PL", "Kim Ortiz", "PARALG", 15_000)):
        run("register_timekeeper", m.RegisterTimekeeper, timekeeper_id=tk, name=name,
            title=title, default_rate_minor_per_hour=rate, effective_on=date(2024, 1, 1))

    clients: dict[str, UUID] = {}
    for label, terms in (("Northwind (hourly)", 30), ("Contoso (flat fee)", 15),
                         ("Fabrikam (contingency)", 45)):
        clients[label] = uid(run("onboard_client", m.OnboardClient, name=label.split()[0],
                                 billing_contact="accounts payable", currency="USD",
                                 payment_terms_days=terms, effective_on=date(2024, 1, 2)),
                             "client_id")
    nw, ct, fb = clients.values()

    hourly = uid(run("open_matter", m.OpenMatter, client_id=nw, title="Lease dispute",
                     opened_on=date(2024, 1, 3)), "matter_id")
    run("set_rate", m.SetRate, matter_id=hourly, timekeeper_id="PA",
        rate_minor_per_hour=45_000, effective_from=date(2024, 1, 1))
    run("set_rate", m.SetRate, matter_id=hourly, timekeeper_id="PA",
        rate_minor_per_hour=48_000, effective_from=date(2024, 2, 1))
    for tk, on, minutes in (("PA", date(2024, 1, 15), 50), ("AS", date(2024, 1, 20), 7),
                            ("PA", date(2024, 2, 10), 61), ("AS", date(2024, 2, 12), 100)):
        run("log_time", m.LogTime, matter_id=hourly, timekeeper_id=tk, work_on=on,
            minutes=minutes, narrative="Work on the lease dispute")
    run("log_expense", m.LogExpense, matter_id=hourly, spent_on=date(2024, 1, 25),
        expense_code="E112", description="Filing fee", amount_minor=35_000, currency="USD")
    flat = uid(run("open_matter", m.OpenMatter, client_id=ct, title="Acquisition",
                   opened_on=date(2024, 1, 3), arrangement={
                       "kind": "flat_fee", "amount_minor": 1_200_000, "instalments": [
                           {"due_on": f"2024-0{n}-10", "amount_minor": 400_000}
                           for n in (1, 2, 3)]}), "matter_id")
    run("log_expense", m.LogExpense, matter_id=flat, spent_on=date(2024, 1, 18),
        expense_code="E107", description="Courier", amount_minor=4_500, currency="USD")
    contingency = uid(run("open_matter", m.OpenMatter, client_id=fb, title="Injury claim",
                          opened_on=date(2024, 1, 3),
                          arrangement={"kind": "contingency", "percentage_bp": 3_333}),
                      "matter_id")
    run("log_expense", m.LogExpense, matter_id=contingency, spent_on=date(2024, 2, 5),
        expense_code="E118", description="Expert report", amount_minor=250_000,
        currency="USD")
    run("record_recovery", m.RecordRecovery, matter_id=contingency, amount_minor=15_000_000,
        recovered_on=date(2024, 2, 20))

    def bill(matter_id: UUID, start: date, end: date, issued_on: date,
             write_down: tuple[int, int] | None = None) -> UUID:
        invoice = uid(run("draft_invoice", m.DraftInvoice, matter_id=matter_id,
                          period_start=start, period_end=end, drafted_on=end), "invoice_id")
        if write_down:
            run("write_down", m.WriteDown, invoice_id=invoice, line_no=write_down[0],
                amount_minor=write_down[1], reason="partner review", written_down_on=end)
        issued = run("issue_invoice", m.IssueInvoice, invoice_id=invoice, issued_on=issued_on)
        lines.append(f"issued {issued['number']} for "
                     f"{format_money(int(issued['total_minor']), 'USD')}")
        return invoice

    jan, feb = (date(2024, 1, 1), date(2024, 1, 31)), (date(2024, 2, 1), date(2024, 2, 29))
    nw_jan = bill(hourly, *jan, date(2024, 2, 1), write_down=(2, 1_000))
    ct_jan = bill(flat, *jan, date(2024, 2, 1))
    nw_feb = bill(hourly, *feb, date(2024, 3, 1))
    ct_feb = bill(flat, *feb, date(2024, 3, 1))
    run("void_invoice", m.VoidInvoice, invoice_id=ct_feb, reason="issued too early",
        voided_on=date(2024, 3, 2))
    lines.append("voided the February Contoso invoice")
    fb_feb = bill(contingency, *feb, date(2024, 3, 1))

    run("record_payment", m.RecordPayment, client_id=nw, amount_minor=100_000, currency="USD",
        method="wire", reference="WIRE 7781", received_on=date(2024, 3, 5),
        allocations=[{"invoice_id": nw_jan, "amount_minor": 80_500},
                     {"invoice_id": nw_feb, "amount_minor": 19_500}])
    run("issue_credit_note", m.IssueCreditNote, invoice_id=nw_feb, amount_minor=4_300,
        reason="rate dispute", issued_on=date(2024, 3, 21))
    run("record_payment", m.RecordPayment, client_id=ct, amount_minor=300_000, currency="USD",
        method="ach", reference="ACH 22", received_on=date(2024, 2, 20),
        allocations=[{"invoice_id": ct_jan, "amount_minor": 300_000}])
    run("write_off", m.WriteOff, invoice_id=ct_jan, amount_minor=4_500,
        reason="courier charge disputed", approved_by="PA", written_off_on=date(2024, 3, 31))
    trust = uid(run("open_trust_account", t.OpenTrustAccount, bank="First Bank",
                    account_number="000123456789", currency="USD", iolta=True,
                    jurisdiction="US-AZ", opened_on=date(2024, 3, 1)), "account_id")
    run("add_trust_signer", t.AddTrustSigner, account_id=trust, principal_id=DEMO_ADMIN.id,
        firm_admin=True, added_on=date(2024, 3, 1))
    run("record_trust_deposit", t.RecordTrustDeposit, account_id=trust, client_id=fb,
        matter_id=contingency, amount_minor=6_000_000, currency="USD", payor="Fabrikam",
        purpose="settlement", reference="DEP-FB-1", received_on=date(2024, 3, 20))
    paid = run("transfer_trust_to_operating", t.TransferTrustToOperating, account_id=trust,
               matter_id=contingency, amount_minor=5_000_000, invoice_id=fb_feb,
               reference="IOLTA 1", client_notice_sent_on=date(2024, 3, 22),
               notice_reference="NOTICE-FB-1", transferred_on=date(2024, 3, 25))
    lines.append(f"paid INV-00005 from Fabrikam's trust money: "
                 f"{format_money(5_000_000, 'USD')} to operating, "
                 f"{format_money(int(paid['client_balance_minor']), 'USD')} left in trust")
    grant = run("grant_access", m.GrantAccess, principal_id="clerk", scope="client",
                scope_id=nw, role=CLERK, reason="collections",
                granted_on=date(2024, 3, 1))
    run("revoke_access", m.RevokeAccess, principal_id="clerk",
        grant_id=grant["grant_id"], reason="reassigned", revoked_on=date(2024, 3, 31))
    lines.append("granted and revoked a clerk's access to Northwind")

    for label, client_id in clients.items():
        owed = service.client_open_balance(DEMO_ADMIN, client_id)
        credit = service.client_unapplied_credit(DEMO_ADMIN, client_id)
        lines.append(f"{label:24} open balance {format_money(owed, 'USD'):>14}"
                     f"   unapplied credit {format_money(credit, 'USD')}")
    lines.append(f"{service.event_count()} events in the ledger")
    return lines
