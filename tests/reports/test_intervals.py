"""Interval bucketing: DST days, odd offsets, every interval kind, span cutting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.errors import ReportError
from reports.intervals import (
    Interval,
    bucket_edges,
    bucket_index,
    bucket_starts,
    make_window,
    merge_ranges,
    parse_interval,
    split_by_coverage,
    split_spans,
)


def utc(*stamps: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(stamps), utc=True, format="ISO8601"))


@pytest.mark.parametrize(
    ("word", "expected"),
    [("30min", Interval.HALF_HOUR), ("30m", Interval.HALF_HOUR), ("Hour", Interval.HOUR), ("day", Interval.DAY),
     ("weekly", Interval.WEEK), ("month", Interval.MONTH), ("quarter", Interval.QUARTER), ("year", Interval.YEAR),
     ("range", Interval.RANGE), ("custom", Interval.RANGE)],
)
def test_parse_interval(word: str, expected: Interval) -> None:
    assert parse_interval(word) is expected


def test_unknown_interval_lists_the_choices() -> None:
    with pytest.raises(ReportError, match="use one of 30min, hour, day"):
        parse_interval("fortnight")


def test_window_reads_naive_times_on_the_site_clock_and_rejects_reversed_ranges() -> None:
    window = make_window("2026-03-01", "2026-03-02T06:00", "Asia/Shanghai")
    assert window.start == pd.Timestamp("2026-02-28T16:00Z")
    assert window.end == pd.Timestamp("2026-03-01T22:00Z")
    with pytest.raises(ReportError, match="swap --from and --to"):
        make_window("2026-03-02", "2026-03-01", "UTC")
    with pytest.raises(ReportError, match="unknown time zone 'Mars/Olympus'"):
        make_window("2026-03-01", "2026-03-02", "Mars/Olympus")
    with pytest.raises(ReportError, match="cannot read 'yesterday-ish'"):
        make_window("yesterday-ish", "2026-03-02", "UTC")


@pytest.mark.parametrize(
    ("start", "end", "tz", "interval", "count"),
    [
        ("2026-11-01", "2026-11-02", "America/New_York", Interval.HOUR, 25),     # clocks go back
        ("2026-03-08", "2026-03-09", "America/New_York", Interval.HOUR, 23),     # clocks go forward
        ("2026-11-01", "2026-11-02", "America/New_York", Interval.HALF_HOUR, 50),
        ("2026-03-08", "2026-03-09", "America/New_York", Interval.HALF_HOUR, 46),
        ("2026-11-01", "2026-12-01", "America/New_York", Interval.DAY, 30),
        ("2026-01-01", "2027-01-01", "Europe/Paris", Interval.MONTH, 12),
        ("2026-01-01", "2027-01-01", "Europe/Paris", Interval.QUARTER, 4),
        ("2024-06-01", "2027-01-01", "UTC", Interval.YEAR, 3),
        ("2026-01-07", "2026-01-21", "UTC", Interval.WEEK, 3),                   # Wed..Wed: 3 weeks touched
        ("2026-01-07T09:10", "2026-01-21", "UTC", Interval.RANGE, 1),
    ],
)
def test_bucket_index_counts(start: str, end: str, tz: str, interval: Interval, count: int) -> None:
    assert len(bucket_index(make_window(start, end, tz), interval)) == count


def test_repeated_hour_gives_two_buckets_when_clocks_go_back() -> None:
    window = make_window("2026-11-01", "2026-11-02", "America/New_York")
    # 05:30Z = 01:30 EDT (first pass), 06:30Z = 01:30 EST (second pass).
    starts = bucket_starts(utc("2026-11-01T05:30Z", "2026-11-01T06:30Z"), Interval.HOUR, window)
    assert starts[0] == pd.Timestamp("2026-11-01T01:00-04:00")
    assert starts[1] == pd.Timestamp("2026-11-01T01:00-05:00")
    assert starts[0] != starts[1]


def test_day_week_month_buckets_start_at_local_midnight() -> None:
    window = make_window("2026-01-01", "2026-12-31", "Asia/Shanghai")
    # 2026-04-15T17:00Z is Thursday 16 April 01:00 in Shanghai.
    times = utc("2026-04-15T17:00Z")
    assert bucket_starts(times, Interval.DAY, window)[0] == pd.Timestamp("2026-04-16T00:00+08:00")
    assert bucket_starts(times, Interval.WEEK, window)[0] == pd.Timestamp("2026-04-13T00:00+08:00")
    assert bucket_starts(times, Interval.MONTH, window)[0] == pd.Timestamp("2026-04-01T00:00+08:00")
    assert bucket_starts(times, Interval.QUARTER, window)[0] == pd.Timestamp("2026-04-01T00:00+08:00")
    assert bucket_starts(times, Interval.YEAR, window)[0] == pd.Timestamp("2026-01-01T00:00+08:00")
    assert bucket_starts(times, Interval.RANGE, window)[0] == window.start


def test_quarter_hour_offset_zone_cuts_on_the_local_hour() -> None:
    window = make_window("2026-05-01", "2026-05-02", "Asia/Kathmandu")      # UTC+05:45
    start = bucket_starts(utc("2026-05-01T04:20Z"), Interval.HOUR, window)[0]  # 10:05 local
    assert start == pd.Timestamp("2026-05-01T10:00+05:45")


def test_a_call_on_a_boundary_belongs_to_the_bucket_it_starts() -> None:
    window = make_window("2026-05-01", "2026-05-02", "UTC")
    starts = bucket_starts(utc("2026-05-01T09:29:59.999Z", "2026-05-01T09:30Z"), Interval.HALF_HOUR, window)
    assert list(starts) == [pd.Timestamp("2026-05-01T09:00Z"), pd.Timestamp("2026-05-01T09:30Z")]


ZONES = ["UTC", "America/New_York", "Europe/London", "Asia/Kathmandu", "Australia/Lord_Howe", "America/Havana"]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    interval=st.sampled_from([i for i in Interval]),
    offsets=st.lists(st.integers(min_value=0, max_value=400 * 86_400 - 1), min_size=1, max_size=40),
)
def test_every_time_falls_in_a_listed_bucket_that_contains_it(zone: str, interval: Interval,
                                                            offsets: list[int]) -> None:
    window = make_window("2025-12-20", "2027-01-24", zone)
    times = pd.Series(pd.to_datetime([window.start_epoch + o for o in offsets], unit="s", utc=True))
    starts = bucket_starts(times, interval, window)
    index = bucket_index(window, interval)
    edges = bucket_edges(window, interval)
    position = index.get_indexer(pd.DatetimeIndex(starts))
    assert (position >= 0).all()
    ns = times.dt.as_unit("ns").astype("int64").to_numpy()
    assert (edges[position] <= ns).all() and (ns < edges[position + 1]).all()


def test_split_spans_cuts_at_edges() -> None:
    edges = np.array([0, 10, 20, 30], dtype=np.int64) * 1_000_000_000
    starts = np.array([5, 12, -5, 25, 40], dtype=np.int64) * 1_000_000_000
    ends = np.array([25, 18, 3, 60, 50], dtype=np.int64) * 1_000_000_000
    row, bucket, seconds = split_spans(starts, ends, edges)
    assert list(zip(row.tolist(), bucket.tolist(), seconds.tolist(), strict=True)) == [
        (0, 0, 5.0), (0, 1, 10.0), (0, 2, 5.0), (1, 1, 6.0), (2, 0, 3.0), (3, 2, 5.0)]


@settings(max_examples=80, deadline=None)
@given(spans=st.lists(st.tuples(st.integers(-50, 150), st.integers(0, 120)), max_size=30),
       cuts=st.lists(st.integers(1, 99), max_size=8, unique=True))
def test_split_spans_conserves_the_clipped_length(spans: list[tuple[int, int]], cuts: list[int]) -> None:
    edges = np.array(sorted({0, 100, *cuts}), dtype=np.int64)
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    ends = starts + np.array([d for _, d in spans], dtype=np.int64)
    row, bucket, seconds = split_spans(starts, ends, edges)
    expected = np.clip(ends, 0, 100) - np.clip(starts, 0, 100)
    got = np.bincount(row, weights=seconds * 1e9, minlength=len(spans))
    assert np.allclose(got, np.maximum(expected, 0))
    assert (seconds > 0).all() and (bucket >= 0).all() and (bucket < len(edges) - 1).all()


def test_merge_ranges_joins_touching_and_overlapping() -> None:
    assert merge_ranges([(5, 9), (0, 2), (2, 4), (8, 12), (20, 20)]) == [(0, 4), (5, 12)]


def test_split_by_coverage_keeps_whole_slots_inside() -> None:
    covered = [(0.0, 3600.0), (7200.0, 9000.0)]
    inside, outside = split_by_coverage(100.0, 8000.0, covered)
    assert inside == [(900.0, 3600.0)]   # 7200..8000 is less than a whole slot
    assert outside == [(100.0, 900.0), (3600.0, 8000.0)]


@settings(max_examples=80, deadline=None)
@given(start=st.integers(0, 20_000), length=st.integers(1, 20_000),
       covered=st.lists(st.tuples(st.integers(0, 40_000), st.integers(1, 9_000)), max_size=5))
def test_split_by_coverage_partitions_the_range(start: int, length: int, covered: list[tuple[int, int]]) -> None:
    ranges = [(float(a), float(a + d)) for a, d in covered]
    inside, outside = split_by_coverage(float(start), float(start + length), ranges)
    pieces = sorted(inside + outside)
    assert pieces[0][0] == start and pieces[-1][1] == start + length
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:], strict=False))
    assert all(a % 900 == 0 and b % 900 == 0 for a, b in inside)
    merged = merge_ranges(ranges)
    assert all(any(lo <= a and b <= hi for lo, hi in merged) for a, b in inside)
