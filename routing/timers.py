"""The timers of waiting calls: which are due when, in one heap.

A waiting call's timers follow from its queue's rules (:func:`schedule`):

========== =================================================================
RETRY      when a skill level relaxes or a sticky hold ends: try to offer it again
OVERFLOW   ``max_wait`` after it entered the queue (callbacks never overflow)
COMFORT    every ``comfort.every`` seconds, the first after one period
ANNOUNCE   position/EWT at entry, then every ``announce.every`` seconds
CALLBACK   once, ``callback.after`` seconds after it entered the queue
========== =================================================================

Removing a timer from a heap is costly, so timers are never removed: each carries
the *generation* of the call's stay in the queue, and a timer whose call has left or
re-entered (a new generation, after a failed ring) is simply skipped when it pops.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Iterator

from routing.queues import QueueRules
from routing.waiting import WaitingCall


class Timer(enum.Enum):
    RETRY = "retry"
    OVERFLOW = "overflow"
    COMFORT = "comfort"
    ANNOUNCE = "announce"
    CALLBACK = "callback"


def next_period(first: float, every: float, now: float) -> float:
    """The first of ``first, first + every, ...`` at or after ``now``."""
    if first >= now:
        return first
    periods = -(-(now - first) // every)
    return first + periods * every


def schedule(rules: QueueRules, call: WaitingCall, now: float) -> list[tuple[float, Timer]]:
    """The timers of ``call`` (re)entering the line at ``now``; none lies in the past
    except an overflow already due."""
    start = call.enqueued_at
    timers = [(start + after, Timer.RETRY) for after in rules.relax_times() if start + after > now]
    if rules.sticky is not None and call.last_agent is not None and start + rules.sticky.wait > now:
        timers.append((start + rules.sticky.wait, Timer.RETRY))
    if call.callback_number:
        return timers  # nobody on the line: no prompts, and the place is kept however long
    if rules.max_wait is not None:
        timers.append((max(now, start + rules.max_wait), Timer.OVERFLOW))
    if rules.comfort is not None:
        timers.append((next_period(start + rules.comfort.every, rules.comfort.every, now), Timer.COMFORT))
    if rules.announce is not None:
        timers.append((next_period(start, rules.announce.every, now), Timer.ANNOUNCE))
    if rules.callback is not None and start + rules.callback.after >= now:
        timers.append((start + rules.callback.after, Timer.CALLBACK))
    return timers


class TimerHeap:
    """Timers of all calls, earliest first; ties in insertion order."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, int, Timer]] = []
        self._seq = itertools.count()

    def push(self, when: float, call_id: str, generation: int, kind: Timer) -> None:
        heapq.heappush(self._heap, (when, next(self._seq), call_id, generation, kind))

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> Iterator[tuple[float, str, int, Timer]]:
        """``(due, call_id, generation, kind)`` of every timer due by ``now``, in order;
        timers pushed while iterating are included if they are due too."""
        while self._heap and self._heap[0][0] <= now:
            due, _, call_id, generation, kind = heapq.heappop(self._heap)
            yield due, call_id, generation, kind
