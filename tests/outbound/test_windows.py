"""Calling windows in the contact's local time: zones, DST, midnight, several zones."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outbound.windows import CallingWindow, is_open, local_day, next_local_midnight, next_open

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
DEFAULT = CallingWindow()   # 08:00-21:00 every day


def at(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


@pytest.mark.parametrize(
    ("local", "open_"),
    [
        (at(NY, 2026, 3, 10, 7, 59, 59), False),
        (at(NY, 2026, 3, 10, 8, 0), True),
        (at(NY, 2026, 3, 10, 20, 59, 59), True),
        (at(NY, 2026, 3, 10, 21, 0), False),     # the end is exclusive
        (at(NY, 2026, 3, 10, 0, 0), False),
    ],
)
def test_default_window_edges(local: datetime, open_: bool) -> None:
    assert is_open(DEFAULT, ["America/New_York"], local.astimezone(UTC)) is open_


@pytest.mark.parametrize(
    ("local", "open_"),
    [
        # 2026-03-08: New York springs forward at 02:00 (EST -5 -> EDT -4).
        (at(NY, 2026, 3, 8, 7, 59), False),
        (at(NY, 2026, 3, 8, 8, 0), True),
        (at(NY, 2026, 3, 8, 20, 59), True),
        (at(NY, 2026, 3, 8, 21, 0), False),
        # 2026-11-01: falls back at 02:00.
        (at(NY, 2026, 11, 1, 7, 59), False),
        (at(NY, 2026, 11, 1, 8, 0), True),
        (at(NY, 2026, 11, 1, 21, 0), False),
    ],
)
def test_window_follows_the_local_clock_across_dst(local: datetime, open_: bool) -> None:
    assert is_open(DEFAULT, ["America/New_York"], local.astimezone(UTC)) is open_


def test_same_utc_instant_open_in_one_zone_closed_in_another() -> None:
    instant = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)   # 09:00 New York, 14:00 London, 06:00 Los Angeles
    assert is_open(DEFAULT, ["America/New_York"], instant)
    assert is_open(DEFAULT, ["Europe/London"], instant)
    assert not is_open(DEFAULT, ["America/Los_Angeles"], instant)
    assert not is_open(DEFAULT, ["America/New_York", "America/Los_Angeles"], instant)


def test_weekdays_are_local_weekdays() -> None:
    weekdays = CallingWindow(time(9), time(17), frozenset(range(5)))
    friday_evening_utc = datetime(2026, 6, 5, 23, 30, tzinfo=UTC)      # Saturday 07:30 in Shanghai
    assert not is_open(weekdays, ["Asia/Shanghai"], friday_evening_utc)
    monday = next_open(weekdays, ["Asia/Shanghai"], friday_evening_utc)
    assert monday == datetime(2026, 6, 8, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(
    ("local", "open_"),
    [
        (at(LONDON, 2026, 6, 5, 21, 59), False),
        (at(LONDON, 2026, 6, 5, 22, 0), True),    # Friday night, window started Friday
        (at(LONDON, 2026, 6, 5, 23, 59), True),
        (at(LONDON, 2026, 6, 6, 0, 0), True),     # past midnight, still Friday's window
        (at(LONDON, 2026, 6, 6, 1, 59), True),
        (at(LONDON, 2026, 6, 6, 2, 0), False),
        (at(LONDON, 2026, 6, 6, 22, 30), False),  # Saturday is not a window day
        (at(LONDON, 2026, 6, 7, 1, 0), False),    # ... so Sunday 01:00 is closed
    ],
)
def test_overnight_window_belongs_to_the_day_it_starts(local: datetime, open_: bool) -> None:
    night = CallingWindow(time(22), time(2), frozenset(range(5)))
    assert is_open(night, ["Europe/London"], local) is open_


def test_next_open_later_today_and_tomorrow() -> None:
    early = at(NY, 2026, 3, 10, 6, 30)
    assert next_open(DEFAULT, ["America/New_York"], early) == at(NY, 2026, 3, 10, 8, 0)
    late = at(NY, 2026, 3, 10, 22, 15)
    assert next_open(DEFAULT, ["America/New_York"], late) == at(NY, 2026, 3, 11, 8, 0)
    assert next_open(DEFAULT, ["America/New_York"], at(NY, 2026, 3, 10, 12, 0)) == at(NY, 2026, 3, 10, 12, 0)


def test_next_open_on_the_spring_forward_morning() -> None:
    night = at(NY, 2026, 3, 8, 1, 0)
    opened = next_open(DEFAULT, ["America/New_York"], night)
    assert opened is not None
    assert opened.astimezone(NY).hour == 8
    assert opened.astimezone(UTC) - night.astimezone(UTC) == timedelta(hours=6)   # 01:00 EST -> 08:00 EDT


def test_next_open_needs_every_zone() -> None:
    instant = datetime(2026, 6, 1, 11, 0, tzinfo=UTC)    # 07:00 New York, 04:00 Los Angeles
    opened = next_open(DEFAULT, ["America/New_York", "America/Los_Angeles"], instant)
    assert opened == datetime(2026, 6, 1, 15, 0, tzinfo=UTC)   # 08:00 in Los Angeles, 11:00 in New York


def test_no_overlap_means_never() -> None:
    short = CallingWindow(time(9), time(11))
    assert next_open(short, ["Asia/Shanghai", "America/New_York"], datetime(2026, 6, 1, tzinfo=UTC)) is None


def test_local_day_and_midnight() -> None:
    instant = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)
    assert local_day(instant, "Asia/Shanghai").isoformat() == "2026-06-02"
    assert local_day(instant, "America/New_York").isoformat() == "2026-06-01"
    midnight = next_local_midnight(["America/New_York"], instant)
    assert midnight == at(NY, 2026, 6, 2, 0, 0)
    both = next_local_midnight(["Asia/Shanghai", "America/New_York"], instant)
    assert both == at(ZoneInfo("Asia/Shanghai"), 2026, 6, 3, 0, 0)   # the later of the two midnights


def test_invalid_windows_are_refused() -> None:
    with pytest.raises(ValueError):
        CallingWindow(time(9), time(9))
    with pytest.raises(ValueError):
        CallingWindow(weekdays=frozenset())
    with pytest.raises(ValueError):
        CallingWindow(weekdays=frozenset({7}))


ZONES = st.sampled_from(["America/New_York", "Europe/London", "Asia/Shanghai", "Australia/Lord_Howe",
                         "America/St_Johns", "Asia/Kathmandu"])
INSTANTS = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC))
CLOCKS = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@settings(max_examples=200, deadline=None)
@given(start=CLOCKS, end=CLOCKS, days=st.frozensets(st.integers(0, 6), min_size=1),
       zones=st.lists(ZONES, min_size=1, max_size=2, unique=True), instant=INSTANTS)
def test_next_open_is_open_and_nothing_earlier_is(start: time, end: time, days: frozenset[int],
                                                  zones: list[str], instant: datetime) -> None:
    if start == end:
        return
    window = CallingWindow(start, end, days)
    opened = next_open(window, zones, instant)
    if opened is None:
        return
    assert opened >= instant
    assert is_open(window, zones, opened)
    assert (opened == instant) == is_open(window, zones, instant)
    step = (opened - instant) / 37
    assert not any(is_open(window, zones, instant + step * i) for i in range(1, 37) if instant + step * i < opened)
