"""Bad-input fuzzing of every command through ``BillingService``.

For every command model, hypothesis draws valid-ish payloads (from the model's
JSON schema, with real ids of a seeded ledger) and garbage ones, and a principal
(firm admin, a clerk with one client's grant, a stranger). Each is parsed with
``commands.models.parse`` and sent. The outcome must be a result, or a
``LedgerError`` subclass with its own non-empty ``type`` slug; after a refusal
the ledger holds exactly the events it held before. The chain verifies at the end.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands import models as m
from commands.auth import Principal
from commands.service import BillingService
from ledger.database import DatabaseLocation
from ledger.errors import LedgerError
from ledger.store.firm import FirmStore
from ledger.verify import verify_chain
from tests.harness.strategies import COMMANDS, payloads
from tests.support.firms import drop_firm, new_firm_name

EXAMPLES = int(os.environ.get("LEDGER_FUZZ_EXAMPLES", "60"))
ADMIN = Principal(id="fuzz-admin", roles=frozenset({"firm_admin"}))
CLERK = Principal(id="fuzz-clerk", roles=frozenset({"billing_clerk"}))
STRANGER = Principal(id="fuzz-stranger")
_keys = itertools.count(1)


@dataclass
class Seeded:
    store: FirmStore
    service: BillingService
    ids: dict[str, list[str]]
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)


def _run(svc: BillingService, verb: str, **fields: Any) -> dict[str, Any]:
    model = COMMANDS[verb].model_validate({"idempotency_key": f"seed-{next(_keys):06d}",
                                           **fields})
    return dict(getattr(svc, verb)(ADMIN, model).data)


def seed(svc: BillingService) -> dict[str, list[str]]:
    """A small ledger with something of every kind to aim at; returns the ids."""
    on = date(2024, 1, 1)
    _run(svc, "set_up_firm", currency="USD", invoice_prefix="FZ-", effective_on=on)
    _run(svc, "register_timekeeper", timekeeper_id="PA", name="Pat", title="PARTNR",
         default_rate_minor_per_hour=50_000, effective_on=on)
    clients = [_run(svc, "onboard_client", name=f"C{n}", billing_contact="ap", currency="USD",
                    payment_terms_days=30, effective_on=on)["client_id"] for n in range(2)]
    hourly = _run(svc, "open_matter", client_id=clients[0], title="H", opened_on=on)["matter_id"]
    flat = _run(svc, "open_matter", client_id=clients[1], title="F", opened_on=on,
                arrangement={"kind": "flat_fee", "amount_minor": 100_000})["matter_id"]
    contingency = _run(svc, "open_matter", client_id=clients[1], title="C", opened_on=on,
                       arrangement={"kind": "contingency", "percentage_bp": 2_500})["matter_id"]
    closed = _run(svc, "open_matter", client_id=clients[0], title="X", opened_on=on)["matter_id"]
    _run(svc, "close_matter", matter_id=closed, reason="finished", closed_on=on)
    entries = [_run(svc, "log_time", matter_id=hourly, timekeeper_id="PA",
                    work_on=date(2024, 1, 10 + n), minutes=90, narrative="work")["entry_id"]
               for n in range(3)]
    expense = _run(svc, "log_expense", matter_id=hourly, spent_on=date(2024, 1, 12),
                   description="fee", amount_minor=5_000, currency="USD")["entry_id"]
    recovery = _run(svc, "record_recovery", matter_id=contingency, amount_minor=1_000_000,
                    recovered_on=date(2024, 1, 20))["recovery_id"]
    issued = _run(svc, "draft_invoice", matter_id=hourly, period_start="2024-01-01",
                  period_end="2024-01-11", drafted_on="2024-01-31")["invoice_id"]
    _run(svc, "issue_invoice", invoice_id=issued, issued_on="2024-02-01")
    draft = _run(svc, "draft_invoice", matter_id=hourly, period_start="2024-01-01",
                 period_end="2024-01-31", drafted_on="2024-01-31")["invoice_id"]
    flat_invoice = _run(svc, "draft_invoice", matter_id=flat, period_start="2024-01-01",
                        period_end="2024-01-31", drafted_on="2024-01-31")["invoice_id"]
    _run(svc, "issue_invoice", invoice_id=flat_invoice, issued_on="2024-02-01")
    payment = _run(svc, "record_payment", client_id=clients[0], amount_minor=200_000,
                   currency="USD", method="wire", reference="W1", received_on="2024-02-10",
                   allocations=[{"invoice_id": issued, "amount_minor": 10_000}])["payment_id"]
    grant = _run(svc, "grant_access", principal_id=CLERK.id, scope="client",
                 scope_id=clients[0], role="billing_clerk", reason="collections",
                 granted_on=on)["grant_id"]
    ids: dict[str, list[str]] = {
        "client_id": clients, "matter_id": [hourly, flat, contingency, closed],
        "entry_id": [*entries, expense, recovery], "invoice_id": [issued, draft, flat_invoice],
        "payment_id": [payment], "grant_id": [grant]}
    ids["scope_id"] = ids["client_id"] + ids["matter_id"]
    ids[""] = sorted({i for pool in ids.values() for i in pool})
    return ids


@pytest.fixture(scope="module")
def seeded(database: DatabaseLocation) -> Iterator[Seeded]:
    store = FirmStore(database, new_firm_name(), pool_size=4)
    store.ensure()
    service = BillingService(store)
    try:
        yield Seeded(store, service, seed(service))
    finally:
        service.close()
        drop_firm(database, store)


@pytest.mark.parametrize("verb", sorted(COMMANDS))
def test_every_outcome_is_a_result_or_a_typed_refusal_with_nothing_written(
        seeded: Seeded, verb: str, capsys: pytest.CaptureFixture[str]) -> None:
    model = COMMANDS[verb]
    outcomes: Counter[str] = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(payload=payloads(model, seeded.ids),
           who=st.sampled_from([ADMIN, ADMIN, CLERK, STRANGER]),
           fresh_key=st.integers(0, 3).map(bool))
    def fuzz(payload: dict[str, Any], who: Principal, fresh_key: bool) -> None:
        if fresh_key and isinstance(payload.get("idempotency_key"), str):
            # Mostly a key never used before: shrunk keys would all collide.
            payload = {**payload, "idempotency_key": f"fuzz-{next(_keys):08d}"}
        before = seeded.service.event_count()
        try:
            command = m.parse(model, payload)
            getattr(seeded.service, verb)(who, command)
        except LedgerError as exc:
            assert type(exc) is not LedgerError, f"a bare LedgerError: {exc.message}"
            assert exc.type and exc.type != LedgerError.type, type(exc).__name__
            assert seeded.service.event_count() == before, f"{exc.type} after a partial write"
            outcomes[exc.type] += 1
        else:
            assert seeded.service.event_count() >= before
            outcomes["(accepted)"] += 1

    fuzz()
    seeded.outcomes[verb] = outcomes
    with capsys.disabled():
        print(f"\nfuzz {verb}: {sum(outcomes.values())} examples, "
              f"{dict(sorted(outcomes.items()))}")


def test_the_fuzzed_ledger_still_verifies(seeded: Seeded) -> None:
    report = verify_chain(seeded.store.location, seeded.store.schema)
    assert report.ok, report.as_dict()
    assert report.checked == seeded.service.event_count()


def test_an_issue_date_without_a_representable_due_date_is_a_typed_refusal(
        seeded: Seeded) -> None:
    # A matter of its own: the fuzzing before this test may have closed the seeded ones.
    hourly = _run(seeded.service, "open_matter", client_id=seeded.ids["client_id"][0],
                  title="late", opened_on=date(2024, 1, 1))["matter_id"]
    _run(seeded.service, "log_time", matter_id=hourly, timekeeper_id="PA",
         work_on=date(2024, 3, 1), minutes=30, narrative="late work")
    draft = _run(seeded.service, "draft_invoice", matter_id=hourly,
                 period_start="2024-03-01", period_end="2024-03-01",
                 drafted_on="2024-03-01")["invoice_id"]
    before = seeded.service.event_count()
    command = m.IssueInvoice(idempotency_key=f"fuzz-{next(_keys):08d}", invoice_id=UUID(draft),
                             issued_on=date(9999, 12, 31))
    with pytest.raises(LedgerError) as refused:
        seeded.service.issue_invoice(ADMIN, command)
    assert refused.value.type != LedgerError.type
    assert seeded.service.event_count() == before


def test_a_nul_character_is_refused_or_the_read_models_still_build(seeded: Seeded) -> None:
    from projections.catalog import MODELS
    from projections.tracking import catch_up

    try:
        command = m.parse(m.OnboardClient, {
            "idempotency_key": f"fuzz-{next(_keys):08d}", "name": "Acme\x00Ltd",
            "billing_contact": "ap", "currency": "USD", "payment_terms_days": 30,
            "effective_on": "2024-01-01"})
        seeded.service.onboard_client(ADMIN, command)
    except LedgerError as refused:
        assert refused.type == "invalid-command"
        return
    catch_up(seeded.store, list(MODELS.values()))
