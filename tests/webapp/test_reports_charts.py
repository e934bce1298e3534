"""The over-time charts of the report pages, for every report that has one.

Repeat calls, outbound summary, campaign results and voicemail handling draw a count
both as a bar and as a term of their rate line; those pages answered 500 until the
summed columns were taken once each.
"""

from __future__ import annotations

import pandas as pd
import pytest

from webapp.reports_charts import SERIES, over_time

STARTS = [pd.Timestamp("2026-11-23T09:00"), pd.Timestamp("2026-11-23T09:00"), pd.Timestamp("2026-11-23T10:00")]


def _frame(name: str) -> pd.DataFrame:
    """Two groups in the first interval, one in the second; every count 1, 2, 3 by row."""
    series = SERIES[name]
    columns = {*series.bars, *series.line_of, *([series.line] if series.line else [])}
    columns -= {"_handling_or_available_s", "service_level"}
    if name == "agent_performance":
        columns |= {"handling_s", "available_s"}
    if name == "inbound_summary":
        columns |= {"offered", "answered", "abandoned"}
    data = {column: [1.0, 2.0, 3.0] for column in sorted(columns)}
    return pd.DataFrame({"interval_start": STARTS, **data})


@pytest.mark.parametrize("name", sorted(set(SERIES) - {"inbound_summary"}))
def test_every_chart_sums_its_bars_per_interval(name: str) -> None:
    chart = over_time(name, _frame(name), "hour")
    assert chart is not None
    assert len(chart["labels"]) == 2
    for bar in chart["bars"]:
        assert bar["values"] == [3.0, 3.0], bar["key"]


@pytest.mark.parametrize(
    ("name", "line", "expected"),
    [
        ("repeat_calls", "repeat_rate_24h", [1.0, 1.0]),
        ("outbound_summary", "connect_rate", [1.0, 1.0]),
        ("campaign_results", "connect_rate", [1.0, 1.0]),
        ("voicemail_handling", "handled_within_24h_rate", [1.0, 1.0]),
        ("agent_performance", "occupancy", [0.5, 0.5]),
        ("staffing", "agents_erlang_c", [3.0, 3.0]),
    ],
)
def test_rate_lines_are_recomputed_from_the_sums(name: str, line: str, expected: list[float]) -> None:
    chart = over_time(name, _frame(name), "hour")
    assert chart is not None
    (drawn,) = chart["lines"]
    assert drawn["key"] == line
    assert drawn["values"] == pytest.approx(expected)


def test_a_zero_denominator_leaves_a_gap() -> None:
    frame = _frame("repeat_calls").assign(calls=[0.0, 0.0, 4.0], repeat_24h=[0.0, 0.0, 1.0])
    chart = over_time("repeat_calls", frame, "hour")
    assert chart is not None
    assert chart["lines"][0]["values"] == [None, 0.25]


def test_no_chart_without_rows() -> None:
    assert over_time("repeat_calls", _frame("repeat_calls").iloc[0:0], "hour") is None
