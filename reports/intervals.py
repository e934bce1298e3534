"""Interval bucketing in the site's time zone: 30 min, hour, day, week, month, quarter,
year, or the whole custom range as one bucket.

Rules (every report follows them):

- A bucket is named by its start, a time-zone aware timestamp in the site's zone.
  Buckets are half-open ``[start, next start)``.
- Sub-day buckets (30 min, hour) are cut on the local wall clock. On the day clocks go
  back, the repeated local hour gives two distinct buckets (01:00 summer time and 01:00
  winter time); on the day clocks go forward the missing hour simply has no bucket, so
  such a day has 46/50 half hours (23/25 hours).
- Day and longer buckets start at local midnight (a midnight that does not exist
  because of a clock change starts at the first instant after it). Weeks start on
  Monday (ISO 8601).
- :func:`bucket_index` lists every bucket that overlaps the report window, so intervals
  without any call are still shown (as zeros) once the caller reindexes on it.
- Time that spans buckets (an agent's state) is cut at bucket edges by
  :func:`split_spans`; calls are never cut: they belong to the bucket they were offered
  in (see :mod:`reports.kpi`).

The 15-minute UTC slot (:data:`SLOT_SECONDS`) is the grain of the pre-aggregated
table: every real time zone's offset is a multiple of 15 minutes, so every local bucket
above is a whole number of slots.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pandas as pd

from reports.errors import ReportError

#: Seconds in one pre-aggregation slot (15 minutes, aligned on UTC).
SLOT_SECONDS = 900

_NS = 1_000_000_000


class Interval(enum.Enum):
    """How a report cuts its window; the value is the name users type."""

    HALF_HOUR = "30min"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"


_SUB_DAY_FREQ = {Interval.HALF_HOUR: "30min", Interval.HOUR: "h"}
_ALIASES = {"30m": "30min", "half_hour": "30min", "1h": "hour", "hourly": "hour", "daily": "day",
            "weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year",
            "custom": "range", "total": "range"}


def parse_interval(name: str | Interval) -> Interval:
    """The :class:`Interval` for a user's word (``30min``, ``hour``, ``day`` ...)."""
    if isinstance(name, Interval):
        return name
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    try:
        return Interval(key)
    except ValueError:
        choices = ", ".join(i.value for i in Interval)
        raise ReportError(f"unknown interval {name!r}: use one of {choices}") from None


def zone(tz: str) -> ZoneInfo:
    """The IANA zone named ``tz`` or a :class:`ReportError` naming it."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReportError(f"unknown time zone {tz!r}: use an IANA name such as Europe/Paris") from None


@dataclass(frozen=True)
class Window:
    """The half-open report range ``[start, end)`` in the site's zone ``tz``."""

    start: pd.Timestamp
    end: pd.Timestamp
    tz: str

    @property
    def start_epoch(self) -> float:
        return float(self.start.value) / _NS

    @property
    def end_epoch(self) -> float:
        return float(self.end.value) / _NS


def _as_local(value: datetime | date | str | pd.Timestamp, tz: str, what: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise ReportError(f"{what}: cannot read {value!r} as a date or time (use 2026-01-31 or 2026-01-31T08:00)") from None
    if pd.isna(stamp):
        raise ReportError(f"{what}: a date or time is required")
    if stamp.tzinfo is None:
        return stamp.tz_localize(zone(tz), ambiguous=True, nonexistent="shift_forward")
    return stamp.tz_convert(zone(tz))


def make_window(start: datetime | date | str | pd.Timestamp, end: datetime | date | str | pd.Timestamp,
                tz: str) -> Window:
    """A :class:`Window`; naive times and dates are read on the site's wall clock.

    Raises:
        ReportError: unreadable times, unknown zone, or ``end`` not after ``start``.
    """
    first = _as_local(start, tz, "from")
    last = _as_local(end, tz, "to")
    if last <= first:
        raise ReportError(f"the range ends ({last.isoformat()}) before it starts ({first.isoformat()}); swap --from and --to")
    return Window(first, last, tz)


def _dtype(tz: str) -> pd.DatetimeTZDtype:
    return pd.DatetimeTZDtype("ns", zone(tz))


def _wall(times: pd.Series, tz: str) -> tuple[pd.Series, pd.Series]:
    """(local aware, local naive wall clock) for UTC-aware ``times``."""
    local = times.dt.tz_convert(zone(tz))
    return local, local.dt.tz_localize(None)


def _localize_midnights(walls: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    ambiguous = np.ones(len(walls), dtype=bool)
    return walls.tz_localize(zone(tz), ambiguous=ambiguous, nonexistent="shift_forward")


def _period_starts(days: pd.DatetimeIndex, interval: Interval) -> pd.DatetimeIndex:
    """Naive local start of the week/month/quarter/year holding each naive day."""
    if interval is Interval.DAY:
        return days
    if interval is Interval.WEEK:
        return days - pd.to_timedelta(days.day_of_week, unit="D")
    freq = {Interval.MONTH: "M", Interval.QUARTER: "Q", Interval.YEAR: "Y"}[interval]
    return days.to_period(freq).to_timestamp()


def bucket_starts(times: pd.Series, interval: Interval, window: Window) -> pd.Series:
    """The bucket start (aware, site zone) of each UTC-aware time in ``times``.

    Vectorised; for day and longer buckets the work is done once per distinct day.
    """
    if interval is Interval.RANGE:
        return pd.Series(window.start, index=times.index, dtype=_dtype(window.tz))
    local, wall = _wall(times, window.tz)
    if interval in _SUB_DAY_FREQ:
        into_bucket = wall - wall.dt.floor(_SUB_DAY_FREQ[interval])
        return pd.Series(local - into_bucket).astype(_dtype(window.tz))
    days = wall.dt.normalize()
    distinct = pd.DatetimeIndex(days.unique()).dropna()
    starts = _localize_midnights(_period_starts(distinct, interval), window.tz)
    positions = distinct.get_indexer(pd.DatetimeIndex(days))
    return pd.Series(starts.take(positions), index=times.index).astype(_dtype(window.tz))


def bucket_index(window: Window, interval: Interval) -> pd.DatetimeIndex:
    """Every bucket start whose bucket overlaps ``window``, in order (aware, site zone)."""
    first_series = bucket_starts(pd.Series([window.start.tz_convert("UTC")]), interval, window)
    first = pd.Timestamp(first_series.iloc[0])
    if interval is Interval.RANGE:
        return pd.DatetimeIndex([first])
    if interval in _SUB_DAY_FREQ:
        return pd.date_range(first, window.end, freq=_SUB_DAY_FREQ[interval], inclusive="left")
    naive_first = first.tz_localize(None).normalize()
    naive_end = window.end.tz_localize(None)
    freq = {Interval.DAY: "D", Interval.WEEK: "7D", Interval.MONTH: "MS", Interval.QUARTER: "QS",
            Interval.YEAR: "YS"}[interval]
    walls = pd.date_range(naive_first, naive_end, freq=freq, inclusive="left")
    return _localize_midnights(walls, window.tz)


def bucket_edges(window: Window, interval: Interval) -> npt.NDArray[np.int64]:
    """UTC nanosecond edges ``[start_0, start_1, ..., window.end]`` clipped to the window.

    Edge ``i`` and ``i + 1`` bound bucket ``i`` of :func:`bucket_index` (the first and
    last buckets may be partial when the window does not start on a boundary).
    """
    starts = bucket_index(window, interval).as_unit("ns").asi8.astype(np.int64)
    edges = np.append(starts, np.int64(window.end.value))
    edges[0] = max(int(edges[0]), int(window.start.value))
    return edges


def split_spans(starts_ns: npt.NDArray[np.int64], ends_ns: npt.NDArray[np.int64],
                edges_ns: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp],
                                                         npt.NDArray[np.float64]]:
    """Cut time spans ``[start, end)`` at bucket edges, without a Python loop.

    Returns ``(span_row, bucket, seconds)``: one entry per (span, bucket) piece with a
    positive length; ``span_row`` indexes the input arrays, ``bucket`` indexes
    ``edges_ns[:-1]``. Time outside ``[edges[0], edges[-1])`` is dropped.
    """
    lo, hi = edges_ns[0], edges_ns[-1]
    s = np.clip(starts_ns, lo, hi)
    e = np.clip(ends_ns, lo, hi)
    keep = np.flatnonzero(e > s)
    s, e = s[keep], e[keep]
    first = np.searchsorted(edges_ns, s, side="right") - 1
    last = np.searchsorted(edges_ns, e, side="left") - 1
    counts = (last - first + 1).astype(np.intp)
    row = np.repeat(np.arange(len(keep), dtype=np.intp), counts)
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    bucket = (first[row] + (np.arange(len(row), dtype=np.intp) - offsets)).astype(np.intp)
    piece_start = np.maximum(s[row], edges_ns[bucket])
    piece_end = np.minimum(e[row], edges_ns[bucket + 1])
    seconds = (piece_end - piece_start).astype(np.float64) / _NS
    return keep[row].astype(np.intp), bucket, seconds


def slot_floor(epoch_seconds: float) -> float:
    """The start of the 15-minute UTC slot holding ``epoch_seconds``."""
    return float(np.floor(epoch_seconds / SLOT_SECONDS) * SLOT_SECONDS)


def slot_ceil(epoch_seconds: float) -> float:
    """The first 15-minute UTC slot boundary at or after ``epoch_seconds``."""
    return float(np.ceil(epoch_seconds / SLOT_SECONDS) * SLOT_SECONDS)


def to_utc(epoch_seconds: pd.Series) -> pd.Series:
    """Epoch seconds (float, NaN for none) as UTC-aware timestamps (NaT for none)."""
    return pd.to_datetime(epoch_seconds, unit="s", utc=True)


def merge_ranges(ranges: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Union of half-open ranges, sorted, with touching ranges joined."""
    merged: list[tuple[float, float]] = []
    for start, end in sorted(r for r in ranges if r[1] > r[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def split_by_coverage(start: float, end: float, covered: list[tuple[float, float]]
                      ) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Cut ``[start, end)`` into (pieces inside ``covered``, pieces outside it).

    Inside pieces are trimmed to whole 15-minute slots (a pre-aggregated slot is all or
    nothing); what the trimming leaves out goes to the outside pieces.
    """
    inside: list[tuple[float, float]] = []
    cursor = start
    outside: list[tuple[float, float]] = []
    for lo, hi in merge_ranges(covered):
        a, b = slot_ceil(max(lo, start)), slot_floor(min(hi, end))
        if b <= a:
            continue
        if a > cursor:
            outside.append((cursor, a))
        inside.append((a, b))
        cursor = b
    if end > cursor:
        outside.append((cursor, end))
    return inside, outside
