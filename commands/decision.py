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


Handler = Callable[[Context, Principal, Any], Decision]
