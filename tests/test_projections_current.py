"""Reads skip the catch-up when every read model is already at the head."""

from __future__ import annotations

from commands.service import BillingService
from ledger.store.firm import FirmStore
from projections.catalog import MODELS
from projections.reading import head_if_current, head_position
from projections.tracking import catch_up
from tests.support.billing import client, set_up_firm


def test_current_only_when_every_model_has_reached_the_head(
        firm_store: FirmStore, service: BillingService) -> None:
    models = list(MODELS.values())
    set_up_firm(service)
    assert head_if_current(firm_store, models) is None  # never made
    catch_up(firm_store, models[:2])
    assert head_if_current(firm_store, models[:2]) == head_position(firm_store)
    assert head_if_current(firm_store, models) is None  # the others have no tables yet
    catch_up(firm_store, models)
    head = head_position(firm_store)
    assert head_if_current(firm_store, models) == head
    client(service)  # one more event: every model is behind
    assert head_position(firm_store) > head
    assert head_if_current(firm_store, models) is None
    assert catch_up(firm_store, models) == head_position(firm_store)
    assert head_if_current(firm_store, models) == head_position(firm_store)
