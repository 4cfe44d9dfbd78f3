"""The hash-chained PostgreSQL event store (see ``chain`` for the byte layout)."""

from ledger.store.chain import ChainHasher, genesis_hash
from ledger.store.recorder import ChainedApplicationRecorder, ChainedProcessRecorder

__all__ = [
    "ChainHasher",
    "ChainedApplicationRecorder",
    "ChainedProcessRecorder",
    "genesis_hash",
]
