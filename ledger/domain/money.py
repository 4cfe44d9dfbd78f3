"""Money and time arithmetic, in integers only.

Amounts are integer counts of a currency's minor unit (cents for USD) paired
with an ISO 4217 code; durations are whole minutes; rates are minor units per
hour; percentages are basis points (1/100 of a percent).

Rounding happens in exactly two documented places, both *half-up* on
non-negative integers and both applied once, to one line:

* a time line's amount: its hours, stated to four decimals (what an invoice and a
  LEDES file show), times the hourly rate: ``hours = (minutes × 10 000 + 30) // 60``
  ten-thousandths, ``amount = (hours × rate + 5 000) // 10 000`` (7 min at 100.00/h
  = 0.1167 h → 11.67). When the minutes are a multiple of 3 the hours are exact and
  this is ``minutes × rate / 60`` rounded once; otherwise the hours are rounded
  first, so that a line's hours × rate always gives its amount to the cent;
* a contingency fee: ``recovery × basis_points / 10 000`` →
  ``(recovery × bp + 5 000) // 10 000``.

Invoice totals are sums of already rounded lines, never re-rounded; so an
invoice's total always equals the sum of its lines.
"""

from __future__ import annotations

from typing import Final

MINUTES_PER_HOUR: Final = 60
HOUR_SCALE: Final = 10_000  # hours are stated to four decimals (LEDES's precision)
MINUTES_PER_DAY: Final = 24 * 60
BASIS_POINTS: Final = 10_000
DEFAULT_INCREMENT_MINUTES: Final = 6

# ISO 4217 codes we accept, with their minor-unit exponent (digits after the point).
CURRENCY_EXPONENTS: Final[dict[str, int]] = {
    "AED": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2,
    "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2,
    "INR": 2, "ISK": 0, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2, "MYR": 2, "NOK": 2,
    "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2,
    "TRY": 2, "TWD": 2, "USD": 2, "ZAR": 2,
}


def is_currency(code: str) -> bool:
    return code in CURRENCY_EXPONENTS


def round_up_to_increment(minutes: int, increment: int) -> int:
    """Billable minutes: raw minutes rounded *up* to the matter's increment."""
    assert minutes > 0 and increment > 0
    return -(-minutes // increment) * increment


def billed_hours(minutes: int) -> int:
    """Minutes as hours in ten-thousandths (four decimals), rounded half-up."""
    assert minutes >= 0
    return (minutes * HOUR_SCALE + MINUTES_PER_HOUR // 2) // MINUTES_PER_HOUR


def time_amount(minutes: int, rate_per_hour: int) -> int:
    """A time line's amount in minor units: its stated hours × the rate, half-up.

    Why the hours first: an e-billing system checks ``hours × rate = amount`` on
    the hours as written (four decimals), so the amount is computed from them.
    """
    assert minutes >= 0 and rate_per_hour >= 0
    return (billed_hours(minutes) * rate_per_hour + HOUR_SCALE // 2) // HOUR_SCALE


def percentage_of(amount: int, basis_points: int) -> int:
    """``amount × basis_points / 10 000``, rounded half-up once."""
    assert amount >= 0 and basis_points >= 0
    return (amount * basis_points + BASIS_POINTS // 2) // BASIS_POINTS


def format_money(amount: int, currency: str) -> str:
    """``12345, "USD"`` → ``"USD 123.45"`` (display only; never parsed back)."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    sign = "-" if amount < 0 else ""
    whole, minor = divmod(abs(amount), 10**exponent)
    if exponent == 0:
        return f"{currency} {sign}{whole:,}"
    return f"{currency} {sign}{whole:,}.{minor:0{exponent}d}"
