"""Simulated time: a speed factor over real time, read through a 20 ms core timer.

FreeSWITCH stamps events from its core timer, which (without ``1ms-timer``) moves in
steps of about 20 ms, so many events share one ``Event-Date-Timestamp`` and only
``Event-Sequence`` orders them (see the captures' README). The simulator keeps that
property and lets load tests compress time: with ``speed=10`` a 1 s ring lasts 0.1 s of
real time but still moves the timestamps by 1 s.

Pure: the sources of real time are injected, so tests drive the clock by hand.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

TICK_US = 20_000


class SimClock:
    """Maps real elapsed time to simulated time.

    Args:
        speed: how many simulated seconds pass per real second (> 0).
        seed: makes the per-tick jitter (tens of microseconds, as in the captures)
            reproducible.
        monotonic: real monotonic seconds (``time.monotonic`` by default).
        wall: real wall-clock seconds at start (``time.time`` by default).
    """

    def __init__(
        self,
        *,
        speed: float = 1.0,
        seed: int | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be > 0, got {speed}")
        self.speed = speed
        self._monotonic = monotonic
        self._start_real = monotonic()
        self._epoch_us = int(wall() * 1_000_000)
        self._jitter_seed = random.Random(seed).getrandbits(32)

    def elapsed(self) -> float:
        """Simulated seconds since the clock started."""
        return (self._monotonic() - self._start_real) * self.speed

    def real_delay(self, sim_seconds: float) -> float:
        """Real seconds to wait for ``sim_seconds`` of simulated time."""
        return max(0.0, sim_seconds) / self.speed

    def now_us(self) -> int:
        """The event timestamp now: epoch microseconds on the 20 ms core timer."""
        tick = int(self.elapsed() * 1_000_000) // TICK_US
        jitter = (tick * 2654435761 + self._jitter_seed) % 64
        return self._epoch_us + tick * TICK_US + jitter
