"""What the report page draws, from a report's whole frame (not just the shown page).

Pure (pandas only). Runs in the report worker next to the report itself, so only the
small chart series travel to the web process.

Over-time charts show the total of every row in an interval -- all the queues,
agents or campaigns the report selected -- as bars, with one rate as a line on its
own axis. A rate is never summed across groups: it is recomputed from the summed
counts (service level through :func:`reports.kpi.queue_kpis`, so it is the report's
own definition). The heat map sums one count per local weekday and hour, so it is
drawn for 30-minute and hourly reports only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from reports.charts import volume_and_service_level, weekday_hour_heatmap
from reports.kpi import MAX_MEASURES, SUM_MEASURES, queue_kpis
from webapp.reports_format import format_time


@dataclass(frozen=True)
class Series:
    """The over-time chart of one report: summed ``bars``, then ``line`` (a column
    drawn on the right axis) computed as ``line_of[0] / line_of[1]`` of the sums, or
    summed itself when ``line_of`` is empty."""

    bars: tuple[str, ...]
    line: str | None = None
    line_of: tuple[str, str] | tuple[()] = ()
    percent: bool = True


SERIES = {
    "inbound_summary": Series(("offered", "answered", "abandoned"), "service_level"),
    "outbound_summary": Series(("attempts", "answered", "abandoned"), "connect_rate", ("answered", "attempts")),
    "campaign_results": Series(("attempts", "answered", "abandoned"), "connect_rate", ("answered", "attempts")),
    "repeat_calls": Series(("calls", "repeat_24h"), "repeat_rate_24h", ("repeat_24h", "calls")),
    "voicemail_handling": Series(("received", "handled"), "handled_within_24h_rate", ("handled_within_24h",
                                                                                      "received")),
    "agent_performance": Series(("offers", "handled"), "occupancy", ("handling_s", "_handling_or_available_s")),
    "staffing": Series(("forecast_calls",), "agents_erlang_c", (), percent=False),
}

#: The count each report's heat map sums.
HEAT_VALUE = {"inbound_summary": "offered", "outbound_summary": "attempts", "campaign_results": "attempts",
              "repeat_calls": "calls", "voicemail_handling": "received", "agent_performance": "handled",
              "staffing": "forecast_calls"}


def _values(series: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in series.tolist()]


def _inbound_totals(frame: pd.DataFrame) -> dict[str, Any]:
    measures = {m: "sum" for m in SUM_MEASURES} | {m: "max" for m in MAX_MEASURES}
    totals = queue_kpis(frame.groupby("interval_start", sort=True).agg(measures).reset_index())
    data = volume_and_service_level(totals, group=None)
    return {"x": data["x"], **data["groups"]["all"]}


def _generic_totals(frame: pd.DataFrame, series: Series) -> dict[str, Any]:
    frame = frame.copy()
    if "handling_s" in frame and "available_s" in frame:
        frame["_handling_or_available_s"] = frame["handling_s"] + frame["available_s"]
    # A column may be both a bar and a term of the line (repeat_24h / calls): select it
    # once, or the sums hold it twice and each lookup returns a frame, not a series.
    summed_columns = list(dict.fromkeys([*series.bars, *series.line_of]))
    if series.line and not series.line_of:
        summed_columns.append(series.line)
    numeric = frame[summed_columns].apply(pd.to_numeric, errors="coerce")
    sums = numeric.groupby(frame["interval_start"], sort=True).sum(min_count=1)
    data: dict[str, Any] = {"x": [pd.Timestamp(t).isoformat() for t in sums.index]}
    for column in series.bars:
        data[column] = _values(sums[column])
    if series.line and series.line_of:
        numerator, denominator = sums[series.line_of[0]], sums[series.line_of[1]]
        data[series.line] = _values(numerator / denominator.where(denominator != 0))
    elif series.line:
        data[series.line] = _values(sums[series.line])
    return data


def over_time(name: str, frame: pd.DataFrame, interval: str) -> dict[str, Any] | None:
    """The over-time chart of report ``name``, or None when it has none.

    ``{"labels": [...], "bars": [{"key", "values"}], "lines": [{"key", "values",
    "percent"}]}``; labels are the interval starts on the site's wall clock.
    """
    series = SERIES.get(name)
    if series is None or "interval_start" not in frame or frame.empty:
        return None
    data = _inbound_totals(frame) if name == "inbound_summary" else _generic_totals(frame, series)
    lines = [{"key": series.line, "values": data[series.line], "percent": series.percent}] if series.line else []
    return {"labels": [format_time(x, interval) for x in data["x"]],
            "bars": [{"key": b, "values": data[b]} for b in series.bars], "lines": lines}


def heat_map(name: str, frame: pd.DataFrame, interval: str) -> dict[str, Any] | None:
    """``{"key", "weekdays", "hours", "values", "max"}`` for 30-minute and hourly runs."""
    key = HEAT_VALUE.get(name)
    if key is None or interval not in ("30min", "hour") or frame.empty or key not in frame:
        return None
    numeric = frame.assign(**{key: pd.to_numeric(frame[key], errors="coerce").fillna(0.0)})
    grid = weekday_hour_heatmap(numeric, key)
    values = [[float(v) for v in row] for row in grid["values"]]
    return {"key": key, "weekdays": grid["weekdays"], "hours": grid["hours"], "values": values,
            "max": max((v for row in values for v in row), default=0.0)}
