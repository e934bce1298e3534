"""How report values are shown on the page (the exports keep the raw numbers).

Pure: no I/O, no pandas. The kind of a column comes from its name first -- the
reports name every duration ``*_s`` and every share ``*_rate`` or a known KPI -- and
from its data type otherwise, so a column reads the same whether or not it had rows.

- ``percent``: a share 0..1 shown as ``85.3%``;
- ``duration``: seconds shown as ``m:ss`` (``h:mm:ss`` from one hour);
- ``time``: an ISO time in the site's zone, shown on the site's wall clock with the
  precision of the report's interval (``2026-01-05 08:30``, ``2026-01``, ``2026 Q1``);
- ``decimal``, ``int``, ``bool``, ``text``.

An undefined KPI (no calls to divide by) is ``None`` and shows as an en dash, never as
0: "no service level" and "0% service level" are different facts.
"""

from __future__ import annotations

import math
from typing import Any

EMPTY = "\u2013"

#: Shares that do not end in ``_rate``.
_PERCENT_NAMES = frozenset({"service_level", "occupancy", "utilisation", "target_sl", "sl_erlang_c",
                            "sl_erlang_a", "occupancy_erlang_c", "abandon_rate_erlang_a"})
#: Durations that do not end in ``_s``.
_DURATION_NAMES = frozenset({"seconds", "avg_seconds"})
_DTYPE_KINDS = {"M": "time", "b": "bool", "i": "int", "u": "int", "f": "decimal"}
_SUB_DAY = frozenset({"30min", "hour"})


def column_kind(name: str, dtype_kind: str) -> str:
    """The display kind of column ``name`` whose numpy dtype kind is ``dtype_kind``."""
    if name in _PERCENT_NAMES or name.endswith("_rate"):
        return "percent"
    if name in _DURATION_NAMES or name.endswith("_s"):
        return "duration"
    if name.endswith("_at") or name == "interval_start":
        return "time"
    return _DTYPE_KINDS.get(dtype_kind, "text")


def format_duration(seconds: float) -> str:
    """75 -> ``1:15``; 3725 -> ``1:02:05``; rounded to the nearest second."""
    whole = int(round(abs(seconds)))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    sign = "-" if seconds < 0 and whole else ""
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes}:{secs:02d}"


def format_percent(share: float) -> str:
    """0.8534 -> ``85.3%``."""
    return f"{share * 100:.1f}%"


def format_time(iso: str, interval: str = "30min") -> str:
    """An ISO time (``2026-01-05T08:30:00+01:00``) on the site's wall clock.

    The offset is dropped: every time of a report is in the site's zone, named on
    the page. Day and longer intervals show only what names the interval.
    """
    text = str(iso)
    day, _, clock = text.partition("T")
    if interval in _SUB_DAY or not clock:
        return f"{day} {clock[:5]}".strip()
    if interval == "month":
        return day[:7]
    if interval == "year":
        return day[:4]
    if interval == "quarter" and len(day) >= 7 and day[5:7].isdigit():
        return f"{day[:4]} Q{(int(day[5:7]) - 1) // 3 + 1}"
    if interval in ("day", "week", "range"):
        return day
    return f"{day} {clock[:5]}"


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_cell(kind: str, value: Any, *, interval: str = "30min", yes: str = "yes", no: str = "no") -> str:
    """``value`` as text for a table cell of ``kind`` (see the module docstring)."""
    if _is_missing(value):
        return EMPTY
    if kind == "percent":
        return format_percent(float(value))
    if kind == "duration":
        return format_duration(float(value))
    if kind == "time":
        return format_time(str(value), interval)
    if kind == "bool":
        return yes if value else no
    if kind == "decimal":
        number = float(value)
        return str(int(number)) if number.is_integer() else f"{number:.2f}"
    return str(value)


def is_numeric(kind: str) -> bool:
    """Whether a column of ``kind`` is right-aligned (numbers line up)."""
    return kind in ("percent", "duration", "decimal", "int")
