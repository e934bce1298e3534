"""Staffing math: Erlang B, Erlang C (M/M/n) and Erlang A (M/M/n+M, with abandonment).

Notation: calls arrive at rate ``lam`` (per second), handle time averages ``aht``
seconds, so the offered load is ``a = lam * aht`` erlangs; ``n`` agents; service-level
target: a share ``target`` of calls answered within ``t`` seconds.

Erlang B by the recursion ``B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))``: no factorial
and no power is ever formed, so it neither overflows nor loses precision for thousands
of agents (Jagerman, "Some properties of the Erlang loss function", Bell System
Technical Journal 53(3), 1974).

Erlang C from B: ``C(n, a) = n B / (n - a (1 - B))`` for ``n > a`` (1 otherwise);
service level ``SL = 1 - C exp(-(n - a) t / aht)``; average speed of answer
``ASA = C aht / (n - a)``; occupancy ``a / n``.

Erlang A (Palm 1943; Garnett, Mandelbaum and Reiman, "Designing a call center with
impatient customers", M&SOM 4(3), 2002): callers abandon after an exponential patience
of mean ``patience`` seconds (rate ``theta = 1 / patience``). The stationary
distribution of the number of calls in the system is computed in log space (no
overflow) and truncated where the tail is below 1e-16 of the mode. The service level
uses the same definition as the reports (:mod:`reports.kpi`): answered within t /
(answered + abandoned after t) = P(answered within t) / (1 - P(abandoned within t)).
Both probabilities come from the tagged caller's transient chain (position in queue,
served, abandoned), solved by uniformisation, an exact and stable method.

Agents needed: the least ``n`` that meets the target (SL is increasing in ``n``). For
Erlang C the search walks up from ``floor(a) + 1`` with the B recursion (O(n)); for
Erlang A it bisects below the Erlang C answer, which is an upper bound because
abandonment only shortens waits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: Beyond this the caller is asking for an impossible staffing level.
MAX_AGENTS = 100_000
#: Longest queue the Erlang A distribution is computed for. An overloaded system
#: (n mu < lam) with almost endless patience would need more: it is reported with a
#: service level of 0, which is what it is in practice.
MAX_QUEUE = 50_000


class StaffingError(ValueError):
    """Inputs that make no sense for a queueing model (negative load, target >= 1 ...)."""


@dataclass(frozen=True)
class Staffing:
    """What ``n`` agents achieve for one interval's traffic."""

    agents: int
    service_level: float
    #: Probability that a call has to wait at all.
    prob_wait: float
    #: Mean queue wait over all calls, the classic Erlang C "ASA" (Erlang A: Lq / lam).
    asa_s: float
    #: Share of the agents' time spent handling calls.
    occupancy: float
    #: Share of calls that abandon (0 for Erlang C, whose callers never leave).
    abandon_rate: float = 0.0


def erlang_b(n: int, a: float) -> float:
    """Blocking probability of ``n`` servers offered ``a`` erlangs (iterative, stable)."""
    if n < 0 or a < 0:
        raise StaffingError(f"Erlang B needs n >= 0 and a >= 0, got n={n}, a={a}")
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def _c_from_b(n: int, a: float, b: float) -> float:
    if n <= a:
        return 1.0
    return n * b / (n - a * (1.0 - b))


def erlang_c(n: int, a: float) -> float:
    """Probability that a call waits, with ``n`` agents and ``a`` erlangs (1 if n <= a)."""
    return _c_from_b(n, a, erlang_b(n, a))


def _check(lam: float, aht: float, t: float) -> None:
    if lam < 0 or aht <= 0 or t < 0:
        raise StaffingError(f"need arrival rate >= 0, handle time > 0 and threshold >= 0; got {lam}, {aht}, {t}")


def _check_target(target: float) -> None:
    if not 0 < target < 1:
        raise StaffingError(f"service-level target must be between 0 and 1 (exclusive), got {target}")


def erlang_c_staffing(n: int, lam: float, aht: float, t: float) -> Staffing:
    """Erlang C figures for ``n`` agents."""
    _check(lam, aht, t)
    a = lam * aht
    c = erlang_c(n, a)
    if n <= a:
        return Staffing(n, 0.0, 1.0, math.inf, 1.0 if n else math.nan)
    sl = 1.0 - c * math.exp(-(n - a) * t / aht)
    return Staffing(n, sl, c, c * aht / (n - a), a / n)


def agents_erlang_c(lam: float, aht: float, t: float, target: float) -> Staffing:
    """The least number of agents whose Erlang C service level reaches ``target``."""
    _check(lam, aht, t)
    _check_target(target)
    a = lam * aht
    if a == 0:
        return Staffing(0, 1.0, 0.0, 0.0, 0.0)
    n = math.floor(a) + 1
    b = erlang_b(n, a)
    while n <= MAX_AGENTS:
        c = _c_from_b(n, a, b)
        sl = 1.0 - c * math.exp(-(n - a) * t / aht)
        if sl >= target:
            return Staffing(n, sl, c, c * aht / (n - a), a / n)
        n += 1
        b = a * b / (n + a * b)
    raise StaffingError(f"more than {MAX_AGENTS} agents needed for {a:.1f} erlangs")


def _log_stationary(n: int, lam: float, mu: float, theta: float) -> npt.NDArray[np.float64] | None:
    """Unnormalised log-probabilities of k = 0 .. K calls in an M/M/n+M system, or
    None when the queue would have to be longer than :data:`MAX_QUEUE`."""
    a = lam / mu
    k = np.arange(n + 1, dtype=np.float64)
    log_head = k * math.log(a) - np.array([math.lgamma(x + 1.0) for x in k]) if a > 0 else np.where(k == 0, 0.0, -np.inf)
    peak = max(0.0, (lam - n * mu) / theta)
    depth = int(peak + 12.0 * math.sqrt(lam / theta + 1.0) + 50.0)
    if depth > MAX_QUEUE:
        return None
    j = np.arange(1, depth + 1, dtype=np.float64)
    log_tail = log_head[-1] + np.cumsum(np.log(lam) - np.log(n * mu + j * theta)) if lam > 0 else np.full(depth, -np.inf)
    logs = np.concatenate([log_head, log_tail])
    cut = logs > logs.max() - 37.0
    last = int(np.flatnonzero(cut)[-1])
    return logs[: max(last + 1, n + 2)]


def _poisson_tail(mass: float, steps: int) -> npt.NDArray[np.float64]:
    """P(N > m) for m = 0 .. steps, N ~ Poisson(mass), from log-space terms."""
    m = np.arange(steps + 1, dtype=np.float64)
    log_pmf = m * math.log(mass) - mass - np.array([math.lgamma(x + 1.0) for x in m])
    return np.clip(1.0 - np.cumsum(np.exp(log_pmf)), 0.0, 1.0)


def _tagged_outcomes(ahead: npt.NDArray[np.float64], n: int, mu: float, theta: float,
                     t: float) -> tuple[float, float]:
    """P(served within t), P(abandoned within t) for arrivals that queue.

    ``ahead[j]`` is the probability that an arrival finds ``j`` callers ahead of it.
    With ``j`` ahead the line moves at rate ``n mu + j theta`` and the caller itself
    abandons at rate ``theta``. Uniformisation: absorbed mass after DTMC step ``m``
    counts when the Poisson clock made more than ``m`` jumps by ``t``.
    """
    rates = n * mu + np.arange(len(ahead), dtype=np.float64) * theta
    uniform = float(rates[-1] + theta)
    mass = uniform * t
    if mass == 0:
        return 0.0, 0.0
    steps = int(mass + 10.0 * math.sqrt(mass) + 20.0)
    tail = _poisson_tail(mass, steps)
    p = ahead.astype(np.float64).copy()
    served = abandoned = 0.0
    for m in range(steps + 1):
        served += float(p[0] * rates[0] / uniform) * tail[m]
        abandoned += float(p.sum() * theta / uniform) * tail[m]
        moved = p * rates / uniform
        p = p - moved - p * (theta / uniform)
        p[:-1] += moved[1:]
    return served, abandoned


def erlang_a_staffing(n: int, lam: float, aht: float, t: float, patience: float) -> Staffing:
    """Erlang A figures for ``n`` agents and mean patience ``patience`` seconds."""
    _check(lam, aht, t)
    if not patience > 0:
        raise StaffingError(f"mean patience must be > 0 seconds, got {patience}")
    mu, theta = 1.0 / aht, 1.0 / patience
    if lam == 0:
        return Staffing(n, 1.0, 0.0, 0.0, 0.0)
    if n == 0:
        return Staffing(0, 0.0, 1.0, math.inf, math.nan, 1.0)
    logs = _log_stationary(n, lam, mu, theta)
    if logs is None:
        return Staffing(n, 0.0, 1.0, math.inf, 1.0, math.nan)
    probs = np.exp(logs - logs.max())
    probs /= probs.sum()
    waiting = probs[n:]
    prob_wait = float(waiting.sum())
    queue_length = float((np.arange(len(waiting)) * waiting).sum())
    abandon_rate = theta * queue_length / lam
    busy = float((np.minimum(np.arange(len(probs)), n) * probs).sum())
    served_t, abandoned_t = _tagged_outcomes(waiting, n, mu, theta, t) if prob_wait > 0 else (0.0, 0.0)
    answered_within = (1.0 - prob_wait) + served_t
    sl = answered_within / (1.0 - abandoned_t) if abandoned_t < 1.0 else 0.0
    return Staffing(n, float(min(1.0, sl)), prob_wait, queue_length / lam, busy / n, abandon_rate)


def agents_erlang_a(lam: float, aht: float, t: float, target: float, patience: float) -> Staffing:
    """The least number of agents whose Erlang A service level reaches ``target``."""
    _check_target(target)
    upper = agents_erlang_c(lam, aht, t, target).agents
    if upper == 0:
        return erlang_a_staffing(0, lam, aht, t, patience) if lam == 0 else Staffing(0, 1.0, 0.0, 0.0, 0.0)
    low, high = 0, upper
    best = erlang_a_staffing(upper, lam, aht, t, patience)
    while high - low > 1:
        middle = (low + high) // 2
        figures = erlang_a_staffing(middle, lam, aht, t, patience)
        if figures.service_level >= target:
            high, best = middle, figures
        else:
            low = middle
    return best
