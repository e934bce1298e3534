"""Search-filter input: days, times and whole numbers as people type them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.filter_input import day_or_time, whole_number

PARIS = ZoneInfo("Europe/Paris")


class Refused(ValueError):
    pass


@pytest.mark.parametrize(("text", "end", "expected"), [
    ("", False, None),
    ("  ", True, None),
    ("2026-11-22", False, datetime(2026, 11, 22, tzinfo=PARIS)),
    ("2026-11-22", True, datetime(2026, 11, 23, tzinfo=PARIS)),          # the whole last day
    (" 2026-11-22T09:30 ", True, datetime(2026, 11, 22, 9, 30, tzinfo=PARIS)),
    ("2026-11-22T09:30+00:00", False, datetime(2026, 11, 22, 9, 30, tzinfo=UTC)),
])
def test_days_and_times(text: str, end: bool, expected: datetime | None) -> None:
    assert day_or_time(text, PARIS, "from", end=end, error=Refused) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "22/11/2026"])
def test_a_bad_day_says_what_to_type(text: str) -> None:
    with pytest.raises(Refused, match=r"to: give a date \(2026-11-22\) or a time"):
        day_or_time(text, PARIS, "to", end=True, error=Refused)


@pytest.mark.parametrize(("text", "low", "high", "expected"), [
    ("", 1, 10, 7),
    ("0", None, None, 0),
    (" 42 ", None, None, 42),
    ("10", 1, 10, 10),
    ("1", 1, None, 1),
])
def test_whole_numbers(text: str, low: int | None, high: int | None, expected: int) -> None:
    assert whole_number(text, "limit", 7, Refused, low=low, high=high) == expected


@pytest.mark.parametrize(("text", "low", "high", "message"), [
    ("-1", None, None, "limit: give a whole number, got '-1'"),
    ("2.5", None, None, "limit: give a whole number, got '2.5'"),
    ("0", 1, 10, "limit: give a whole number between 1 and 10, got '0'"),
    ("11", 1, 10, "limit: give a whole number between 1 and 10, got '11'"),
    ("0", 1, None, "limit: give a whole number of at least 1, got '0'"),
    ("11", None, 10, "limit: give a whole number between 0 and 10, got '11'"),
])
def test_a_bad_number_says_what_to_type(text: str, low: int | None, high: int | None, message: str) -> None:
    with pytest.raises(Refused) as caught:
        whole_number(text, "limit", None, Refused, low=low, high=high)
    assert str(caught.value) == message


@given(st.integers(0, 10**9), st.integers(0, 1000), st.integers(0, 1000))
def test_a_number_is_taken_exactly_when_it_is_within_bounds(number: int, low: int, span: int) -> None:
    high = low + span
    try:
        assert whole_number(str(number), "n", None, Refused, low=low, high=high) == number
    except Refused:
        assert not low <= number <= high
    else:
        assert low <= number <= high
