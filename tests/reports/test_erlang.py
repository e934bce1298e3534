"""Erlang B/C/A against published values, exact arithmetic, an independent Markov
chain solve and a simulation."""

from __future__ import annotations

import heapq
import math
import random
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.erlang import (
    StaffingError,
    agents_erlang_a,
    agents_erlang_c,
    erlang_a_staffing,
    erlang_b,
    erlang_c,
    erlang_c_staffing,
)


def exact_erlang_c(n: int, a: Fraction) -> Fraction:
    """The textbook formula with factorials, in exact rational arithmetic."""
    top = a**n / math.factorial(n) * Fraction(n) / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def test_call_centre_helper_worked_example() -> None:
    """Call Centre Helper, "Erlang C Formula - Made Simple With an Easy Worked
    Example": 100 calls per 30 minutes, AHT 180 s, 80% answered within 20 s. Traffic
    A = 100 x 180 / 1800 = 10 erlangs; with 11 agents the probability of waiting is
    68.21% (published) and the service level 38.96%; 14 agents are needed (SL 88.84%).
    """
    lam, aht = 100 / 1800, 180.0
    eleven = erlang_c_staffing(11, lam, aht, 20)
    assert eleven.prob_wait == pytest.approx(0.6821, abs=5e-5)
    assert eleven.service_level == pytest.approx(0.3896, abs=5e-5)
    needed = agents_erlang_c(lam, aht, 20, 0.80)
    assert needed.agents == 14
    assert needed.service_level == pytest.approx(0.8884, abs=5e-5)
    assert erlang_c_staffing(13, lam, aht, 20).service_level < 0.80 < needed.service_level


def test_lester_worked_example() -> None:
    """The classic step-by-step example (360 calls per half hour, 4 minute calls, 55
    agents, 15 s target): A = 48 erlangs, occupancy 87.3%, probability of waiting
    0.2387, ASA 8.18 s, service level 84.6% -- checked against exact arithmetic."""
    figures = erlang_c_staffing(55, 360 / 1800, 240.0, 15)
    exact = float(exact_erlang_c(55, Fraction(48)))
    assert figures.prob_wait == pytest.approx(exact, rel=1e-12)
    assert figures.prob_wait == pytest.approx(0.2387, abs=5e-5)
    assert figures.occupancy == pytest.approx(48 / 55)
    assert figures.asa_s == pytest.approx(8.18, abs=5e-3)
    assert figures.service_level == pytest.approx(0.8459, abs=5e-5)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 60), load=st.fractions(min_value=Fraction(1, 10), max_value=Fraction(59, 1)))
def test_erlang_c_matches_exact_arithmetic(n: int, load: Fraction) -> None:
    if load >= n:
        assert erlang_c(n, float(load)) == 1.0
        return
    assert erlang_c(n, float(load)) == pytest.approx(float(exact_erlang_c(n, load)), rel=1e-9)


def test_no_overflow_for_thousands_of_agents() -> None:
    """5,000 agents: 5000! has 16,326 digits; the recursion never forms it."""
    b = erlang_b(5000, 4900.0)
    assert 0.0 < b < 1.0
    figures = agents_erlang_c(4900 / 180, 180.0, 20, 0.8)
    assert 4900 < figures.agents < 5000 and figures.service_level >= 0.8


@settings(max_examples=40, deadline=None)
@given(calls=st.integers(1, 2000), aht=st.integers(30, 900), target=st.floats(0.5, 0.95))
def test_agents_needed_is_the_least_that_meets_the_target(calls: int, aht: int, target: float) -> None:
    lam = calls / 1800
    needed = agents_erlang_c(lam, aht, 20, target)
    assert needed.service_level >= target
    assert erlang_c_staffing(needed.agents - 1, lam, aht, 20).service_level < target


def test_bad_inputs_say_what_is_wrong() -> None:
    with pytest.raises(StaffingError, match="between 0 and 1"):
        agents_erlang_c(1.0, 180, 20, 1.0)
    with pytest.raises(StaffingError, match="handle time > 0"):
        agents_erlang_c(1.0, 0, 20, 0.8)
    with pytest.raises(StaffingError, match="patience must be > 0"):
        erlang_a_staffing(3, 1.0, 180, 20, 0)
    assert agents_erlang_c(0.0, 180, 20, 0.8).agents == 0


def test_erlang_a_tends_to_erlang_c_when_nobody_abandons() -> None:
    lam, aht = 100 / 1800, 180.0
    for n in (11, 12, 14):
        c = erlang_c_staffing(n, lam, aht, 20)
        a = erlang_a_staffing(n, lam, aht, 20, patience=1e8)
        assert a.prob_wait == pytest.approx(c.prob_wait, rel=1e-4)
        assert a.service_level == pytest.approx(c.service_level, rel=1e-4)
        assert a.asa_s == pytest.approx(c.asa_s, rel=1e-3)


def stationary_by_linear_algebra(n: int, lam: float, mu: float, theta: float, size: int = 400) -> np.ndarray:
    """Solve pi Q = 0 for the truncated birth-death chain (independent of the module)."""
    q = np.zeros((size, size))
    for k in range(size):
        if k + 1 < size:
            q[k, k + 1] = lam
        if k > 0:
            q[k, k - 1] = min(k, n) * mu + max(0, k - n) * theta
        q[k, k] = -q[k].sum()
    system = np.vstack([q.T, np.ones(size)])
    rhs = np.zeros(size + 1)
    rhs[-1] = 1.0
    return np.linalg.lstsq(system, rhs, rcond=None)[0]


@pytest.mark.parametrize(("n", "lam", "aht", "patience"), [(11, 100 / 1800, 180, 120), (5, 0.05, 80, 60),
                                                          (30, 0.2, 150, 300), (3, 0.05, 90, 30)])
def test_erlang_a_stationary_figures_match_a_direct_solve(n: int, lam: float, aht: float, patience: float) -> None:
    pi = stationary_by_linear_algebra(n, lam, 1 / aht, 1 / patience)
    k = np.arange(len(pi))
    figures = erlang_a_staffing(n, lam, aht, 20, patience)
    assert figures.prob_wait == pytest.approx(pi[n:].sum(), rel=1e-6)
    abandon = (np.maximum(k - n, 0) * pi).sum() / patience / lam
    assert figures.abandon_rate == pytest.approx(abandon, rel=1e-6)


def simulate_service_level(n: int, lam: float, aht: float, patience: float, t: float, calls: int,
                           seed: int) -> float:
    """FCFS M/M/n+M: each arrival takes the earliest free agent if its patience lasts."""
    rng = random.Random(seed)
    free_at = [0.0] * n
    clock = 0.0
    within = counted = 0
    for _ in range(calls):
        clock += rng.expovariate(lam)
        wait = max(0.0, free_at[0] - clock)
        patience_draw = rng.expovariate(1 / patience)
        if wait <= patience_draw:
            heapq.heapreplace(free_at, clock + wait + rng.expovariate(1 / aht))
            counted += 1
            within += wait <= t
        elif patience_draw > t:
            counted += 1
    return within / counted


@pytest.mark.parametrize(("n", "lam", "aht", "patience"), [(5, 0.05, 80, 60), (12, 100 / 1800, 180, 120)])
def test_erlang_a_service_level_matches_a_simulation(n: int, lam: float, aht: float, patience: float) -> None:
    """The abandoned caller's wait is its patience, so 'abandoned after t' means a
    patience above t; 200,000 simulated calls give about +-0.003."""
    simulated = simulate_service_level(n, lam, aht, patience, 20, 200_000, seed=7)
    assert erlang_a_staffing(n, lam, aht, 20, patience).service_level == pytest.approx(simulated, abs=0.006)


def test_erlang_a_needs_no_more_agents_than_erlang_c() -> None:
    lam, aht = 100 / 1800, 180.0
    a = agents_erlang_a(lam, aht, 20, 0.8, patience=120)
    assert a.agents <= agents_erlang_c(lam, aht, 20, 0.8).agents
    assert a.service_level >= 0.8
    assert erlang_a_staffing(a.agents - 1, lam, aht, 20, 120).service_level < 0.8


def test_erlang_a_overloaded_with_endless_patience_is_a_service_level_of_zero() -> None:
    """10 erlangs on 5 agents, callers who wait for days: the queue grows past what is
    computed, and the answer is the practical one."""
    figures = erlang_a_staffing(5, 100 / 1800, 180, 20, patience=1e9)
    assert figures.service_level == 0.0 and figures.prob_wait == 1.0
    assert agents_erlang_a(100 / 1800, 180, 20, 0.8, patience=1e9).agents == 14
