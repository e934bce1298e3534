"""The online estimates pacing learns: a forgetting proportion and duration distributions."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outbound.estimators import DurationEstimate, RateEstimate


def test_rate_starts_at_the_prior_and_learns() -> None:
    rate = RateEstimate(0.2, prior_weight=50, half_life=500)
    assert rate.value == pytest.approx(0.2)
    for i in range(2000):
        rate.observe(i % 2 == 0)
    assert rate.value == pytest.approx(0.5, abs=0.02)
    assert rate.observations == 2000


def test_rate_follows_a_list_whose_answer_rate_changes() -> None:
    rate = RateEstimate(0.25, half_life=200)
    for i in range(3000):
        rate.observe(i % 4 == 0)        # 25 %
    for i in range(1500):
        rate.observe(i % 10 == 0)       # then 10 %
    assert rate.value == pytest.approx(0.10, abs=0.02)


def test_rate_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        RateEstimate(1.5)
    with pytest.raises(ValueError):
        RateEstimate(0.5, prior_weight=0)


def test_duration_prior_is_exponential() -> None:
    d = DurationEstimate(10.0)
    assert d.survival(0) == 1.0
    assert d.survival(10.0) == pytest.approx(math.exp(-1))
    assert d.mean == 10.0 and d.count == 0


def test_duration_learns_the_empirical_shape() -> None:
    d = DurationEstimate(100.0, prior_weight=20, window=500)
    for _ in range(480):
        d.observe(120.0)
    assert d.mean == pytest.approx((20 * 100 + 480 * 120) / 500)
    assert d.survival(119.0) > 0.95           # everyone talks 120 s
    assert d.survival(121.0) < 0.05
    # Conditional: after 100 s, finishing within the next 30 s is now very likely.
    assert d.still_running(100.0, 30.0) < 0.05
    assert d.quantile(0.5) == pytest.approx(120.0, abs=0.5)


def test_duration_window_forgets_old_observations() -> None:
    d = DurationEstimate(10.0, prior_weight=1, window=10)
    for _ in range(10):
        d.observe(1000.0)
    for _ in range(10):
        d.observe(5.0)
    assert d.count == 10
    assert d.survival(100.0) < 0.01


def test_duration_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        DurationEstimate(0.0)
    with pytest.raises(ValueError):
        DurationEstimate(10.0).quantile(1.0)


@given(st.lists(st.floats(0, 3600), max_size=60), st.floats(0, 7200), st.floats(0, 600))
def test_survival_is_a_probability_and_never_zero(samples: list[float], x: float, more: float) -> None:
    d = DurationEstimate(60.0, window=50)
    for s in samples:
        d.observe(s)
    assert 0.0 < d.survival(x) <= 1.0
    assert d.survival(x + 1) <= d.survival(x)
    assert 0.0 <= d.still_running(x, more) <= 1.0
    q = d.quantile(0.8)
    assert d.survival(q) <= 0.2 + 1e-9
