"""What a handler decides: the aggregates to save together, and the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.domain import Aggregate

from commands.auth import Principal
from commands.ledger_app import Context
from ledger.domain.command_record import ResultData


@dataclass
class Decision:
    """Aggregates whose new events are recorded in one transaction, and the result."""

    aggregates: list[Aggregate]
    result: ResultData = field(default_factory=dict)
    firm_keyed: bool = False
    """Fingerprint the command under the firm's secret even though it changes one
    client (erasure: its repeat must still be confirmed after the client's key is gone)."""


Handler = Callable[[Context, Principal, Any], Decision]
