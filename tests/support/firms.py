"""A firm of its own per test: fresh names, and dropping what a test made."""

from __future__ import annotations

import uuid

from ledger.database import DatabaseLocation
from ledger.store.firm import FirmStore
from tests.chain_helpers import close_datastores


def new_firm_name() -> str:
    return "t" + uuid.uuid4().hex[:12]


def drop_firm(database: DatabaseLocation, store: FirmStore) -> None:
    """Drop the firm's schema and role (after closing the pools the helpers opened)."""
    close_datastores()
    with database.connect() as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
        conn.execute(f'DROP ROLE IF EXISTS "{store.app_role}"')
