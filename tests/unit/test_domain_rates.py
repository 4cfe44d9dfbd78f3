"""The one rate rule (``ledger.domain.rates``): which rate prices a time entry."""

from __future__ import annotations

from datetime import date
from functools import partial

from ledger.domain.rates import billing_rate, rate_in_effect

HISTORY = [(date(2024, 1, 1), 30_000), (date(2024, 3, 1), 35_000), (date(2024, 3, 1), 34_000)]


def test_the_rate_in_effect_is_the_latest_from_on_or_before_the_date() -> None:
    assert rate_in_effect(HISTORY, date(2023, 12, 31)) is None
    assert rate_in_effect(HISTORY, date(2024, 1, 1)) == 30_000
    assert rate_in_effect(HISTORY, date(2024, 2, 29)) == 30_000
    assert rate_in_effect(HISTORY, date(2024, 3, 1)) == 35_000  # same date: the higher


def test_the_default_rate_only_in_the_firms_currency_and_only_when_needed() -> None:
    asked: list[str] = []

    def default() -> int:
        asked.append("asked")
        return 20_000

    usd = partial(billing_rate, matter_currency="USD", firm_currency="USD",
                  default_rate=default)
    assert usd(HISTORY, date(2024, 2, 1)) == 30_000
    assert asked == []
    assert usd(HISTORY, date(2023, 6, 1)) == 20_000
    assert billing_rate([], date(2023, 6, 1), matter_currency="EUR", firm_currency="USD",
                        default_rate=default) is None
    assert asked == ["asked"]
