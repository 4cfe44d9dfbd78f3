"""Fault and load harness: concurrent writers, a fault controller, and a checker.

``run_harness`` starts an embedded PostgreSQL of its own in a temporary folder
(never a shared server, even when ``LEDGER_DATABASE_URL`` is set, because it
restarts the server), sets up one firm, and runs N writer processes issuing
random valid and invalid billing commands while a controller SIGKILLs writers,
terminates database backends with ``pg_terminate_backend`` and restarts the
server. Each writer logs every acknowledged command; the checker then proves
the ledger's invariants against those logs (see ``tests.harness.checker``).
"""

from tests.harness.checker import Verdict, check
from tests.harness.controller import HarnessConfig, HarnessReport, run_harness

__all__ = ["HarnessConfig", "HarnessReport", "Verdict", "check", "run_harness"]
