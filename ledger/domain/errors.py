"""Refusals of the billing rules: one class per cause, each with a stable slug.

Messages name the field and the reason, never a confidential value (client or
matter names, narratives, descriptions).
"""

from __future__ import annotations

from ledger.errors import LedgerError


class BillingRuleError(LedgerError):
    """A command broke a billing rule; nothing was recorded."""

    type = "billing-rule"


class NotFoundError(BillingRuleError):
    type = "not-found"


class FirmNotSetUpError(NotFoundError):
    type = "firm-not-set-up"


class ClientNotFoundError(NotFoundError):
    type = "client-not-found"


class MatterNotFoundError(NotFoundError):
    type = "matter-not-found"


class InvoiceNotFoundError(NotFoundError):
    type = "invoice-not-found"


class PaymentNotFoundError(NotFoundError):
    type = "payment-not-found"


class EntryNotFoundError(NotFoundError):
    type = "entry-not-found"


class UnknownTimekeeperError(NotFoundError):
    type = "unknown-timekeeper"


class GrantNotFoundError(NotFoundError):
    type = "grant-not-found"


class FirmAlreadySetUpError(BillingRuleError):
    type = "firm-already-set-up"


class DuplicateTimekeeperError(BillingRuleError):
    type = "duplicate-timekeeper"


class UnknownCurrencyError(BillingRuleError):
    type = "unknown-currency"


class CurrencyMismatchError(BillingRuleError):
    type = "currency-mismatch"


class ClientMismatchError(BillingRuleError):
    type = "client-mismatch"


class InvalidAmountError(BillingRuleError):
    type = "invalid-amount"


class InvalidArrangementError(BillingRuleError):
    type = "invalid-arrangement"


class WrongArrangementError(BillingRuleError):
    type = "wrong-arrangement"


class InvalidPeriodError(BillingRuleError):
    type = "invalid-period"


class MatterClosedError(BillingRuleError):
    type = "matter-closed"


class InvalidDurationError(BillingRuleError):
    type = "invalid-duration"


class DailyHoursExceededError(BillingRuleError):
    type = "daily-hours-exceeded"


class UtbmsCodeError(BillingRuleError):
    type = "invalid-utbms-code"


class EntryVoidedError(BillingRuleError):
    type = "entry-voided"


class AlreadyBilledError(BillingRuleError):
    type = "already-billed"


class RateNotSetError(BillingRuleError):
    type = "rate-not-set"


class NothingToBillError(BillingRuleError):
    type = "nothing-to-bill"


class InvoiceNotDraftError(BillingRuleError):
    type = "invoice-not-draft"


class InvoiceNotIssuedError(BillingRuleError):
    type = "invoice-not-issued"


class DraftOutdatedError(BillingRuleError):
    type = "draft-outdated"


class WriteDownExceedsLineError(BillingRuleError):
    type = "write-down-exceeds-line"


class InvoiceHasPaymentsError(BillingRuleError):
    type = "invoice-has-payments"


class InvoiceHasAdjustmentsError(BillingRuleError):
    type = "invoice-has-adjustments"


class AllocationExceedsPaymentError(BillingRuleError):
    type = "allocation-exceeds-payment"


class AllocationExceedsBalanceError(BillingRuleError):
    type = "allocation-exceeds-balance"


class WriteOffExceedsBalanceError(BillingRuleError):
    type = "write-off-exceeds-balance"


class CreditExceedsBalanceError(BillingRuleError):
    type = "credit-exceeds-balance"
