"""The record of an accepted command, for idempotency.

Saved in the same transaction as the command's events, under an id derived
from (principal, idempotency key). A repeat finds it and returns the stored
result; a concurrent duplicate conflicts on version 1 of the same id, retries,
and then finds it. ``payload_sha256`` tells a true repeat from a reuse of the
key for a different command.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from ledger.domain import ids
from ledger.domain.events import LedgerCreated

ResultData = dict[str, str | int]


class CommandAccepted(LedgerCreated):
    idempotency_key: str
    command: str
    payload_sha256: str
    result: ResultData


class CommandRecord(Aggregate):
    def __init__(self) -> None:
        self.command = ""
        self.payload_sha256 = ""
        self.result: ResultData = {}

    @classmethod
    def accept(cls, *, actor: str, effective_on: date, idempotency_key: str, command: str,
               payload_sha256: str, result: ResultData) -> CommandRecord:
        return cls._create(
            CommandAccepted, id=ids.command_record_id(actor, idempotency_key), actor=actor,
            effective_on=effective_on, idempotency_key=idempotency_key, command=command,
            payload_sha256=payload_sha256, result=result,
        )

    def when(self, event: Any) -> None:
        if isinstance(event, CommandAccepted):
            self.command, self.payload_sha256 = event.command, event.payload_sha256
            self.result = dict(event.result)
