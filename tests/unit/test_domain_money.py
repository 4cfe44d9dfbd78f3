"""Money arithmetic: integers only, rounding half-up once per line."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.money import (
    billed_hours,
    format_money,
    percentage_of,
    round_up_to_increment,
    time_amount,
)


def exact_half_up(value: Fraction) -> int:
    """Reference rounding for non-negative values: .5 always rounds up."""
    whole = value.numerator // value.denominator
    return whole + (1 if value - whole >= Fraction(1, 2) else 0)


def test_line_amount_rounds_half_up_once() -> None:
    # 7 min at 100.00/h = 11.666… cents*100 → 1166.67 → 1167 minor units
    assert time_amount(7, 10_000) == 1167
    # 1 min at 0.30/h = 0.5 minor units exactly → rounds up to 1
    assert time_amount(1, 30) == 1
    # 1 min at 0.29/h = 0.4833… → 0
    assert time_amount(1, 29) == 0
    # 6 min at 333.33/h = 3333.3 → 3333
    assert time_amount(6, 33_333) == 3333
    # 90 min at 250.00/h = 375.00 exactly
    assert time_amount(90, 25_000) == 37_500


def test_contingency_percentage_rounds_half_up() -> None:
    assert percentage_of(100_000_00, 3_333) == 33_330_00  # 33.33 % of 100,000.00
    assert percentage_of(5, 1_000) == 1  # 10 % of 0.05 = 0.005 → 0.01
    assert percentage_of(4, 1_000) == 0  # 0.004 → 0.00


def test_minutes_round_up_to_increment() -> None:
    assert round_up_to_increment(1, 6) == 6
    assert round_up_to_increment(6, 6) == 6
    assert round_up_to_increment(7, 6) == 12
    assert round_up_to_increment(59, 15) == 60


def test_format_money_uses_the_currency_exponent() -> None:
    assert format_money(123_456, "USD") == "USD 1,234.56"
    assert format_money(1_234, "JPY") == "JPY 1,234"
    assert format_money(-5, "KWD") == "KWD -0.005"


@given(st.integers(0, 24 * 60 // 3), st.integers(0, 10**7))
def test_time_amount_matches_exact_half_up(thirds: int, rate: int) -> None:
    # Multiples of 3 minutes are exact in four-decimal hours: one rounding only.
    minutes = 3 * thirds
    assert time_amount(minutes, rate) == exact_half_up(Fraction(minutes * rate, 60))


@given(st.integers(0, 24 * 60), st.integers(0, 10**7))
def test_time_amount_is_the_stated_hours_times_the_rate(minutes: int, rate: int) -> None:
    hours = billed_hours(minutes)
    assert hours == exact_half_up(Fraction(minutes * 10_000, 60))
    assert time_amount(minutes, rate) == exact_half_up(Fraction(hours * rate, 10_000))
    assert abs(Fraction(time_amount(minutes, rate)) - Fraction(minutes * rate, 60)) <= (
        Fraction(1, 2) + Fraction(rate, 30_000))


@given(st.integers(0, 10**12), st.integers(0, 10_000))
def test_percentage_matches_exact_half_up(amount: int, bp: int) -> None:
    assert percentage_of(amount, bp) == exact_half_up(Fraction(amount * bp, 10_000))


@given(st.integers(1, 24 * 60), st.integers(1, 60))
def test_rounded_minutes_are_the_least_multiple_not_below(minutes: int, inc: int) -> None:
    rounded = round_up_to_increment(minutes, inc)
    assert rounded % inc == 0 and minutes <= rounded < minutes + inc
