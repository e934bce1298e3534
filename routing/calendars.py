"""Business hours and holidays, per time zone.

A calendar definition (the ``calendars.definition`` JSON, or a ``calendars:`` entry in
the site file)::

    timezone: Europe/Paris
    weekly:
      mon: ["08:00-12:00", "13:00-18:00"]     # a missing day is closed all day
      sat: ["09:00-12:00"]
    holidays:
      - {date: 2026-12-25, name: Christmas}                 # closed all day
      - {date: 2026-12-24, open: ["08:00-12:00"]}           # partial: these hours only

Hours are wall-clock times in the calendar's zone, ``24:00`` ends a day, and a range
cannot cross midnight (split it over two days). Wall-clock semantics hold across DST:
"08:00" is 08:00 local on both sides of a change; on the night the clocks go back, a
wall time that occurs twice is inside a range both times.

:func:`next_change` returns the exact instant the open/closed state next flips. It
checks every instant where a flip can happen: each range boundary (both readings of
an ambiguous wall time) and each UTC-offset change (where the wall clock jumps).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from routing.errors import CalendarError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_HORIZON_DAYS = 371

#: One opening range: seconds since local midnight, ``start < end <= 86400``.
Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Holiday:
    day: date
    name: str
    open: tuple[Range, ...]  # empty: closed all day


@dataclass(frozen=True, slots=True)
class Calendar:
    name: str
    zone: ZoneInfo
    weekly: tuple[tuple[Range, ...], ...]  # Monday first
    holidays: Mapping[date, Holiday]

    def ranges_on(self, day: date) -> tuple[Range, ...]:
        holiday = self.holidays.get(day)
        return holiday.open if holiday is not None else self.weekly[day.weekday()]


def parse_calendar(name: str, definition: Mapping[str, Any]) -> Calendar:
    """Validate a calendar definition.

    Raises:
        CalendarError: naming the calendar and the field, saying what to change.
    """
    if not isinstance(definition, Mapping):
        raise CalendarError(name, "definition", "must be a mapping with timezone, weekly and holidays")
    for key in definition:
        if key not in ("timezone", "weekly", "holidays"):
            raise CalendarError(name, str(key), "unknown field; known fields: holidays, timezone, weekly")
    zone_name = definition.get("timezone")
    if not isinstance(zone_name, str):
        raise CalendarError(name, "timezone", "is required, an IANA zone name such as 'Europe/Paris'")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(name, "timezone", f"unknown time zone {zone_name!r}; use an IANA name such as 'Asia/Shanghai'") from None
    weekly_spec = definition.get("weekly") or {}
    if not isinstance(weekly_spec, Mapping):
        raise CalendarError(name, "weekly", "must map mon..sun to lists of 'HH:MM-HH:MM' ranges")
    for day_name in weekly_spec:
        if day_name not in DAYS:
            raise CalendarError(name, f"weekly.{day_name}", f"unknown day; use {', '.join(DAYS)}")
    weekly = tuple(_ranges(name, f"weekly.{d}", weekly_spec.get(d) or []) for d in DAYS)
    return Calendar(name, zone, weekly, _holidays(name, definition.get("holidays") or []))


def _ranges(calendar: str, where: str, value: Any) -> tuple[Range, ...]:
    if not isinstance(value, list):
        raise CalendarError(calendar, where, "must be a list of 'HH:MM-HH:MM' ranges")
    ranges = []
    for i, text in enumerate(value):
        match = _RANGE.match(text) if isinstance(text, str) else None
        if match is None:
            raise CalendarError(calendar, f"{where}[{i}]", f"must look like '08:00-12:30' (got {text!r})")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
        if m1 > 59 or m2 > 59 or h1 > 23 or end > 86400:
            raise CalendarError(calendar, f"{where}[{i}]", f"{text!r} is not a time of day (00:00 to 24:00)")
        if end <= start:
            raise CalendarError(
                calendar, f"{where}[{i}]", f"{text!r} ends before it starts; split a range over midnight into two days"
            )
        ranges.append((start, end))
    ranges.sort()
    for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
        if start < end:
            raise CalendarError(calendar, where, "ranges overlap; merge them")
    return tuple(ranges)


def _holidays(calendar: str, value: Any) -> dict[date, Holiday]:
    if not isinstance(value, list):
        raise CalendarError(calendar, "holidays", "must be a list of {date, name, open}")
    found: dict[date, Holiday] = {}
    for i, item in enumerate(value):
        where = f"holidays[{i}]"
        if not isinstance(item, Mapping) or "date" not in item:
            raise CalendarError(calendar, where, "must be a mapping with at least a date: YYYY-MM-DD")
        for key in item:
            if key not in ("date", "name", "open"):
                raise CalendarError(calendar, f"{where}.{key}", "unknown field; known fields: date, name, open")
        raw = item["date"]
        try:
            day = raw if isinstance(raw, date) else date.fromisoformat(str(raw))
        except ValueError:
            raise CalendarError(calendar, f"{where}.date", f"must be a date YYYY-MM-DD (got {raw!r})") from None
        if day in found:
            raise CalendarError(calendar, f"{where}.date", f"{day} is listed twice")
        found[day] = Holiday(day, str(item.get("name", "")), _ranges(calendar, f"{where}.open", item.get("open") or []))
    return found


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"calendar times must carry a time zone, got naive {at.isoformat()}")


def is_open(calendar: Calendar, at: datetime) -> bool:
    """Whether ``at`` (an aware datetime) falls inside the calendar's opening hours."""
    _require_aware(at)
    local = at.astimezone(calendar.zone)
    second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return any(start <= second < end for start, end in calendar.ranges_on(local.date()))


def is_holiday(calendar: Calendar, at: datetime) -> bool:
    """Whether ``at``'s local date is a listed holiday (full or partial)."""
    _require_aware(at)
    return at.astimezone(calendar.zone).date() in calendar.holidays


def next_change(calendar: Calendar, after: datetime) -> datetime | None:
    """The first instant strictly after ``after`` where :func:`is_open` flips (in UTC),
    or None if it never does within a year (always open, or closed for good)."""
    _require_aware(after)
    state = is_open(calendar, after)
    first_day = after.astimezone(calendar.zone).date() - timedelta(days=1)
    for offset in range(_HORIZON_DAYS):
        day = first_day + timedelta(days=offset)
        for candidate in sorted(_candidates(calendar, day)):
            if candidate > after and is_open(calendar, candidate) != state:
                return candidate
    return None


def _candidates(calendar: Calendar, day: date) -> set[datetime]:
    """Every instant of local ``day`` at which the open state may flip."""
    found: set[datetime] = set()
    for start, end in calendar.ranges_on(day):
        for second in (start, end):
            wall = datetime.combine(day, time()) + timedelta(seconds=second)
            for fold in (0, 1):
                found.add(wall.replace(tzinfo=calendar.zone, fold=fold).astimezone(UTC))
    transition = _offset_change(calendar.zone, day)
    if transition is not None:
        found.add(transition)
    return found


def _offset_change(zone: ZoneInfo, day: date) -> datetime | None:
    """The instant the zone's UTC offset changes during local ``day``, if it does."""
    lo = int(datetime.combine(day, time(), tzinfo=zone).timestamp())
    hi = int(datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).timestamp())

    def offset(ts: int) -> timedelta | None:
        return datetime.fromtimestamp(ts, zone).utcoffset()

    if offset(lo) == offset(hi):
        return None
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if offset(mid) == offset(lo):
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)
