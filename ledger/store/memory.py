"""A firm's ledger held in memory, for running the same rules without PostgreSQL.

:class:`MemoryStore` stands where a :class:`~ledger.store.firm.FirmStore` stands when an
application's environment is built, and points the eventsourcing library at its in-memory
(POPO) recorders instead of the chained PostgreSQL store. The unit tests use it to run the
command handlers exactly as in production (same application, same codec, same optimistic
concurrency and retries) in a fraction of the time and with no server.

What it does not have, by design: no hash chain (nothing is verified in memory), and no
client key store (that lives in the firm's schema), so confidential fields are kept in clear
and erasure, which destroys keys in the database, is not available.
"""

from __future__ import annotations

from dataclasses import dataclass

POPO_MODULE = "eventsourcing.popo"


@dataclass(frozen=True)
class MemoryStore:
    """One firm's events in this process's memory, gone when the application closes."""

    firm: str = "memory"

    @property
    def schema(self) -> str:
        return f"memory_{self.firm}"

    def environment(self) -> dict[str, str]:
        """The library's in-memory recorders, and no cipher (no key store to seal with)."""
        return {"PERSISTENCE_MODULE": POPO_MODULE, "CIPHER_TOPIC": ""}
