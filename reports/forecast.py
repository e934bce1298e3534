"""Forecast calls and handle time per interval from history.

Method (the one the staffing report states in its ``method`` column): **same weekday
and interval, mean of the last N weeks** (N = 4 by default). :func:`method` gives it as
a stable code plus its parameter, so a page can state it in its own language;
:meth:`ForecastMethod.sentence` is the English statement the CLI and the exports carry. The forecast for the
bucket starting at local wall time *w* is the mean of the history at *w - 7 days*,
*w - 14 days*, ... using the N most recent weeks that fall inside the history. Weeks
are matched on the local wall clock, so "Monday 09:00" stays Monday 09:00 across a
daylight-saving change; a slot that did not exist that week (the hour skipped when
clocks go forward) is skipped, and the two buckets of the repeated hour when clocks go
back are averaged into one value. Intervals without calls in the history count as 0
(the caller passes a complete history, zeros included), so quiet slots forecast 0.

Handle time is forecast as forecast(sum of handle seconds) / forecast(answered calls),
a call-weighted mean, never a mean of per-interval averages.

This is deliberately simple and explainable (a seasonal naive average); a weighted or
trend-adjusted model can replace :func:`same_slot_mean` without touching its callers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_WEEKS = 4
#: Stable code of the forecasting method of :func:`same_slot_mean`.
SAME_SLOT_MEAN = "same_slot_mean"


@dataclass(frozen=True)
class ForecastMethod:
    """How a forecast was made: ``code`` names the method (pages label it in their
    language), ``weeks`` is how many past weeks it averages."""

    code: str
    weeks: int

    def sentence(self) -> str:
        """The method in English, for the CLI and CSV/XLSX exports."""
        if self.weeks == 1:
            return "same weekday and interval, one week earlier"
        return f"same weekday and interval, mean of the last {self.weeks} weeks of history"


def method(weeks: int = DEFAULT_WEEKS) -> ForecastMethod:
    """The method of :func:`same_slot_mean` over ``weeks`` weeks."""
    return ForecastMethod(SAME_SLOT_MEAN, weeks)


def method_name(weeks: int) -> str:
    """The English statement of the method (see :meth:`ForecastMethod.sentence`)."""
    return method(weeks).sentence()


def _by_wall_clock(history: pd.DataFrame) -> pd.DataFrame:
    index = pd.DatetimeIndex(history.index)
    walls = index.tz_localize(None) if index.tz is not None else index
    keyed = history.set_axis(walls)
    return keyed.groupby(level=0).mean()


def same_slot_mean(history: pd.DataFrame, targets: pd.DatetimeIndex, weeks: int = DEFAULT_WEEKS) -> pd.DataFrame:
    """Forecast every column of ``history`` for each bucket start in ``targets``.

    Args:
        history: one row per bucket (aware bucket starts as index, zeros included),
            one column per quantity (e.g. ``offered``, ``answered``, ``handle_s``).
        targets: aware bucket starts to forecast (same interval as the history).
        weeks: how many past weeks to average.
    Returns:
        A frame indexed by ``targets`` with the forecast of each column and
        ``weeks_used`` (how many weeks of history the mean covers; 0 = no forecast,
        the values are NaN).
    """
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    by_wall = _by_wall_clock(history)
    target_walls = targets.tz_localize(None) if targets.tz is not None else targets
    span_weeks = 0
    if len(by_wall) and len(target_walls):
        span = target_walls.max() - by_wall.index.min()
        span_weeks = int(np.ceil(span / pd.Timedelta(days=7)))
    stacks = [by_wall.reindex(target_walls - pd.Timedelta(days=7 * k)).to_numpy(dtype="float64")
              for k in range(1, max(span_weeks, 1) + 1)]
    values = np.stack(stacks, axis=0) if stacks else np.empty((0, len(targets), len(history.columns)))
    present = ~np.isnan(values[..., 0]) if len(history.columns) else np.zeros(values.shape[:2], dtype=bool)
    chosen = present & (np.cumsum(present, axis=0) <= weeks)
    used = chosen.sum(axis=0)
    totals = np.where(chosen[..., None], np.nan_to_num(values), 0.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = totals / used[:, None]
    out = pd.DataFrame(means, index=targets, columns=history.columns)
    out["weeks_used"] = used.astype("int64")
    return out
