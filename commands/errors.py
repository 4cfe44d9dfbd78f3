"""Refusals of the command side (authorisation, idempotency, validation)."""

from __future__ import annotations

from ledger.domain.policy import AccessDeniedError
from ledger.errors import LedgerError

__all__ = ["AccessDeniedError", "ConcurrentUpdateError", "IdempotencyConflictError",
           "InvalidCommandError"]


class IdempotencyConflictError(LedgerError):
    """The idempotency key was already used for a different command or payload."""

    type = "idempotency-conflict"


class InvalidCommandError(LedgerError):
    """A command's fields failed validation (the field and reason are given)."""

    type = "invalid-command"


class ConcurrentUpdateError(LedgerError):
    """The command kept conflicting with concurrent writers; nothing was recorded."""

    type = "concurrent-update"
