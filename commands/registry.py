"""The command registry: every command of the ledger once, model → handler, with
what each entry point needs.

``BillingService`` answers ``service.<name>(principal, command)`` for every row,
the HTTP app adds one ``POST`` per row with an ``http`` part (``ledger.api.
routes_commands``), and the command line one verb per row with a ``cli`` part
(``ledger.cli.commands``); the OpenAPI document follows from the routes. So
adding a command is a model, a handler and one row here (see the README).

Rows are plain data (``commands.spec``): role sets come from
``ledger.domain.roles``, the only place role names are spelled. Trust rows live
in ``commands.trust.registry`` and are appended below.
"""

from __future__ import annotations

from commands import models as m
from commands.handlers import access, clients, expenses, firm, invoices, matters, payments, time
from commands.spec import Cli, CommandSpec, Flag, Http, opt, switch
from commands.trust.registry import TRUST
from ledger.domain.roles import ADMIN_ONLY, BILLING, TIME

M = Flag("--matter", "matter_id")
INV = Flag("--invoice", "invoice_id")
REASON = Flag("--reason", "reason")
AMOUNT = Flag("--amount", "amount_minor", int)

BILLING_COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "set_up_firm", m.SetUpFirm, firm.set_up_firm,
        Http("/v1/firm/setup", ADMIN_ONLY, "Set the firm's currency and invoice series"),
        Cli("firm", "setup", "set the firm's currency and invoice series", (
            Flag("--currency", "currency"), opt("--prefix", "invoice_prefix"),
            opt("--first", "first_invoice_number", int), opt("--digits", "number_digits", int)))),
    CommandSpec(
        "register_timekeeper", m.RegisterTimekeeper, firm.register_timekeeper,
        Http("/v1/timekeepers", ADMIN_ONLY, "Register a timekeeper"),
        Cli("timekeepers", "add", "register a timekeeper", (
            Flag("--id", "timekeeper_id"), Flag("--name", "name"), Flag("--title", "title"),
            Flag("--rate", "default_rate_minor_per_hour", int)))),
    CommandSpec(
        "onboard_client", m.OnboardClient, clients.onboard_client,
        Http("/v1/clients", ADMIN_ONLY, "Onboard a client"),
        Cli("clients", "onboard", "onboard a client", (
            Flag("--name", "name"), Flag("--contact", "billing_contact"),
            Flag("--currency", "currency"), Flag("--terms", "payment_terms_days", int)))),
    CommandSpec(
        "open_matter", m.OpenMatter, matters.open_matter,
        Http("/v1/clients/{client_id}/matters", BILLING, "Open a matter for a client"),
        # --arrangement, --increment, --fee, --percentage-bp build the nested terms: the shell's.
        Cli("matters", "open", "open a matter", (
            Flag("--client", "client_id"), Flag("--title", "title"),
            Flag("--opened-on", "opened_on"), switch("--utbms", "utbms", sets=True)))),
    CommandSpec(
        "close_matter", m.CloseMatter, matters.close_matter,
        Http("/v1/matters/{matter_id}/close", BILLING, "Close a matter"),
        Cli("matters", "close", "close a matter", (
            M, REASON, Flag("--closed-on", "closed_on")))),
    CommandSpec(
        "set_rate", m.SetRate, matters.set_rate,
        Http("/v1/matters/{matter_id}/rates", BILLING, "Set a timekeeper's rate on a matter"),
        Cli("rates", "set", "set a timekeeper's rate on a matter", (
            M, Flag("--timekeeper", "timekeeper_id"), Flag("--rate", "rate_minor_per_hour", int),
            Flag("--from", "effective_from")))),
    CommandSpec(
        "log_time", m.LogTime, time.log_time,
        Http("/v1/matters/{matter_id}/time-entries", TIME,
             "Log time (a timekeeper logs only its own)"),
        Cli("time", "log", "log time", (
            M, Flag("--timekeeper", "timekeeper_id"), Flag("--date", "work_on"),
            Flag("--minutes", "minutes", int), Flag("--narrative", "narrative"),
            opt("--task", "task_code"), opt("--activity", "activity_code"),
            switch("--non-billable", "billable", sets=False)))),
    CommandSpec(
        "correct_time", m.CorrectTime, time.correct_time,
        Http("/v1/matters/{matter_id}/time-entries/{entry_id}/corrections", TIME,
             "Correct an unbilled time entry"),
        Cli("time", "correct", "correct an unbilled time entry", (
            M, Flag("--entry", "entry_id"), opt("--minutes", "minutes", int),
            opt("--date", "work_on"), REASON, Flag("--corrected-on", "corrected_on")))),
    CommandSpec(
        "void_entry", m.VoidEntry, time.void_entry,
        Http("/v1/matters/{matter_id}/entries/{entry_id}/void", TIME,
             "Void an unbilled time or expense entry"),
        Cli("time", "void", "void an unbilled time or expense entry", (
            M, Flag("--entry", "entry_id"), REASON, Flag("--voided-on", "voided_on")))),
    CommandSpec(
        "log_expense", m.LogExpense, expenses.log_expense,
        Http("/v1/matters/{matter_id}/expenses", BILLING, "Log an expense"),
        Cli("expenses", "log", "log an expense", (
            M, Flag("--date", "spent_on"), AMOUNT, Flag("--currency", "currency"),
            Flag("--description", "description"), opt("--code", "expense_code")))),
    CommandSpec(
        "record_recovery", m.RecordRecovery, matters.record_recovery,
        Http("/v1/matters/{matter_id}/recoveries", BILLING, "Record a contingency recovery"),
        Cli("recoveries", "record", "record a recovery", (
            M, AMOUNT, Flag("--date", "recovered_on")))),
    CommandSpec(
        "draft_invoice", m.DraftInvoice, invoices.draft_invoice,
        Http("/v1/matters/{matter_id}/invoices", BILLING, "Draft an invoice for a period"),
        Cli("invoices", "draft", "draft an invoice for a period", (
            M, Flag("--from", "period_start"), Flag("--to", "period_end"),
            Flag("--drafted-on", "drafted_on")))),
    CommandSpec(
        "write_down", m.WriteDown, invoices.write_down,
        Http("/v1/invoices/{invoice_id}/write-downs", BILLING, "Write a draft's line down"),
        Cli("invoices", "write-down", "write a draft's line down", (
            INV, Flag("--line", "line_no", int), AMOUNT, REASON,
            Flag("--date", "written_down_on")))),
    CommandSpec(
        "issue_invoice", m.IssueInvoice, invoices.issue_invoice,
        Http("/v1/invoices/{invoice_id}/issue", BILLING, "Issue a draft (gives it its number)"),
        Cli("invoices", "issue", "issue a draft (numbers it)", (
            INV, Flag("--date", "issued_on")))),
    CommandSpec(
        "void_invoice", m.VoidInvoice, invoices.void_invoice,
        Http("/v1/invoices/{invoice_id}/void", BILLING, "Void an unpaid invoice"),
        Cli("invoices", "void", "void an unpaid invoice", (
            INV, REASON, Flag("--date", "voided_on")))),
    CommandSpec(
        "write_off", m.WriteOff, invoices.write_off,
        Http("/v1/invoices/{invoice_id}/write-offs", BILLING,
             "Write off an uncollectible balance"),
        Cli("invoices", "write-off", "write off an uncollectible balance", (
            INV, AMOUNT, REASON, Flag("--approved-by", "approved_by"),
            Flag("--date", "written_off_on")))),
    CommandSpec(
        "issue_credit_note", m.IssueCreditNote, invoices.issue_credit_note,
        Http("/v1/invoices/{invoice_id}/credit-notes", BILLING, "Issue a credit note"),
        Cli("invoices", "credit-note", "issue a credit note", (
            INV, AMOUNT, REASON, Flag("--date", "issued_on")))),
    CommandSpec(
        "record_payment", m.RecordPayment, payments.record_payment,
        Http("/v1/payments", BILLING, "Record a payment received (optionally allocated)"),
        # --allocate INVOICE=AMOUNT (repeatable) builds the allocations: the shell's.
        Cli("payments", "record", "record a payment received", (
            Flag("--client", "client_id"), AMOUNT, Flag("--currency", "currency"),
            Flag("--method", "method"), Flag("--reference", "reference"),
            Flag("--date", "received_on")))),
    CommandSpec(
        "allocate_payment", m.AllocatePayment, payments.allocate_payment,
        Http("/v1/payments/{payment_id}/allocations", BILLING, "Allocate a payment to invoices"),
        Cli("payments", "allocate", "allocate a payment", (
            Flag("--payment", "payment_id"), Flag("--date", "allocated_on")))),
    CommandSpec(
        "grant_access", m.GrantAccess, access.grant_access,
        Http("/v1/access-grants", ADMIN_ONLY, "Grant a principal access to a client or matter"),
        Cli("access", "grant", "grant access to a client or matter", (
            Flag("--principal", "principal_id"), Flag("--scope", "scope"),
            Flag("--scope-id", "scope_id"), Flag("--role", "role"), REASON,
            opt("--expires-on", "expires_on")))),
    CommandSpec(
        "revoke_access", m.RevokeAccess, access.revoke_access,
        Http("/v1/access-grants/{grant_id}/revoke", ADMIN_ONLY, "Revoke a grant"),
        Cli("access", "revoke", "revoke a grant", (
            Flag("--principal", "principal_id"), Flag("--grant", "grant_id"), REASON))),
    # Not over HTTP: erasing also deletes the client's read-model rows, which the write
    # side may not reach; ``ledger clients erase`` (ledger.cli.keys) does both.
    CommandSpec(
        "erase_client_data", m.EraseClientData, None, None,
        Cli("clients", "erase", "destroy a client's data key (crypto-shredding)", by_hand=True),
        run=clients.erase_client_data),
)

COMMANDS: dict[str, CommandSpec] = {spec.name: spec for spec in (*BILLING_COMMANDS, *TRUST)}
"""Every command by name; the entry points read this (at build time, not import time)."""
