"""Abandon-rate formulas (default and Ofcom) and the periods they are measured over."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from outbound.abandon import (
    AbandonRate,
    CallCounts,
    governing,
    ofcom_rate,
    period_figures,
    standard_rate,
    total,
)


def test_standard_rate_is_a_share_of_live_answered_calls() -> None:
    rate = standard_rate(CallCounts(dials=4000, connected=970, abandoned=30, amd_machine=500, no_answer=2000))
    assert rate == AbandonRate(30.0, 1000.0)
    assert rate.rate == pytest.approx(0.03)


def test_no_live_calls_is_a_zero_rate_not_a_division_error() -> None:
    assert standard_rate(CallCounts()).rate == 0.0
    assert ofcom_rate(CallCounts(), 0.05).rate == 0.0


def test_ofcom_formula_worked_example() -> None:
    # 1000 calls reached agents, 50 of them were machines: 95 % of answers put through were live.
    # 30 abandoned -> 28.5 live abandoned (reasoned estimate removes 1.5 machines).
    # AMD hung up on 400 "machines"; a measured 2 % false-positive rate means 8 were people.
    counts = CallCounts(connected=950, agent_machine=50, abandoned=30, amd_machine=400)
    rate = ofcom_rate(counts, 0.02)
    assert rate.abandoned == pytest.approx(28.5 + 8)
    assert rate.live == pytest.approx(950 + 28.5 + 8)
    assert rate.rate == pytest.approx(36.5 / 986.5)
    # The same calls under the default formula look compliant; under Ofcom's they are not.
    assert standard_rate(counts).rate == pytest.approx(30 / 980)


def test_ofcom_without_amd_false_positives_or_machines_equals_the_standard_rate() -> None:
    counts = CallCounts(connected=970, abandoned=30)
    assert ofcom_rate(counts, 0.0).rate == pytest.approx(standard_rate(counts).rate)


def test_ofcom_with_nothing_passed_to_agents_counts_every_drop_as_live() -> None:
    assert ofcom_rate(CallCounts(abandoned=3), 0.0) == AbandonRate(3.0, 3.0)


def test_false_positive_rate_must_be_a_fraction() -> None:
    with pytest.raises(ValueError):
        ofcom_rate(CallCounts(), 1.5)


def test_counts_add_up() -> None:
    assert total([CallCounts(dials=1, abandoned=1), CallCounts(dials=2, connected=5)]) == CallCounts(
        dials=3, abandoned=1, connected=5
    )


def test_day_and_rolling_30_days() -> None:
    day = date(2026, 6, 30)
    daily = {
        day: CallCounts(connected=95, abandoned=5),                     # 5 % today
        day - timedelta(days=29): CallCounts(connected=900, abandoned=0),  # first day of the window
        day - timedelta(days=30): CallCounts(connected=0, abandoned=500),  # outside the window
    }
    today, rolling = period_figures(daily, day, limit=0.03, rolling_days=30, ofcom=False)
    assert (today.period, today.start, today.end) == ("day", day, day)
    assert today.rate.rate == pytest.approx(0.05) and not today.within_limit
    assert rolling.period == "rolling_30_days" and rolling.start == day - timedelta(days=29)
    assert rolling.rate == AbandonRate(5.0, 1000.0) and rolling.within_limit
    assert governing([today, rolling]) is today.rate


def test_uk_profile_measures_the_day_only_with_the_ofcom_formula() -> None:
    day = date(2026, 6, 30)
    figures = period_figures({day: CallCounts(connected=100, amd_machine=100)}, day, limit=0.03,
                             rolling_days=None, ofcom=True, amd_false_positive_rate=0.05)
    assert [f.period for f in figures] == ["day"]
    assert figures[0].rate.rate == pytest.approx(5 / 105)
    row = figures[0].as_row()
    assert row["formula"] == "ofcom" and row["within_limit"] is False and row["amd_machine"] == 100
    assert row["abandon_rate"] == pytest.approx(0.04762, abs=1e-5)


def test_exactly_at_the_limit_is_within_it() -> None:
    (figure,) = period_figures({date(2026, 1, 1): CallCounts(connected=97, abandoned=3)}, date(2026, 1, 1),
                               limit=0.03, rolling_days=None, ofcom=False)
    assert figure.within_limit


def test_a_day_without_calls_reports_zero() -> None:
    (figure,) = period_figures({}, date(2026, 1, 1), limit=0.03, rolling_days=None, ofcom=False)
    assert figure.counts == CallCounts() and figure.rate.rate == 0.0 and figure.within_limit
    assert governing([]) == AbandonRate(0.0, 0.0)
