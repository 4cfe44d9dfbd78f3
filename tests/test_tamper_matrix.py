"""The tamper matrix on a real ledger recorded through the billing commands."""

from __future__ import annotations

import os

import pytest

from commands.demo import record_demo_scenario
from commands.service import BillingService
from ledger.store.firm import FirmStore
from ledger.verify import verify_chain
from tests.tamper_matrix import run_matrix

CASES = int(os.environ.get("LEDGER_TAMPER_CASES", "600"))


def test_every_generated_damage_is_found_at_its_position(
    firm_store: FirmStore, capsys: pytest.CaptureFixture[str]
) -> None:
    with BillingService(firm_store) as service:
        record_demo_scenario(service)
    assert verify_chain(firm_store.location, firm_store.schema).ok
    result = run_matrix(firm_store, CASES, seed=20261126)
    with capsys.disabled():
        print("\n" + result.summary())
    assert verify_chain(firm_store.location, firm_store.schema).ok  # every case rolled back
    assert result.missed == []
    assert result.detected == result.at_right_position == CASES


def test_every_damage_is_named_alike_when_verified_in_ranges(
    firm_store: FirmStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """The range driver's join gives the serial report for every case, the damage cut
    to sit at a range's first or last position or among ranges of 1, 2 or 7."""
    with BillingService(firm_store) as service:
        record_demo_scenario(service)
    result = run_matrix(firm_store, CASES // 2, seed=20261204, ranged=True)
    with capsys.disabled():
        print("\nin ranges, " + result.summary())
    assert result.differ == []
    assert result.missed == []
    assert result.detected == result.at_right_position == CASES // 2
