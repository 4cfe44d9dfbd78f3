"""The command path's aggregate cache: cached loads give the state of a full replay,
optimistic concurrency stays exact across services, refusals leave the cache alone,
and a ledger written without the cache reads the same with it."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from commands import models as m
from commands.service import BillingService
from ledger.domain.errors import DailyHoursExceededError
from ledger.domain.matter import Matter
from ledger.store.firm import FirmStore
from tests.support.billing import ADMIN, client, key, log, matter, set_up_firm, timekeeper
from tests.support.threads import run_together

DAY = date(2024, 2, 1)


def replayed(store: FirmStore, matter_id: UUID) -> Matter:
    """The matter rebuilt from its whole stream, by a service with no cache."""
    with BillingService(store, aggregate_cache=0) as plain:
        found = plain.app.repository.get(matter_id)
    assert isinstance(found, Matter)
    return found


def cached(svc: BillingService, matter_id: UUID) -> Matter:
    found = svc.app.repository.get(matter_id)
    assert isinstance(found, Matter)
    return found


def state(aggregate: Matter) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


@pytest.fixture
def cached_service(firm_store: FirmStore) -> Any:
    with BillingService(firm_store, aggregate_cache=100) as svc:
        set_up_firm(svc)
        timekeeper(svc, "AB", 30_000)
        timekeeper(svc, "CD", 20_000)
        yield svc


def test_cached_matter_equals_a_full_replay(cached_service: BillingService,
                                            firm_store: FirmStore) -> None:
    svc = cached_service
    mt = matter(svc, client(svc))
    first = log(svc, mt, "AB", DAY, 30)
    log(svc, mt, "CD", DAY, 45)
    svc.set_rate(ADMIN, m.SetRate(idempotency_key=key(), matter_id=mt, timekeeper_id="AB",
                                  rate_minor_per_hour=40_000, effective_from=DAY))
    svc.correct_time(ADMIN, m.CorrectTime(idempotency_key=key(), matter_id=mt, entry_id=first,
                                          minutes=50, reason="typo", corrected_on=DAY))
    voided = log(svc, mt, "AB", DAY, 12)
    svc.void_entry(ADMIN, m.VoidEntry(idempotency_key=key(), matter_id=mt, entry_id=voided,
                                      reason="wrong matter", voided_on=DAY))
    assert svc.app.repository.cache is not None
    assert state(cached(svc, mt)) == state(replayed(firm_store, mt))
    assert cached(svc, mt).version == 7


def test_a_refused_command_leaves_the_cache_as_the_store(cached_service: BillingService,
                                                         firm_store: FirmStore) -> None:
    svc = cached_service
    mt = matter(svc, client(svc))
    log(svc, mt, "AB", DAY, 24 * 60 - 30)
    with pytest.raises(DailyHoursExceededError):
        log(svc, mt, "AB", DAY, 60)  # the matter records the entry, the day refuses it
    assert len(cached(svc, mt).entries) == 1
    assert state(cached(svc, mt)) == state(replayed(firm_store, mt))
    log(svc, mt, "AB", DAY, 30)
    assert len(replayed(firm_store, mt).entries) == 2


def test_another_services_entries_are_seen(cached_service: BillingService,
                                           firm_store: FirmStore) -> None:
    svc = cached_service
    mt = matter(svc, client(svc))
    log(svc, mt, "AB", DAY, 30)
    cached(svc, mt)  # in the cache now
    with BillingService(firm_store, aggregate_cache=100) as other:
        log(other, mt, "AB", DAY, 30)
    log(svc, mt, "AB", DAY, 30)
    assert len(cached(svc, mt).entries) == 3
    assert state(cached(svc, mt)) == state(replayed(firm_store, mt))


def test_a_conflict_at_save_is_retried_on_fresh_state(cached_service: BillingService,
                                                      firm_store: FirmStore) -> None:
    svc = cached_service
    mt = matter(svc, client(svc))
    log(svc, mt, "AB", DAY, 30)
    other = BillingService(firm_store, aggregate_cache=100)
    real_save = svc.app.save
    conflicts: list[int] = []

    def save_after_a_rival(*aggregates: Any) -> Any:
        if not conflicts:  # between this attempt's load and its save, another entry lands
            log(other, mt, "AB", DAY, 30)
        try:
            return real_save(*aggregates)
        except IntegrityError:
            conflicts.append(1)
            raise

    svc.app.save = save_after_a_rival  # type: ignore[method-assign]
    try:
        log(svc, mt, "AB", DAY, 30)
    finally:
        other.close()
    assert conflicts == [1]
    assert len(replayed(firm_store, mt).entries) == 3
    assert state(cached(svc, mt)) == state(replayed(firm_store, mt))


def test_two_cached_services_on_one_matter_stay_exact(cached_service: BillingService,
                                                       firm_store: FirmStore) -> None:
    svc = cached_service
    mt = matter(svc, client(svc))
    log(svc, mt, "AB", DAY, 30)
    other = BillingService(firm_store, aggregate_cache=100)
    cached(other, mt)
    per_service = 20  # 40 hours asked for on one day: 24 accepted, 16 refused

    def logging(service: BillingService) -> list[UUID | Exception]:
        out: list[UUID | Exception] = []
        for _ in range(per_service):
            try:
                out.append(log(service, mt, "CD", DAY, 60))
            except DailyHoursExceededError as exc:
                out.append(exc)
        return out

    try:
        results = run_together([lambda: logging(svc), lambda: logging(other)])
    finally:
        other.close()
    outcomes = [r for batch in results for r in batch]
    accepted = {r for r in outcomes if isinstance(r, UUID)}
    assert len(accepted) == 24
    assert all(isinstance(r, DailyHoursExceededError) for r in outcomes
               if not isinstance(r, UUID))
    stored = replayed(firm_store, mt)
    assert {e.entry_id for e in stored.entries.values() if e.timekeeper_id == "CD"} == accepted
    assert state(cached(svc, mt)) == state(stored)


def test_a_ledger_written_without_the_cache_reads_the_same_with_it(
        firm_store: FirmStore) -> None:
    with BillingService(firm_store, aggregate_cache=0) as before:
        set_up_firm(before)
        timekeeper(before, "AB", 30_000)
        mt = matter(before, client(before))
        for minutes in (30, 45, 60):
            log(before, mt, "AB", DAY, minutes)
    with BillingService(firm_store) as after:
        log(after, mt, "AB", DAY, 15)
        loaded = cached(after, mt)
        assert sorted(e.raw_minutes for e in loaded.entries.values()) == [15, 30, 45, 60]
        assert state(loaded) == state(replayed(firm_store, mt))


def test_threads_of_one_service_share_its_cache_exactly(cached_service: BillingService,
                                                        firm_store: FirmStore) -> None:
    svc = cached_service
    mt = matter(svc, client(svc))
    threads, each = 6, 8

    def logging(n: int) -> list[UUID]:
        return [log(svc, mt, "AB", date(2024, 3, 1 + n), 30) for _ in range(each)]

    results = run_together([lambda n=n: logging(n) for n in range(threads)])
    accepted = {entry for batch in results for entry in batch}
    assert len(accepted) == threads * each
    stored = replayed(firm_store, mt)
    assert set(stored.entries) == accepted
    assert state(cached(svc, mt)) == state(stored)
