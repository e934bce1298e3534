"""Forecast: same weekday and interval, mean of the last N weeks, on the wall clock."""

from __future__ import annotations

import pandas as pd

from reports.forecast import DEFAULT_WEEKS, ForecastMethod, method, method_name, same_slot_mean


def history_frame(index: pd.DatetimeIndex, offered: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"offered": offered, "handle_s": [v * 100 for v in offered]}, index=index)


def test_mean_of_the_last_n_weeks_at_the_same_slot() -> None:
    """Mondays 09:00 over five weeks carry 10, 20, 30, 40, 50 calls; the next Monday's
    forecast with 4 weeks is (20 + 30 + 40 + 50) / 4 = 35; other slots are 0."""
    index = pd.date_range("2026-01-05", periods=5 * 7 * 24, freq="h", tz="UTC")
    values = [0.0] * len(index)
    for week in range(5):
        values[week * 7 * 24 + 9] = 10.0 * (week + 1)
    targets = pd.date_range("2026-02-09", periods=24, freq="h", tz="UTC")
    out = same_slot_mean(history_frame(index, values), targets, weeks=4)
    assert out.loc[pd.Timestamp("2026-02-09T09:00Z"), "offered"] == 35.0
    assert out.loc[pd.Timestamp("2026-02-09T09:00Z"), "handle_s"] == 3500.0
    assert out.loc[pd.Timestamp("2026-02-09T10:00Z"), "offered"] == 0.0
    assert (out["weeks_used"] == 4).all()


def test_forecast_weeks_ahead_uses_the_latest_weeks_available() -> None:
    index = pd.date_range("2026-01-05", periods=2 * 7 * 24, freq="h", tz="UTC")
    values = [1.0] * (7 * 24) + [3.0] * (7 * 24)
    targets = pd.date_range("2026-02-02T09:00", periods=1, freq="h", tz="UTC")   # 2 weeks after history
    out = same_slot_mean(history_frame(index, values), targets, weeks=4)
    assert out.iloc[0]["offered"] == 2.0 and out.iloc[0]["weeks_used"] == 2


def test_no_history_gives_no_forecast() -> None:
    index = pd.date_range("2026-01-05", periods=24, freq="h", tz="UTC")
    targets = pd.date_range("2026-01-05", periods=3, freq="h", tz="UTC")   # same week: nothing before
    out = same_slot_mean(history_frame(index, [5.0] * 24), targets)
    assert (out["weeks_used"] == 0).all() and out["offered"].isna().all()


def test_slots_match_on_the_wall_clock_across_a_clock_change() -> None:
    """Paris moves to summer time on 29 March 2026. 09:00 local is 08:00Z before and
    07:00Z after; history only has calls at 09:00 local, so the 09:00 forecast after
    the change is 12 and the 08:00 one is 0."""
    index = pd.date_range("2026-03-09", "2026-03-30", freq="h", tz="Europe/Paris", inclusive="left")
    values = [12.0 if stamp.hour == 9 else 0.0 for stamp in index]
    targets = pd.date_range("2026-03-30", periods=24, freq="h", tz="Europe/Paris")
    out = same_slot_mean(history_frame(index, values), targets, weeks=3)
    assert out.loc[pd.Timestamp("2026-03-30T09:00", tz="Europe/Paris"), "offered"] == 12.0
    assert out.loc[pd.Timestamp("2026-03-30T08:00", tz="Europe/Paris"), "offered"] == 0.0


def test_the_hour_skipped_by_a_clock_change_is_skipped_as_a_week() -> None:
    """02:00 did not exist on 29 March 2026 in Paris: the forecast for 5 April 02:00
    uses the two earlier weeks only."""
    index = pd.date_range("2026-03-15", "2026-04-05", freq="h", tz="Europe/Paris", inclusive="left")
    values = [6.0 if stamp.hour == 2 else 0.0 for stamp in index]
    target = pd.DatetimeIndex([pd.Timestamp("2026-04-05T02:00", tz="Europe/Paris")])
    out = same_slot_mean(history_frame(index, values), target, weeks=3)
    assert out.iloc[0]["weeks_used"] == 2 and out.iloc[0]["offered"] == 6.0


def test_method_is_stated() -> None:
    assert method_name(4) == "same weekday and interval, mean of the last 4 weeks of history"
    assert method_name(1) == "same weekday and interval, one week earlier"


def test_method_is_a_code_and_its_weeks() -> None:
    """Pages state the method in their own language from the code and the weeks."""
    assert method(3) == ForecastMethod("same_slot_mean", 3) and method().weeks == DEFAULT_WEEKS
    assert method(3).sentence() == method_name(3)
