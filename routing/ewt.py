"""Estimated wait time (EWT) for a caller in a queue, and whether it is worth saying.

The model, per queue:

    raw EWT  = position * AHT / agents_serving
    EWT      = raw EWT * correction

- ``position`` is the caller's 1-based place in the queue and ``agents_serving`` the
  staffed members (free, ringing, talking or in wrap-up). With every agent busy and
  handle times roughly exponential, agents free up at ``agents_serving / AHT`` per
  second, so the caller's turn comes after ``position`` of those departures.
- ``AHT`` (average handle time: talk + hold + wrap-up) is an exponentially smoothed
  mean of recent handle times: ``AHT <- AHT + alpha * (observed - AHT)``.
- ``correction`` is an exponentially smoothed mean of ``actual wait / predicted
  wait`` over answered calls, clamped to [0.25, 4]. It absorbs what the raw formula
  ignores (agents in not-ready, abandons ahead of the caller, skills that split the
  pool) from what callers really waited.

The estimate is *confident* -- fit to announce -- only when enough handle times
(``min_samples``) have been seen, someone is serving the queue, and it is at most
``max_sayable`` seconds. Callers told a wrong number are worse off than callers
told nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Estimate:
    """``seconds`` is ``math.inf`` when nobody serves the queue."""

    seconds: float
    confident: bool

    @property
    def minutes(self) -> int:
        """Whole minutes to announce, rounded up, at least 1."""
        return max(1, math.ceil(self.seconds / 60))


class WaitEstimator:
    """Running estimates for one queue (pure arithmetic, no clock)."""

    def __init__(
        self,
        *,
        alpha: float = 0.2,
        initial_aht: float = 180.0,
        min_samples: int = 5,
        max_sayable: float = 3600.0,
    ) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        self.alpha = alpha
        self.aht = initial_aht
        self.correction = 1.0
        self.handle_samples = 0
        self.wait_samples = 0
        self.min_samples = min_samples
        self.max_sayable = max_sayable

    def observe_handle(self, seconds: float) -> None:
        """One finished interaction's handle time (talk + hold + wrap-up)."""
        if seconds < 0 or not math.isfinite(seconds):
            return
        self.handle_samples += 1
        weight = 1.0 if self.handle_samples == 1 else self.alpha
        self.aht += weight * (seconds - self.aht)

    def observe_wait(self, actual: float, predicted: float) -> None:
        """A call answered after ``actual`` seconds, for which we predicted ``predicted``."""
        if predicted <= 0 or not math.isfinite(predicted) or actual < 0:
            return
        ratio = min(4.0, max(0.25, actual / predicted))
        self.wait_samples += 1
        self.correction += self.alpha * (ratio - self.correction)

    def estimate(self, position: int, agents_serving: int) -> Estimate:
        if position < 1:
            raise ValueError(f"position is 1-based, got {position}")
        if agents_serving <= 0:
            return Estimate(math.inf, False)
        seconds = position * self.aht / agents_serving * self.correction
        confident = self.handle_samples >= self.min_samples and seconds <= self.max_sayable
        return Estimate(seconds, confident)
