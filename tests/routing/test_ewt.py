"""Estimated wait time: the formula, smoothing, and when it may be said."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.ewt import Estimate, WaitEstimator


def test_formula_position_over_agents_times_aht() -> None:
    estimator = WaitEstimator(initial_aht=120, min_samples=0)
    assert estimator.estimate(1, 1).seconds == pytest.approx(120)
    assert estimator.estimate(6, 3).seconds == pytest.approx(240)
    assert estimator.estimate(4, 8).seconds == pytest.approx(60)


def test_first_handle_time_replaces_the_prior_then_smooths() -> None:
    estimator = WaitEstimator(alpha=0.5, initial_aht=1000)
    estimator.observe_handle(100)
    assert estimator.aht == pytest.approx(100)
    estimator.observe_handle(200)
    assert estimator.aht == pytest.approx(150)
    estimator.observe_handle(-5)  # nonsense is ignored
    estimator.observe_handle(math.nan)
    assert estimator.aht == pytest.approx(150) and estimator.handle_samples == 2


def test_observed_waits_correct_the_estimate() -> None:
    estimator = WaitEstimator(alpha=0.5, initial_aht=60, min_samples=0)
    estimator.observe_wait(actual=120, predicted=60)  # callers waited twice as long
    assert estimator.correction == pytest.approx(1.5)
    assert estimator.estimate(1, 1).seconds == pytest.approx(90)
    estimator.observe_wait(actual=10_000, predicted=1)  # clamped at 4x
    assert estimator.correction == pytest.approx(2.75)
    estimator.observe_wait(actual=5, predicted=0)  # no prediction: ignored
    assert estimator.wait_samples == 2


@pytest.mark.parametrize(
    ("samples", "position", "agents", "confident"),
    [
        (5, 1, 1, True),
        (4, 1, 1, False),  # too few handle times seen
        (5, 1, 0, False),  # nobody serves the queue
        (5, 100, 1, False),  # over an hour: not worth saying
    ],
)
def test_confidence(samples: int, position: int, agents: int, confident: bool) -> None:
    estimator = WaitEstimator(min_samples=5)
    for _ in range(samples):
        estimator.observe_handle(60)
    assert estimator.estimate(position, agents).confident is confident


def test_no_agents_is_infinite() -> None:
    assert WaitEstimator().estimate(3, 0) == Estimate(math.inf, False)
    with pytest.raises(ValueError):
        WaitEstimator().estimate(0, 1)
    with pytest.raises(ValueError):
        WaitEstimator(alpha=0)


@pytest.mark.parametrize(("seconds", "minutes"), [(1, 1), (60, 1), (61, 2), (600, 10)])
def test_minutes_round_up(seconds: float, minutes: int) -> None:
    assert Estimate(seconds, True).minutes == minutes


@given(
    handles=st.lists(st.floats(min_value=1, max_value=3600), min_size=1, max_size=30),
    position=st.integers(1, 200),
    agents=st.integers(1, 50),
)
def test_estimate_grows_with_position_and_shrinks_with_agents(handles: list[float], position: int, agents: int) -> None:
    estimator = WaitEstimator()
    for handle in handles:
        estimator.observe_handle(handle)
    assert min(handles) - 1e-6 <= estimator.aht <= max(handles) + 1e-6
    here = estimator.estimate(position, agents).seconds
    assert estimator.estimate(position + 1, agents).seconds >= here
    assert estimator.estimate(position, agents + 1).seconds <= here
