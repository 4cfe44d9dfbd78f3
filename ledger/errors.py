"""Errors the ledger raises on purpose.

Every refusal has its own class and a stable ``type`` slug so that the command
line, the HTTP API and tests can tell causes apart without parsing messages.
Messages never carry confidential values.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every error the ledger raises deliberately."""

    type: str = "ledger-error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class DatabaseUnavailableError(LedgerError):
    """The configured PostgreSQL cannot be reached (wrong URL, server down)."""

    type = "database-unavailable"


class DatabaseBusyError(LedgerError):
    """Every connection of the process's pool stayed in use for the pool's wait.

    Why its own type: the server is up, the request was fine, only this
    process's connection budget is spent for the moment; a client retries
    (the API answers 503 with ``Retry-After``, the command line exits 2).
    """

    type = "database-busy"


class EmbeddedServerError(LedgerError):
    """The embedded PostgreSQL could not be started (for example a corrupt data folder)."""

    type = "embedded-server-failed"


class InvalidFirmNameError(LedgerError):
    """A firm name that cannot be turned into a schema name."""

    type = "invalid-firm-name"


class LedgerNotInitialisedError(LedgerError):
    """The firm's ledger schema does not exist yet and may not be created here."""

    type = "ledger-not-initialised"
