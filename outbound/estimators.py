"""Online estimates the pacing engine learns from what happens on the lines.

Two kinds, both bounded in memory and deterministic:

- :class:`RateEstimate` -- a proportion (the live-answer rate) as a Beta-style
  estimate with exponential forgetting: a prior worth ``prior_weight`` observations,
  and each new observation weighs more than older ones (``half_life`` observations),
  so the estimate follows a list whose answer rate drifts during the day.
- :class:`DurationEstimate` -- a duration distribution (ring time to answer, talk
  time, wrap-up) as the empirical distribution of the last ``window`` observations,
  blended with an exponential prior worth ``prior_weight`` observations. Pacing asks
  *conditional* questions ("an agent has talked 90 s: how likely is she still busy
  in 12 s?") and the empirical survival function answers them without assuming a
  shape, as Samuelson (1999) does with observed talk-time distributions; the prior
  keeps answers sensible before data arrives and beyond the longest observation.
"""

from __future__ import annotations

import bisect
import math
from collections import deque


class RateEstimate:
    """A proportion learned online with exponential forgetting."""

    def __init__(self, prior_rate: float, prior_weight: float = 50.0, half_life: float = 500.0) -> None:
        if not 0.0 <= prior_rate <= 1.0:
            raise ValueError("prior_rate must be between 0 and 1")
        if prior_weight <= 0 or half_life <= 0:
            raise ValueError("prior_weight and half_life must be positive")
        self._hits = prior_rate * prior_weight
        self._weight = prior_weight
        self._decay = 0.5 ** (1.0 / half_life)
        self.observations = 0

    def observe(self, hit: bool) -> None:
        self._hits = self._hits * self._decay + (1.0 if hit else 0.0)
        self._weight = self._weight * self._decay + 1.0
        self.observations += 1

    @property
    def value(self) -> float:
        return self._hits / self._weight


class DurationEstimate:
    """Survival function of a duration: recent observations blended with a prior."""

    def __init__(self, prior_mean: float, *, prior_weight: float = 20.0, window: int = 500) -> None:
        if prior_mean <= 0 or prior_weight <= 0 or window <= 0:
            raise ValueError("prior_mean, prior_weight and window must be positive")
        self.prior_mean = prior_mean
        self.prior_weight = prior_weight
        self._recent: deque[float] = deque()
        self._sorted: list[float] = []
        self._window = window
        self._total = 0.0

    def observe(self, seconds: float) -> None:
        value = max(0.0, float(seconds))
        self._recent.append(value)
        bisect.insort(self._sorted, value)
        self._total += value
        if len(self._recent) > self._window:
            old = self._recent.popleft()
            del self._sorted[bisect.bisect_left(self._sorted, old)]
            self._total -= old

    @property
    def count(self) -> int:
        return len(self._sorted)

    @property
    def mean(self) -> float:
        n = len(self._sorted)
        return (self.prior_weight * self.prior_mean + self._total) / (self.prior_weight + n)

    def survival(self, seconds: float) -> float:
        """P(duration > seconds); always > 0 thanks to the prior's tail."""
        if seconds <= 0:
            return 1.0
        n = len(self._sorted)
        prior = math.exp(-seconds / self.prior_mean)
        above = n - bisect.bisect_right(self._sorted, seconds)
        return (self.prior_weight * prior + above) / (self.prior_weight + n)

    def still_running(self, elapsed: float, more: float) -> float:
        """P(duration > elapsed + more | duration > elapsed)."""
        if more <= 0:
            return 1.0
        return min(1.0, self.survival(elapsed + more) / self.survival(elapsed))

    def quantile(self, q: float) -> float:
        """The smallest duration x with P(duration <= x) >= q (bisection on :meth:`survival`)."""
        if not 0.0 < q < 1.0:
            raise ValueError("q must be strictly between 0 and 1")
        low, high = 0.0, self.prior_mean
        while self.survival(high) > 1.0 - q:
            high *= 2.0
        for _ in range(40):
            mid = (low + high) / 2.0
            if self.survival(mid) > 1.0 - q:
                low = mid
            else:
                high = mid
        return high
