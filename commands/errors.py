"""Refusals of the command side (authorisation, idempotency, validation)."""

from __future__ import annotations

from ledger.errors import LedgerError


class AccessDeniedError(LedgerError):
    """The principal holds no grant that permits this action on this client or matter."""

    type = "access-denied"


class IdempotencyConflictError(LedgerError):
    """The idempotency key was already used for a different command or payload."""

    type = "idempotency-conflict"


class InvalidCommandError(LedgerError):
    """A command's fields failed validation (the field and reason are given)."""

    type = "invalid-command"


class ConcurrentUpdateError(LedgerError):
    """The command kept conflicting with concurrent writers; nothing was recorded."""

    type = "concurrent-update"
