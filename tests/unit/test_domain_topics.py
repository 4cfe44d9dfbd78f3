"""Moved classes keep the stored topics they were first recorded with.

A stored topic is hashed into each event, so a class that moves module must keep
writing its first topic, and that topic must resolve in a fresh process.
"""

from __future__ import annotations

import subprocess
import sys

from eventsourcing.utils import get_topic

from ledger.domain.trust.account import TrustAccount
from ledger.domain.trust.events import TRUST_EVENTS, TrustDepositRecorded


def test_trust_classes_write_their_first_topics() -> None:
    assert get_topic(TrustAccount) == "ledger.domain.trust:TrustAccount"
    assert get_topic(TrustDepositRecorded) == "ledger.domain.trust_events:TrustDepositRecorded"
    assert all(get_topic(cls).startswith("ledger.domain.trust_events:") for cls in TRUST_EVENTS)
    assert len({get_topic(cls) for cls in TRUST_EVENTS}) == len(TRUST_EVENTS)


def test_first_topics_resolve_in_a_process_that_only_imported_the_mapper() -> None:
    code = ("import ledger.codec\n"
            "from eventsourcing.utils import resolve_topic\n"
            "print(resolve_topic('ledger.domain.trust:TrustAccount').__module__,\n"
            "      resolve_topic('ledger.domain.trust_events:TrustAccountOpened').__module__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["ledger.domain.trust.account", "ledger.domain.trust.events"]
