"""An event-sourced, hash-chained billing ledger for law firms.

The kernel package: the hash-chained PostgreSQL event store, verification,
settings and logging. It imports nothing from ``commands`` or ``projections``.
"""

__version__ = "0.1.0"
