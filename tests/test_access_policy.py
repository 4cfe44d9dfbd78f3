"""The access policy on its own (no database): the grant check, reach, forms, rows."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from ledger.domain import EVENT_CATALOG, policy
from ledger.domain.access import AccessList
from ledger.domain.errors import ClientNotFoundError, InvoiceNotFoundError, MatterNotFoundError
from ledger.domain.policy import AccessDeniedError, Scope

DAY = date(2024, 3, 1)
C1, C2, M1 = uuid4(), uuid4(), uuid4()


def access(role: str = "billing_clerk", expires_on: date | None = None,
           scope: str = "client") -> AccessList:
    grants = AccessList.open(actor="admin", effective_on=DAY, principal_id="p")
    grants.grant(actor="admin", effective_on=DAY, grant_id=uuid4(), scope=scope,  # type: ignore[arg-type]
                 scope_id=C1 if scope == "client" else M1, role=role,  # type: ignore[arg-type]
                 reason="engagement", expires_on=expires_on)
    return grants


def test_out_of_reach_is_refused_with_the_unknown_ids_error_attached() -> None:
    with pytest.raises(AccessDeniedError) as refused:
        policy.require("billing_clerk", access(), "bill", client_id=C2, day=DAY)
    assert isinstance(refused.value.hidden, ClientNotFoundError)
    assert refused.value.hidden.message == "no such client"
    with pytest.raises(AccessDeniedError) as matter:
        policy.require("billing_clerk", None, "read", client_id=C2, matter_id=M1, day=DAY)
    assert isinstance(matter.value.hidden, MatterNotFoundError)
    with pytest.raises(AccessDeniedError) as invoice:
        policy.require("client", None, "read", client_id=C2, day=DAY,
                       hidden=policy.not_found("invoice"))
    assert isinstance(invoice.value.hidden, InvoiceNotFoundError)


def test_within_reach_but_not_permitted_is_a_plain_refusal() -> None:
    with pytest.raises(AccessDeniedError) as refused:
        policy.require("auditor", access("auditor"), "bill", client_id=C1, day=DAY)
    assert refused.value.hidden is None
    policy.require("billing_clerk", access(), "bill", client_id=C1, day=DAY)
    policy.require("firm_admin", None, "bill", client_id=C2, day=DAY)


def test_a_grant_holds_until_the_day_before_it_expires() -> None:
    grants = access(expires_on=date(2024, 3, 2))
    assert policy.can_read("client", grants, client_id=C1, day=DAY)
    assert not policy.can_read("client", grants, client_id=C1, day=date(2024, 3, 2))
    assert policy.reach_of("client", grants, day=date(2024, 3, 2)).describe() == "none"


def test_reach_and_covers() -> None:
    now = policy.reach_of("client", access(), day=DAY)
    assert now == Scope(clients=frozenset({C1}), role="client")
    assert now.covers(now) and not Scope(role="client").covers(now)
    assert not now.covers(Scope(clients=frozenset({C1}), role="auditor"))
    firm = policy.reach_of("firm_admin", None, day=DAY)
    assert firm.firm and now.narrowed(firm) == now
    matter_only = policy.reach_of("client", access(scope="matter"), day=DAY)
    assert matter_only.matters == {M1} and not matter_only.covers(now)


def test_every_catalog_type_has_one_form_per_role() -> None:
    names = [cls.__name__ for cls in EVENT_CATALOG]
    client = {n for n in names if policy.role_form("client", n) != policy.WITHHELD}
    assert client == {"ClientOnboarded", "InvoiceIssued", "PaymentApplied", "CreditNoteIssued",
                      "PaymentReceived", "PaymentAllocated", "WrittenOff", "InvoiceVoided"}
    assert {n for n in names if policy.role_form("timekeeper", n) == policy.WITHHELD} == (
        policy.MONEY_EVENTS)
    for role in ("firm_admin", "billing_clerk", "auditor"):
        assert {policy.role_form(role, n) for n in names} == {policy.FULL}
    outside = Scope(clients=frozenset({C2}), role="billing_clerk")
    assert policy.event_form(outside, "ClientOnboarded", C1, None) == policy.WITHHELD
    assert policy.event_form(outside, "FirmSetUp", None, None) == policy.WITHHELD


def test_redacted_forms_hide_internal_reasons_and_confidential_values() -> None:
    client = Scope(clients=frozenset({C1}), role="client")
    payload = {"amount_minor": 5, "reason": "partner call", "approved_by": "pa"}
    assert policy.apply_form(client, "WrittenOff", payload) == policy.REDACTED
    assert payload == {"amount_minor": 5, "reason": {"redacted": True},
                       "approved_by": {"redacted": True}}
    warehouse = Scope(firm=True, confidential=False)
    onboarded = {"confidential": {"name": "N"}, "currency": "USD"}
    assert policy.apply_form(warehouse, "ClientOnboarded", onboarded) == policy.REDACTED
    assert onboarded["confidential"] == {"redacted": True}
    credit = {"reason": "goodwill"}
    assert policy.apply_form(client, "CreditNoteIssued", credit) == policy.FULL
    assert credit == {"reason": "goodwill"}


def test_rows_a_client_sees() -> None:
    assert not policy.shown_invoice("client", {"number": None})
    assert policy.shown_invoice("client", {"number": "INV-1"})
    assert policy.shown_invoice("billing_clerk", {"number": None})
    line = {"kind": "write_off", "reference": "partner call"}
    assert policy.statement_line("client", line)["reference"] == {"redacted": True}
    assert policy.statement_line("auditor", line) == line
    assert policy.statement_line("client", {"kind": "credit", "reference": "x"})["reference"] == "x"
