"""Deterministic ids of aggregates that are found by a key rather than created.

A uuid5 id makes "find or create" race-free: two writers creating the same
aggregate both try version 1 of the same id, and one gets a conflict.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid5

from ledger.domain.events import ids_namespace

_NS = ids_namespace()


def firm_id() -> UUID:
    return uuid5(_NS, "firm")


def invoice_series_id() -> UUID:
    return uuid5(_NS, "invoice-series")


def timesheet_day_id(timekeeper_id: str, day: date) -> UUID:
    return uuid5(_NS, f"timesheet-day/{timekeeper_id}/{day.isoformat()}")


def access_list_id(principal_id: str) -> UUID:
    return uuid5(_NS, f"access-list/{principal_id}")


def command_record_id(principal_id: str, idempotency_key: str) -> UUID:
    return uuid5(_NS, f"command/{principal_id}/{idempotency_key}")
