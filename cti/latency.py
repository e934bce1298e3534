"""Latency percentiles from a bounded reservoir: what ``cti simulate``, ``/metrics`` and
the benchmarks report as "event arrival to state applied"."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class LatencyRecorder:
    """Keeps a uniform sample (Vitter's algorithm R) of at most ``size`` values."""

    size: int = 20_000
    count: int = 0
    maximum: float = 0.0
    _sample: list[float] = field(default_factory=list)
    _random: random.Random = field(default_factory=lambda: random.Random(7))

    def record(self, seconds: float) -> None:
        self.count += 1
        self.maximum = max(self.maximum, seconds)
        if len(self._sample) < self.size:
            self._sample.append(seconds)
            return
        slot = self._random.randrange(self.count)
        if slot < self.size:
            self._sample[slot] = seconds

    def percentile(self, p: float) -> float:
        """The p-th percentile (0-100) of the sample, in seconds; 0 when empty."""
        if not self._sample:
            return 0.0
        ordered = sorted(self._sample)
        index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
        return ordered[index]

    def summary_ms(self) -> dict[str, float]:
        return {
            "count": self.count,
            "p50_ms": round(self.percentile(50) * 1000, 3),
            "p95_ms": round(self.percentile(95) * 1000, 3),
            "p99_ms": round(self.percentile(99) * 1000, 3),
            "max_ms": round(self.maximum * 1000, 3),
        }
