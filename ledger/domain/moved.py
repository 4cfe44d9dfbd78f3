"""Stored topics of classes that moved to another module, kept as first recorded.

A stored event's topic (``module:Class``) is part of its hash and names the class
that decodes it, so moving a class must change neither. Each moved class keeps
writing its first topic through the library's ``TOPIC`` class attribute (set in
its own module, so no ``get_topic`` call can come first), and this module makes
that topic resolve to the class in any process, even one that has not imported
it yet (``register_topic``). The mapper (``ledger.codec``) imports this module,
so whoever decodes events has it.
"""

from __future__ import annotations

from eventsourcing.utils import register_topic

from ledger.domain.trust.account import TrustAccount
from ledger.domain.trust.events import TRUST_EVENTS

MOVED: tuple[type, ...] = (TrustAccount, *TRUST_EVENTS)
"""Classes whose stored topic names a module they no longer live in."""

for _cls in MOVED:
    register_topic(_cls.TOPIC, _cls)  # type: ignore[attr-defined]
