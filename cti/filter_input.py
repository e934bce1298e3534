"""What a user types into a search filter (the audit log, the recordings search): a day
or a moment, and whole numbers.

Empty input means "not given". Anything else that does not parse raises the caller's
own error class (a ``ValueError`` the web turns into a message), worded so the user
knows what to type instead: the searches are typed by people, often from a bookmark.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

Default = TypeVar("Default", int, None)


def day_or_time(value: str, zone: ZoneInfo, what: str, *, end: bool,
                error: type[ValueError]) -> datetime | None:
    """A day (``2026-11-22``) or an ISO time (``2026-11-22T09:30``), in ``zone`` unless
    it names its own offset. A day as the ``end`` of a range means the end of that day
    (the next midnight), so a range of days includes its last one; as a start, its
    midnight. None when ``value`` is blank."""
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day + timedelta(days=1) if end else day, time(), zone)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise error(f"{what}: give a date (2026-11-22) or a time (2026-11-22T09:30), got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def whole_number(value: str, what: str, default: Default, error: type[ValueError], *,
                 low: int | None = None, high: int | None = None) -> int | Default:
    """Digits only, within ``low`` and ``high`` when given; ``default`` when blank."""
    value = value.strip()
    if not value:
        return default
    number = int(value) if value.isdigit() else None
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        raise error(f"{what}: give a whole number{_bounds(low, high)}, got {value!r}")
    return number


def _bounds(low: int | None, high: int | None) -> str:
    if high is not None:
        return f" between {low or 0} and {high}"
    return "" if low is None else f" of at least {low}"


__all__ = ["day_or_time", "whole_number"]
