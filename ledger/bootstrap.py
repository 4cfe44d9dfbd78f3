"""The composition root: everything one process needs, built once from settings.

Why one place: each part of the ledger (applications, read models, key
stores, the access log, webhook stores, subscribers) used to open its own
pool or plain connections, so a single ``ledger serve`` held dozens of
PostgreSQL connections. Here a process gets one :class:`Process`: the
database location carrying the process's one :class:`ConnectionBudget`
(``LEDGER_POOL_SIZE`` connections tagged ``legal-ledger/<role>``, plus one
dedicated LISTEN connection and, while a COPY runs, one more), and the firm
store every component is built on, so every component borrows from that pool.

Entry points (``ledger serve`` and the HTTP app, every command-line verb,
``projections rebuild``'s worker process) call :func:`open_process` or
:func:`open_store`; no other module opens a store or a pool. What an entry point
then builds on the store (the HTTP app's service, key store and access log:
``ledger.api.state.open_state``) borrows from that store's pool, so this module
needs neither side of the ledger nor the shell, and nothing it imports imports it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ledger.database import DatabaseLocation, locate_database
from ledger.settings import Settings
from ledger.store.firm import FirmStore
from ledger.store.pool import ConnectionBudget, budgeted
from ledger.store.schema import schema_for_firm

_LOCK = threading.Lock()
_CURRENT: Process | None = None


@dataclass
class Process:
    """One process's database location (with its budget) and firm stores."""

    settings: Settings
    role: str
    location: DatabaseLocation
    _stores: dict[str, FirmStore] = field(default_factory=dict)

    @property
    def budget(self) -> ConnectionBudget:
        assert self.location.budget is not None
        return self.location.budget

    def store(self, firm: str | None = None, *, create: bool = True) -> FirmStore:
        """The firm's store on this process's pool, created on first use."""
        name = firm or self.settings.firm
        schema_for_firm(name)  # refuse a bad name before reaching the server
        store = self._stores.get(name)
        if store is None:
            store = FirmStore(self.location, name, pool_size=self.budget.size)
            self._stores[name] = store
        if create:
            store.ensure()
        return store

    def close(self) -> None:
        self.budget.close()



def open_process(settings: Settings, *, role: str) -> Process:
    """The process's one :class:`Process` (made on the first call, then reused)."""
    global _CURRENT  # noqa: PLW0603 - one per process, by design
    with _LOCK:
        if _CURRENT is None or _CURRENT.budget.closed:
            plain = locate_database(settings)
            with plain.connect():  # an unreachable server: one clear error, at once
                pass
            location = budgeted(plain, role=role, size=settings.pool_size,
                                wait=settings.pool_wait_seconds)
            _CURRENT = Process(settings, role, location)
        return _CURRENT


def open_store(settings: Settings, *, role: str, firm: str | None = None,
               create: bool = True) -> FirmStore:
    """The firm's store of this process (see :func:`open_process`)."""
    schema_for_firm(firm or settings.firm)  # refuse a bad name before starting a server
    return open_process(settings, role=role).store(firm, create=create)


def close_process() -> None:
    """Close the process's pool and LISTEN connection (end of a command, of serve)."""
    global _CURRENT
    with _LOCK:
        current, _CURRENT = _CURRENT, None
    if current is not None:
        current.close()
