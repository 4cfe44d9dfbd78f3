"""Refusals of the trust-accounting rules (ABA Model Rule 1.15): one class per cause.

Each has a stable ``type`` slug so the command line, the HTTP API and tests
tell causes apart without reading messages. Messages name the field and the
amounts, never a payor, payee or other confidential value.
"""

from __future__ import annotations

from ledger.domain.errors import BillingRuleError, NotFoundError


class TrustRuleError(BillingRuleError):
    """A trust command broke a trust-accounting rule; nothing was recorded."""

    type = "trust-rule"


class TrustAccountNotFoundError(NotFoundError):
    type = "trust-account-not-found"


class TrustDepositNotFoundError(NotFoundError):
    type = "trust-deposit-not-found"


class TrustDisputeNotFoundError(NotFoundError):
    type = "trust-dispute-not-found"


class TrustStatementNotFoundError(NotFoundError):
    """No bank statement ends on the period end being reconciled."""

    type = "trust-statement-not-found"


class TrustOverdraftError(TrustRuleError):
    """A client's or matter's trust balance would go below zero (on some date)."""

    type = "trust-overdraft"


class TrustFundsDisputedError(TrustRuleError):
    """The money asked for is held in trust because it is in dispute (Rule 1.15(e))."""

    type = "trust-funds-disputed"


class TrustDisputeExceedsBalanceError(TrustRuleError):
    type = "trust-dispute-exceeds-balance"


class TrustComminglingError(TrustRuleError):
    """The firm's own money beyond what bank charges need (Rule 1.15(b))."""

    type = "trust-commingling"


class TrustFirmFundsInsufficientError(TrustRuleError):
    """A bank charge larger than the firm's own funds in trust: it would eat client money."""

    type = "trust-firm-funds-insufficient"


class TrustTransferBasisError(TrustRuleError):
    """A transfer to operating without an issued invoice of that client and matter."""

    type = "trust-transfer-without-invoice"


class TrustFeeNotEarnedError(TrustRuleError):
    """A flat-fee transfer larger than the part of the fee earned and not yet taken."""

    type = "trust-fee-not-earned"


class TrustNoticeMissingError(TrustRuleError):
    """No client notice of the withdrawal, or one dated after it (Iowa 45.7(4))."""

    type = "trust-notice-missing"


class TrustConsentMissingError(TrustRuleError):
    """A transfer between matters without the client's recorded consent."""

    type = "trust-consent-missing"


class TrustSameMatterError(TrustRuleError):
    type = "trust-transfer-same-matter"


class TrustWireUnauthorisedError(TrustRuleError):
    """A wire out of trust without its written authorisation memo."""

    type = "trust-wire-unauthorised"


class TrustDepositReversedError(TrustRuleError):
    type = "trust-deposit-already-reversed"


class TrustReplenishmentNotDueError(TrustRuleError):
    """An evergreen replenishment request while the balance is at or above the floor."""

    type = "trust-replenishment-not-due"


class TrustStatementUnbalancedError(TrustRuleError):
    """A statement whose opening balance plus its lines is not its closing balance."""

    type = "trust-statement-unbalanced"


class TrustStatementFormatError(TrustRuleError):
    """A bank statement CSV that cannot be read (the line and column are named)."""

    type = "trust-statement-format"


class TrustPeriodClosedError(TrustRuleError):
    """An entry dated on or before the last signed reconciliation's period end."""

    type = "trust-period-closed"


class TrustReconciliationUnbalancedError(TrustRuleError):
    """Signing a reconciliation whose three totals do not agree."""

    type = "trust-reconciliation-unbalanced"


class TrustCrossClientTransferError(TrustRuleError):
    """Money moved to another client's matter without the source client's written
    direction (reference and date) and a firm admin signer's approval."""

    type = "trust-cross-client-transfer"


class TrustNoticeReferenceMissingError(TrustRuleError):
    """A transfer to operating that names no client notice reference (``notice_reference``)."""

    type = "trust-notice-reference-missing"


class TrustUnauthorisedSignerError(TrustRuleError):
    """Money out of trust, or a reconciliation, named by someone who is not a current
    authorised signer of the account."""

    type = "unauthorised-signer"


class TrustSignerExistsError(TrustRuleError):
    type = "trust-signer-exists"


class TrustSignerNotFoundError(NotFoundError):
    type = "trust-signer-not-found"


class TrustDuplicateCheckError(TrustRuleError):
    """A cheque number already used on this account: a cheque is written once."""

    type = "trust-duplicate-check-number"


class TrustDuplicateDepositError(TrustRuleError):
    """A deposit reference already recorded on this account (the same money twice)."""

    type = "trust-duplicate-deposit-reference"


class TrustPaymentWithoutTransferError(TrustRuleError):
    """A payment recorded as ``trust`` with no money leaving trust: paying an invoice
    from trust is ``trust to-operating``, which moves both in one transaction."""

    type = "trust-payment-needs-transfer"


class TrustCoverExceedsShortfallError(TrustRuleError):
    """Firm money for a client matter beyond what brings its ledger back to zero."""

    type = "trust-cover-exceeds-shortfall"
