"""The Erlang calculator: agents needed per interval for call volumes a person enters.

Pure. The staffing *report* forecasts volumes from history; this calculator takes the
volumes as given (a plan, a campaign, a what-if) with one handle time, service-level
target and threshold for all intervals. Erlang C assumes callers never hang up;
Erlang A, computed when a mean patience is given, lets them abandon, which needs
fewer agents for the same target (the model and its sources are in
:mod:`reports.erlang`). Agents are on the phones: shrinkage (breaks, training) comes
on top.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reports.erlang import StaffingError, agents_erlang_a, agents_erlang_c
from reports.errors import ReportError

MAX_INTERVALS = 336          # a week of half hours
INTERVAL_MINUTES = (15, 30, 60)
COLUMNS = ("interval", "calls", "erlangs", "agents_erlang_c", "sl_erlang_c", "asa_erlang_c_s",
           "occupancy_erlang_c", "agents_erlang_a", "sl_erlang_a", "abandon_rate_erlang_a")
DEFAULTS = {"start": "08:00", "minutes": "30", "aht": "240", "target": "80", "threshold": "20", "patience": ""}


@dataclass(frozen=True)
class CalculatorInput:
    start_minute: int            # minutes after midnight of the first interval
    minutes: int                 # interval length
    calls: tuple[float, ...]     # calls offered per interval
    aht_s: float
    target: float                # share, 0..1
    threshold_s: float
    patience_s: float | None     # None: Erlang C only


def _number(args: Mapping[str, str], key: str, what: str, low: float, high: float) -> float:
    text = (args.get(key) or DEFAULTS[key]).strip()
    try:
        value = float(text)
    except ValueError:
        raise ReportError(f"{what}: expected a number, got {text!r}") from None
    if not low <= value <= high or math.isnan(value):
        raise ReportError(f"{what}: expected a number from {low:g} to {high:g}, got {text!r}")
    return value


def _start(text: str) -> int:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ReportError(f"first interval: expected a time such as 08:00, got {text!r}")
    return int(match[1]) * 60 + int(match[2])


def _calls(text: str) -> tuple[float, ...]:
    words = [w for w in re.split(r"[\s,;]+", text) if w]
    if not words:
        raise ReportError("calls per interval: enter one number per interval, e.g. 40 55 62")
    if len(words) > MAX_INTERVALS:
        raise ReportError(f"calls per interval: at most {MAX_INTERVALS} intervals, got {len(words)}")
    values = []
    for position, word in enumerate(words, start=1):
        try:
            value = float(word)
        except ValueError:
            raise ReportError(f"calls per interval: value {position} ({word!r}) is not a number") from None
        if not 0 <= value < 1e6:
            raise ReportError(f"calls per interval: value {position} ({word!r}) must be 0 or more")
        values.append(value)
    return tuple(values)


def read_input(args: Mapping[str, str]) -> CalculatorInput:
    """The calculator's form, validated; every mistake is a :class:`ReportError`.

    Fields: ``start`` (``HH:MM``), ``minutes`` (15, 30 or 60), ``calls`` (numbers
    separated by spaces, commas or new lines), ``aht`` (seconds), ``target`` (percent
    answered within the threshold), ``threshold`` (seconds), ``patience`` (seconds,
    optional: enables Erlang A).
    """
    minutes = int(_number(args, "minutes", "interval length", 15, 60))
    if minutes not in INTERVAL_MINUTES:
        raise ReportError(f"interval length: use one of {', '.join(map(str, INTERVAL_MINUTES))} minutes")
    patience_text = (args.get("patience") or "").strip()
    return CalculatorInput(
        start_minute=_start(args.get("start") or DEFAULTS["start"]),
        minutes=minutes,
        calls=_calls(args.get("calls", "")),
        aht_s=_number(args, "aht", "handle time (AHT)", 1, 36_000),
        target=_number(args, "target", "service-level target (%)", 1, 99.9) / 100,
        threshold_s=_number(args, "threshold", "answered within (seconds)", 0, 3600),
        patience_s=_number(args, "patience", "mean patience (seconds)", 1, 36_000) if patience_text else None,
    )


def _label(minute: int) -> str:
    minute %= 24 * 60
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _row(calls: float, length_s: float, data: CalculatorInput) -> dict[str, Any]:
    empty: dict[str, Any] = {"erlangs": 0.0, "agents_erlang_c": 0, "sl_erlang_c": None, "asa_erlang_c_s": None,
                             "occupancy_erlang_c": None, "agents_erlang_a": None, "sl_erlang_a": None,
                             "abandon_rate_erlang_a": None}
    if calls == 0:
        return {**empty, "agents_erlang_a": 0 if data.patience_s else None}
    lam = calls / length_s
    try:
        c = agents_erlang_c(lam, data.aht_s, data.threshold_s, data.target)
        row = {"erlangs": lam * data.aht_s, "agents_erlang_c": c.agents, "sl_erlang_c": c.service_level,
               "asa_erlang_c_s": c.asa_s, "occupancy_erlang_c": c.occupancy}
        if data.patience_s is None:
            return {**empty, **row}
        a = agents_erlang_a(lam, data.aht_s, data.threshold_s, data.target, data.patience_s)
    except StaffingError as exc:
        raise ReportError(f"cannot staff {calls:g} calls per interval: {exc}") from None
    return {**row, "agents_erlang_a": a.agents, "sl_erlang_a": a.service_level,
            "abandon_rate_erlang_a": a.abandon_rate}


def staffing_rows(data: CalculatorInput) -> list[dict[str, Any]]:
    """One row per interval with :data:`COLUMNS`; KPIs of an empty interval are None."""
    length_s = data.minutes * 60.0
    rows = []
    for index, calls in enumerate(data.calls):
        row = _row(calls, length_s, data)
        rows.append({"interval": _label(data.start_minute + index * data.minutes), "calls": calls, **row})
    return rows
