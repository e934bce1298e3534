"""Business hours, holidays, time zones, midnight and DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.calendars import DAYS, Calendar, is_holiday, is_open, next_change, parse_calendar
from routing.errors import CalendarError

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")

OFFICE = parse_calendar(
    "office",
    {
        "timezone": "Europe/Paris",
        "weekly": {d: ["08:00-12:00", "13:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["09:00-12:00"]},
        "holidays": [
            {"date": "2026-12-25", "name": "Christmas"},
            {"date": "2026-12-24", "name": "Christmas Eve", "open": ["08:00-12:00"]},
        ],
    },
)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (paris(2026, 11, 23, 7, 59, 59), False),  # Monday before opening
        (paris(2026, 11, 23, 8, 0), True),  # opening is inclusive
        (paris(2026, 11, 23, 11, 59, 59), True),
        (paris(2026, 11, 23, 12, 0), False),  # closing is exclusive: lunch
        (paris(2026, 11, 23, 13, 30), True),
        (paris(2026, 11, 28, 10, 0), True),  # Saturday morning
        (paris(2026, 11, 28, 14, 0), False),
        (paris(2026, 11, 29, 10, 0), False),  # Sunday: not listed = closed
        (paris(2026, 12, 25, 10, 0), False),  # full-day holiday on a Friday
        (paris(2026, 12, 24, 10, 0), True),  # partial holiday: morning only
        (paris(2026, 12, 24, 14, 0), False),
        (datetime(2026, 11, 23, 7, 30, tzinfo=UTC), True),  # 08:30 in Paris
        (datetime(2026, 11, 23, 10, 30, tzinfo=ZoneInfo("Asia/Shanghai")), False),  # 03:30 in Paris
    ],
)
def test_is_open(at: datetime, expected: bool) -> None:
    assert is_open(OFFICE, at) is expected


def test_is_holiday_uses_the_calendar_date() -> None:
    assert is_holiday(OFFICE, paris(2026, 12, 25, 0, 30))
    assert is_holiday(OFFICE, datetime(2026, 12, 24, 23, 30, tzinfo=UTC))  # already the 25th in Paris
    assert not is_holiday(OFFICE, paris(2026, 12, 26, 0, 30))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        is_open(OFFICE, datetime(2026, 11, 23, 9, 0))


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        (paris(2026, 11, 23, 7, 0), paris(2026, 11, 23, 8, 0)),
        (paris(2026, 11, 23, 8, 0), paris(2026, 11, 23, 12, 0)),  # strictly after
        (paris(2026, 11, 23, 12, 30), paris(2026, 11, 23, 13, 0)),
        (paris(2026, 11, 27, 19, 0), paris(2026, 11, 28, 9, 0)),  # Friday evening -> Saturday
        (paris(2026, 11, 28, 12, 0), paris(2026, 11, 30, 8, 0)),  # over the closed Sunday
        (paris(2026, 12, 24, 9, 0), paris(2026, 12, 24, 12, 0)),  # partial holiday closes at noon
        (paris(2026, 12, 24, 12, 0), paris(2026, 12, 26, 9, 0)),  # Christmas closed, Saturday opens
    ],
)
def test_next_change(after: datetime, expected: datetime) -> None:
    assert next_change(OFFICE, after) == expected


def test_midnight_ranges() -> None:
    night = parse_calendar(
        "night", {"timezone": "Asia/Shanghai", "weekly": {"mon": ["22:00-24:00"], "tue": ["00:00-06:00"]}}
    )
    shanghai = ZoneInfo("Asia/Shanghai")
    assert is_open(night, datetime(2026, 11, 23, 23, 59, 59, tzinfo=shanghai))
    assert is_open(night, datetime(2026, 11, 24, 0, 0, tzinfo=shanghai))
    assert not is_open(night, datetime(2026, 11, 24, 6, 0, tzinfo=shanghai))
    # 24:00 Monday and 00:00 Tuesday touch: the state does not flip at midnight.
    assert next_change(night, datetime(2026, 11, 23, 22, 0, tzinfo=shanghai)) == datetime(2026, 11, 24, 6, 0, tzinfo=shanghai)


def test_always_open_or_closed_never_changes() -> None:
    always = parse_calendar("24x7", {"timezone": "UTC", "weekly": {d: ["00:00-24:00"] for d in DAYS}})
    never = parse_calendar("never", {"timezone": "UTC"})
    at = datetime(2026, 1, 1, tzinfo=UTC)
    assert is_open(always, at) and next_change(always, at) is None
    assert not is_open(never, at) and next_change(never, at) is None


def test_dst_spring_forward_wall_clock_and_gap() -> None:
    # New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT.
    calendar = parse_calendar("ny", {"timezone": "America/New_York", "weekly": {d: ["02:30-05:00", "08:00-17:00"] for d in DAYS}})
    assert is_open(calendar, datetime(2026, 3, 8, 8, 0, tzinfo=NEW_YORK))  # 08:00 EDT is still 08:00
    assert is_open(calendar, datetime(2026, 3, 7, 13, 0, tzinfo=UTC))  # 08:00 EST
    assert is_open(calendar, datetime(2026, 3, 8, 12, 0, tzinfo=UTC))  # 08:00 EDT
    # 02:30 does not exist that night: the calendar opens the moment the clock jumps.
    before = datetime(2026, 3, 8, 1, 0, tzinfo=NEW_YORK)
    opening = next_change(calendar, before)
    assert opening == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)  # 02:00 EST == 03:00 EDT
    assert opening is not None and opening.astimezone(NEW_YORK).hour == 3
    assert next_change(calendar, opening) == datetime(2026, 3, 8, 5, 0, tzinfo=NEW_YORK)


def test_dst_fall_back_repeated_hour() -> None:
    # New York, 2026-11-01: 02:00 EDT goes back to 01:00 EST; 01:00-01:59 happens twice.
    calendar = parse_calendar("ny", {"timezone": "America/New_York", "weekly": {d: ["00:00-01:30"] for d in DAYS}})
    x = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 00:00 EDT, open
    changes = []
    for _ in range(4):
        nxt = next_change(calendar, x)
        assert nxt is not None
        changes.append((nxt, is_open(calendar, nxt)))
        x = nxt
    assert changes == [
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), False),  # 01:30 EDT: closes
        (datetime(2026, 11, 1, 6, 0, tzinfo=UTC), True),  # clocks go back to 01:00 EST: open again
        (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), False),  # 01:30 EST: closes
        (datetime(2026, 11, 2, 5, 0, tzinfo=UTC), True),  # next midnight (EST)
    ]


def test_dst_europe_opening_stays_at_wall_time() -> None:
    # Paris switches on 2026-03-29 and 2026-10-25: 08:00 stays 08:00 local.
    opening_before = next_change(OFFICE, paris(2026, 3, 27, 19, 0))  # Friday evening
    assert opening_before == paris(2026, 3, 28, 9, 0)
    assert opening_before.astimezone(UTC).hour == 8  # CET
    monday = next_change(OFFICE, paris(2026, 3, 28, 13, 0))
    assert monday == paris(2026, 3, 30, 8, 0)
    assert monday is not None and monday.astimezone(UTC).hour == 6  # CEST


INVALID: list[tuple[Any, str, str]] = [
    ([], "definition", "must be a mapping"),
    ({}, "timezone", "is required"),
    ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
    ({"timezone": "UTC", "hours": {}}, "hours", "unknown field"),
    ({"timezone": "UTC", "weekly": {"monday": []}}, "weekly.monday", "unknown day"),
    ({"timezone": "UTC", "weekly": {"mon": "08:00-12:00"}}, "weekly.mon", "must be a list"),
    ({"timezone": "UTC", "weekly": {"mon": ["8-12"]}}, "weekly.mon[0]", "must look like"),
    ({"timezone": "UTC", "weekly": {"mon": ["08:00-24:30"]}}, "weekly.mon[0]", "not a time of day"),
    ({"timezone": "UTC", "weekly": {"mon": ["22:00-02:00"]}}, "weekly.mon[0]", "split a range over midnight"),
    ({"timezone": "UTC", "weekly": {"mon": ["08:00-12:00", "11:00-13:00"]}}, "weekly.mon", "overlap"),
    ({"timezone": "UTC", "holidays": [{"name": "x"}]}, "holidays[0]", "at least a date"),
    ({"timezone": "UTC", "holidays": [{"date": "2026-13-01"}]}, "holidays[0].date", "YYYY-MM-DD"),
    ({"timezone": "UTC", "holidays": [{"date": "2026-12-25"}, {"date": "2026-12-25"}]}, "holidays[1].date", "twice"),
    ({"timezone": "UTC", "holidays": [{"date": "2026-12-25", "closed": []}]}, "holidays[0].closed", "unknown field"),
]


@pytest.mark.parametrize(("definition", "field", "message"), INVALID)
def test_invalid_definitions(definition: Any, field: str, message: str) -> None:
    with pytest.raises(CalendarError) as caught:
        parse_calendar("office", definition)
    assert (caught.value.calendar, caught.value.field) == ("office", field)
    assert message in caught.value.problem


ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Shanghai"]
RANGES = st.lists(st.tuples(st.integers(0, 95), st.integers(1, 96)), max_size=3)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    weekly = {}
    for day in DAYS:
        quarters = sorted({q for a, b in draw(RANGES) for q in range(min(a, b), max(a, b))})
        spans: list[list[int]] = []
        for q in quarters:  # merge adjacent quarter-hours into ranges
            if spans and spans[-1][1] == q:
                spans[-1][1] = q + 1
            else:
                spans.append([q, q + 1])
        weekly[day] = [f"{a // 4:02d}:{a % 4 * 15:02d}-{b // 4:02d}:{b % 4 * 15:02d}" for a, b in spans]
    return parse_calendar("gen", {"timezone": draw(st.sampled_from(ZONES)), "weekly": weekly})


@settings(max_examples=60, deadline=None)
@given(calendar=calendars(), start=st.integers(1_767_225_600, 1_830_297_600), probes=st.lists(st.floats(0, 1), max_size=8))
def test_next_change_is_the_first_flip(calendar: Calendar, start: int, probes: list[float]) -> None:
    after = datetime.fromtimestamp(start, UTC)
    state = is_open(calendar, after)
    change = next_change(calendar, after)
    if change is None:
        for days in range(0, 14):
            assert is_open(calendar, after + timedelta(days=days, minutes=7)) is state
        return
    assert change > after
    assert is_open(calendar, change) is not state
    span = (change - after).total_seconds()
    for fraction in probes:  # nothing flips strictly between `after` and the change
        probe = after + timedelta(seconds=span * fraction)
        if probe < change:
            assert is_open(calendar, probe) is state
