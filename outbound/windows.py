"""Calling windows in the contact's local time.

Rules such as the US Telemarketing Sales Rule (8 am to 9 pm at the called person's
location) and most national codes are stated in the *callee's* local time, so a
window is a local wall-clock range checked in each of the contact's zones
(:func:`outbound.phone.contact_zones`); a contact with several zones is callable
only while every one of them is inside the window.

Wall-clock semantics: a window of 08:00-21:00 is open from the instant the local
clock reads 08:00 until it reads 21:00, whatever the UTC offset that day, so DST
changes move the window in UTC and never shorten or stretch it in local time.
A window whose end is before its start runs overnight (22:00-02:00 belongs to the
weekday on which it starts). Weekdays are ``datetime.weekday()`` numbers, Monday 0.

Instants returned are in UTC: Python compares two datetimes that share a tzinfo by
wall clock, which is wrong across a DST fold, so all arithmetic here is done in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

EVERY_DAY = frozenset(range(7))
#: How far ahead :func:`next_open` looks before concluding the window never opens.
SEARCH_DAYS = 8


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True)
class CallingWindow:
    """Local wall-clock hours during which calls may be placed."""

    start: time = time(8, 0)
    end: time = time(21, 0)
    weekdays: frozenset[int] = field(default=EVERY_DAY)

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ValueError("a calling window needs different start and end times")
        if not self.weekdays or not self.weekdays <= EVERY_DAY:
            raise ValueError("weekdays must be a non-empty set of 0 (Monday) to 6 (Sunday)")

    @property
    def overnight(self) -> bool:
        return self.end < self.start

    def is_open_local(self, local: datetime) -> bool:
        """Whether the window is open at this local wall-clock time."""
        clock = local.time()
        day = local.weekday()
        if not self.overnight:
            return day in self.weekdays and self.start <= clock < self.end
        if clock >= self.start:
            return day in self.weekdays
        return clock < self.end and (day - 1) % 7 in self.weekdays


def is_open(window: CallingWindow, zones: Sequence[str], at: datetime) -> bool:
    """True when ``at`` (timezone-aware) is inside the window in every zone."""
    if at.tzinfo is None:
        raise ValueError("is_open needs a timezone-aware datetime")
    return all(window.is_open_local(at.astimezone(_zone(z))) for z in zones)


def _starts(window: CallingWindow, zone: str, at: datetime) -> Iterable[datetime]:
    tz = _zone(zone)
    today = at.astimezone(tz).date()
    for offset in range(-1, SEARCH_DAYS + 1):
        day = today + timedelta(days=offset)
        if day.weekday() in window.weekdays:
            yield datetime.combine(day, window.start, tzinfo=tz).astimezone(UTC)


def next_open(window: CallingWindow, zones: Sequence[str], at: datetime) -> datetime | None:
    """The earliest instant at or after ``at`` when the window is open in every zone.

    ``None`` when that does not happen within :data:`SEARCH_DAYS` (zones too far
    apart for the window to overlap, for instance): the contact cannot be called
    under this window and the caller should say so rather than retry forever.
    """
    if is_open(window, zones, at):
        return at.astimezone(UTC)
    instant = at.astimezone(UTC)
    candidates = sorted({s for z in zones for s in _starts(window, z, instant) if s > instant})
    for candidate in candidates:
        if is_open(window, zones, candidate):
            return candidate
    return None


def local_day(at: datetime, zone: str) -> date:
    """The calendar date at ``at`` in ``zone`` (daily caps count per local day)."""
    return at.astimezone(_zone(zone)).date()


def next_local_midnight(zones: Sequence[str], at: datetime) -> datetime:
    """The first instant after ``at`` at which a new local day has begun in every zone."""
    latest = at.astimezone(UTC)
    for name in zones:
        tz = _zone(name)
        tomorrow = at.astimezone(tz).date() + timedelta(days=1)
        latest = max(latest, datetime.combine(tomorrow, time(0, 0), tzinfo=tz).astimezone(UTC))
    return latest
