"""The range of dates and moments the ledger accepts as parameters, checked once.

Why a range at all: Python's ``date`` and ``datetime`` stop at 0001-01-01 and
9999-12-31. A moment such as ``9999-12-31T23:59:59-14:00`` parses, but turning
it into UTC (as every ``as_of`` is) lands in the year 10000 and raises
``OverflowError`` deep inside a report. So every date or moment a caller gives
(HTTP query parameters, CLI flags) is checked here *before* any arithmetic, and
refused with the parameter's name.

Why these bounds: one day inside the calendar's edge at each end. A moment
whose local date lies in ``[0001-01-02, 9999-12-30]`` stays a representable date
at any UTC offset (offsets are under 24 hours), and a day in that range can be
stepped one day either way (the trust journal's opening balance is read on the
day before the period). The same bounds apply to business dates for symmetry.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from ledger.domain.errors import InvalidPeriodError
from ledger.errors import LedgerError

MIN_DAY = date(1, 1, 2)
MAX_DAY = date(9999, 12, 30)
RANGE_TEXT = f"between {MIN_DAY.isoformat()} and {MAX_DAY.isoformat()}"


class DateOutOfRangeError(LedgerError):
    """A date or moment outside ``[MIN_DAY, MAX_DAY]`` (the parameter is named)."""

    type = "invalid-request"


def check_day(value: date, field: str) -> date:
    """``value`` if it lies in the accepted range, else a refusal naming ``field``."""
    day = value.date() if isinstance(value, datetime) else value
    if not MIN_DAY <= day <= MAX_DAY:
        raise DateOutOfRangeError(f"{field} must fall {RANGE_TEXT}", field=field)
    return value


def check_moment(value: datetime, field: str) -> datetime:
    """The moment in UTC (naive means UTC), once its local date is known to be in range.

    The local date is checked first: converting an out-of-range moment is what
    overflows. The UTC date is then checked again, so both readings are in range.
    """
    check_day(value.date(), field)
    moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    check_day(moment.date(), field)
    return moment


def check_period(start: date | None, end: date | None, field: str) -> None:
    """Refuse a period (or window) that ends before it starts."""
    if start is not None and end is not None and end < start:
        raise InvalidPeriodError("the period starts after it ends", field=field)
