"""Rebuild equals live, and a projection killed mid-batch applies nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from commands.service import BillingService
from ledger.store.firm import FirmStore
from projections.catalog import MODELS
from projections.live import live_runners, wait_for
from projections.reading import APPLICATION_NAME
from projections.tracking import catch_up, open_view, split_models
from tests.support.quarter import record_quarter

ALL = list(MODELS.values())


def snapshot(store: FirmStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model table, row for row, in primary-key order."""
    out = {}
    with store.location.connect() as conn:
        for model in ALL:
            for t in model.tables:
                keys = ", ".join(t.key)
                out[t.name] = conn.execute(
                    f'SELECT * FROM "{store.schema}"."{t.name}" ORDER BY {keys}').fetchall()
    return out


def positions(store: FirmStore) -> dict[str, int | None]:
    found = {}
    for m in ALL:
        view = open_view(store, m)
        found[m.name] = view.max_tracking_id(APPLICATION_NAME)
        view.datastore.close()
    return found


def test_live_runners_follow_the_ledger_and_rebuild_equals_live(
        service: BillingService, firm_store: FirmStore) -> None:
    with live_runners(firm_store, ALL) as runners:
        record_quarter(service)
        wait_for(firm_store, runners, firm_store.head().position, timeout=30)
    live = snapshot(firm_store)
    assert len(live["rm_invoices"]) == 5 and len(live["rm_statement_lines"]) > 10
    catch_up(firm_store, ALL, rebuild=True, page=7)
    assert snapshot(firm_store) == live
    head = firm_store.head().position
    assert set(positions(firm_store).values()) == {head}


def test_rebuild_in_two_processes_equals_one_process(service: BillingService,
                                                     firm_store: FirmStore) -> None:
    record_quarter(service)
    catch_up(firm_store, ALL, rebuild=True, processes=1)
    one = snapshot(firm_store)
    assert split_models(ALL, 2)[0] and split_models(ALL, 2)[1]
    catch_up(firm_store, ALL, rebuild=True, processes=2, page=11)
    assert snapshot(firm_store) == one
    head = firm_store.head().position
    assert set(positions(firm_store).values()) == {head}


def test_models_split_by_weight() -> None:
    groups = split_models(ALL, 2)
    assert sorted(m.name for g in groups for m in g) == sorted(MODELS)
    weights = [sum(m.weight for m in g) for g in groups]
    assert max(weights) - min(weights) <= max(m.weight for m in ALL)
    assert split_models(ALL[:1], 2) == [ALL[:1]]


def test_rebuild_of_one_model_leaves_the_others(service: BillingService,
                                                firm_store: FirmStore) -> None:
    record_quarter(service)
    catch_up(firm_store, ALL)
    before = snapshot(firm_store)
    catch_up(firm_store, [MODELS["statements"]], rebuild=True)
    assert snapshot(firm_store) == before


CRASHING = textwrap.dedent("""
    import os, signal, sys
    from ledger.database import DatabaseLocation
    from ledger.store.firm import FirmStore
    from projections import events as ev
    from projections.catalog import MODELS
    from projections.tracking import catch_up

    store = FirmStore(DatabaseLocation(sys.argv[1], False), sys.argv[2])
    applied = 0
    kill_after = int(sys.argv[3])
    for model in MODELS.values():
        for cls, fold in list(model.folds.items()):
            def counted(rows, pos, oid, e, _fold=fold):
                global applied
                _fold(rows, pos, oid, e)
                applied += 1
                if applied == kill_after:
                    os.kill(os.getpid(), signal.SIGKILL)
            model.folds[cls] = counted
    catch_up(store, list(MODELS.values()), page=int(sys.argv[4]))
""")


@pytest.mark.parametrize("kill_after", [1, 40, 97])
def test_killed_mid_batch_then_restarted_applies_nothing_twice(
        service: BillingService, firm_store: FirmStore, kill_after: int) -> None:
    record_quarter(service)
    proc = subprocess.run(
        [sys.executable, "-c", CRASHING, firm_store.location.url, firm_store.firm,
         str(kill_after), "9"], capture_output=True, text=True, timeout=120,
        cwd=os.getcwd(), check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    crashed_at = positions(firm_store)
    assert all((p or 0) < firm_store.head().position for p in crashed_at.values())
    catch_up(firm_store, ALL, page=9)  # the restart
    resumed = snapshot(firm_store)
    catch_up(firm_store, ALL, rebuild=True)
    assert snapshot(firm_store) == resumed
