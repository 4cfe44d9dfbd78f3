"""The harness checker's trust rules can fail: each breach below is reported."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from uuid import UUID, uuid4

from tests.harness.checker import Row, Verdict, check_trust

MATTER = uuid4()


def movement(position: int, name: str, amount: int, on: date, *, xmin: int | None = None,
             matter: UUID = MATTER) -> Row:
    event = SimpleNamespace(matter_id=matter, amount_minor=amount, effective_on=on)
    return Row(position, xmin or position, None, uuid4(), name, event)


def accepted(position: int, xmin: int, balance: int) -> Row:
    event = SimpleNamespace(result={"matter_balance_minor": balance})
    return Row(position, xmin, None, uuid4(), "CommandAccepted", event)


def test_balances_that_never_go_below_zero_pass() -> None:
    verdict = Verdict()
    check_trust([movement(1, "TrustDepositRecorded", 500, date(2024, 1, 2)),
                 accepted(2, 1, 500),
                 movement(3, "TrustDisbursementRecorded", 500, date(2024, 1, 3), xmin=3),
                 accepted(4, 3, 0)], verdict)
    assert verdict.ok, verdict.violations
    assert verdict.figures == {"trust_movements": 2, "trust_held": 0}


def test_an_overdraft_in_recorded_order_is_a_breach() -> None:
    verdict = Verdict()
    check_trust([movement(1, "TrustDepositRecorded", 100, date(2024, 1, 2)),
                 movement(2, "TrustDisbursementRecorded", 101, date(2024, 1, 3))], verdict)
    assert not verdict.ok
    assert any("is -1 after position 2" in v for v in verdict.violations)


def test_a_back_dated_outflow_that_overdraws_an_earlier_day_is_a_breach() -> None:
    verdict = Verdict()
    check_trust([movement(1, "TrustDepositRecorded", 100, date(2024, 1, 5)),
                 movement(2, "TrustDisbursementRecorded", 100, date(2024, 1, 4))], verdict)
    assert not verdict.ok
    assert verdict.violations == [f"trust balance of matter {MATTER} is -100 on 2024-01-04"]


def test_a_result_stating_another_balance_is_a_breach() -> None:
    verdict = Verdict()
    check_trust([movement(1, "TrustDepositRecorded", 100, date(2024, 1, 5), xmin=7),
                 accepted(2, 7, 90)], verdict)
    assert verdict.violations == ["a trust command's result states 90, the ledger 100"]
