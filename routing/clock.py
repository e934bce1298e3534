"""The routing engine's clock: wall time, or the switch's time at a speed factor.

In production the engine uses ``time.time()`` like the rest of the middleware. Tests
and benchmarks run the simulator with a ``speed`` factor (ring times, patience and
prompts compressed); the engine's own timers (max wait, announcements, callbacks) must
then run at the same speed, and the times it hands the live state must agree with
the switch's ``Event-Date-Timestamp`` values, or durations come out negative. So a
clock with ``speed != 1`` follows the switch: every channel event re-anchors it
(:meth:`EngineClock.observe`), and between events it advances ``speed`` seconds per
real second. It never goes backwards (event stamps move in 20 ms steps).

``CTI_ROUTING_SPEED`` (default 1) sets the factor; only the simulator needs it.
"""

from __future__ import annotations

import time

from esl.events import Event


class EngineClock:
    """``now()`` in epoch seconds; ``real(seconds)`` converts a span to real seconds."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"CTI_ROUTING_SPEED must be a positive number, got {speed}")
        self.speed = speed
        self._anchor = (time.time(), time.monotonic())
        self._last = 0.0

    def observe(self, event: Event) -> None:
        """Follow the switch's clock (only when running at a speed factor)."""
        if self.speed != 1.0 and event.timestamp and event.received_at:
            self._anchor = (event.timestamp, event.received_at)

    def now(self) -> float:
        if self.speed == 1.0:
            return time.time()
        epoch, mono = self._anchor
        value = max(self._last, epoch + (time.monotonic() - mono) * self.speed)
        self._last = value
        return value

    def real(self, seconds: float) -> float:
        """Real seconds for ``seconds`` of engine time."""
        return max(0.0, seconds) / self.speed
