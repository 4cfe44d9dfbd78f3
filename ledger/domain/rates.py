"""Which hourly rate prices a time entry: the one rule, used by drafting and by WIP.

A matter's rate for a timekeeper is the one in effect on the work date: of the
``RateSet`` facts effective on or before it, the latest (on a tie of dates, the
higher rate, as ``max`` over ``(date, rate)`` has always chosen). Without one, the
timekeeper's default rate applies, but only when the matter bills in the firm's
currency (a default rate is in the firm's currency; converting it is not ours to
do). Otherwise there is no rate: drafting refuses (``rate-not-set``), WIP counts
the entry as unpriced.

The aggregates (``Matter``, ``Firm``) and the read model (``rm_rates``,
``rm_timekeepers``) hand the same facts to these functions, so an invoice and
the WIP report never price the same entry differently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date


def rate_in_effect(history: Iterable[tuple[date, int]], on: date) -> int | None:
    """The matter rate in effect on a date, from its ``(effective_from, rate)`` history."""
    found = [r for r in history if r[0] <= on]
    return max(found)[1] if found else None


def billing_rate(history: Iterable[tuple[date, int]], on: date, *, matter_currency: str,
                 firm_currency: str | None,
                 default_rate: Callable[[], int | None]) -> int | None:
    """The rate a time entry worked ``on`` is billed at, or ``None`` when there is none.

    ``default_rate`` is asked only when the matter has no rate of its own and bills
    in the firm's currency (looking it up may refuse an unknown timekeeper).
    """
    rate = rate_in_effect(history, on)
    if rate is None and matter_currency == firm_currency:
        rate = default_rate()
    return rate
