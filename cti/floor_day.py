"""Today's figures per queue and per agent, kept current from domain events: the live
wallboard's service level, abandon rate, answered and offered counts, and each agent's
calls handled today. Pure; :mod:`cti.floor` feeds it and seeds it from the store.

The definitions are those of :mod:`reports.kpi` (read its docstring), so the wallboard
and the reports never disagree: the unit is the queue visit (``call.queued``); a visit
belongs to the day it entered the queue, whenever it ends; an abandon with a wait
below S is a short abandon, left out of offered and abandoned; answered within T
counts ``wait <= T``, an abandon after T ``wait > T``; service level = answered within
T / (answered + abandoned after T) and abandon rate = abandoned / offered, undefined
(None) when the denominator is 0. ``tests/cti/test_floor_day.py`` checks the figures
against reports.kpi on the same visits. An agent handled a call when they answered it
(``call.answered``) or it was transferred to them (``call.transferred``), the same
"calls with a talk segment" the agent reports count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from cti.bus import DomainEvent
from reports.kpi import KpiRules


@dataclass
class QueueMeasures:
    """Additive counts of one queue's visits of the day (as reports.kpi sums them)."""

    visits: int = 0
    answered: int = 0
    answered_within: int = 0
    abandoned: int = 0
    abandoned_after: int = 0
    short_abandoned: int = 0
    answer_wait_s: float = 0.0

    @property
    def offered(self) -> int:
        return self.visits - self.short_abandoned

    def figures(self) -> dict[str, float | int | None]:
        return {
            "offered": self.offered,
            "answered": self.answered,
            "abandoned": self.abandoned,
            "answered_within": self.answered_within,
            "service_level": _ratio(self.answered_within, self.answered + self.abandoned_after),
            "abandon_rate": _ratio(self.abandoned, self.offered),
            "asa_s": _ratio(self.answer_wait_s, self.answered),
        }


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


@dataclass(frozen=True, slots=True)
class Changes:
    """What one event changed: queues whose figures and agents whose counts moved."""

    queues: frozenset[str] = frozenset()
    agents: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.queues or self.agents)


@dataclass
class FloorDay:
    """The figures of one local day in the site's zone (see the module docstring)."""

    rules: KpiRules
    tz: str
    day: date
    queues: dict[str, QueueMeasures] = field(default_factory=dict)
    handled: dict[int, int] = field(default_factory=dict)

    @classmethod
    def starting(cls, rules: KpiRules, tz: str, now: float) -> FloorDay:
        return cls(rules, tz, local_day(now, tz))

    # -- facts ---------------------------------------------------------------------------

    def visit(self, queue: str, entered_at: float) -> bool:
        """A call entered ``queue``; False if that was not today."""
        if not self._today(entered_at):
            return False
        self._queue(queue).visits += 1
        return True

    def answer(self, queue: str, wait: float, at: float) -> bool:
        if not self._today(at - wait):
            return False
        measures = self._queue(queue)
        measures.answered += 1
        measures.answer_wait_s += wait
        measures.answered_within += int(wait <= self.rules.threshold_for(queue))
        return True

    def abandon(self, queue: str, wait: float, at: float) -> bool:
        if not self._today(at - wait):
            return False
        measures = self._queue(queue)
        if wait < self.rules.short_abandon_s:
            measures.short_abandoned += 1
        else:
            measures.abandoned += 1
            measures.abandoned_after += int(wait > self.rules.threshold_for(queue))
        return True

    def handle(self, agent_id: int, at: float, count: int = 1) -> bool:
        if not self._today(at):
            return False
        self.handled[agent_id] = self.handled.get(agent_id, 0) + count
        return True

    def apply(self, event: DomainEvent) -> Changes:
        """Count a domain event (call.queued, call.answered, call.abandoned,
        call.transferred); anything else changes nothing."""
        queue = str(event.data.get("queue") or event.queue or "")
        wait = event.data.get("wait_seconds")
        if event.type == "call.queued" and queue:
            return Changes(queues=frozenset({queue})) if self.visit(queue, event.at) else Changes()
        if event.type == "call.answered":
            agent = event.data.get("agent_id", event.agent_id)
            queues = frozenset({queue}) if queue and isinstance(wait, int | float) and self.answer(queue, wait, event.at) else frozenset()
            agents = frozenset({agent}) if isinstance(agent, int) and self.handle(agent, event.at) else frozenset()
            return Changes(queues, agents)
        if event.type == "call.abandoned" and queue and isinstance(wait, int | float):
            return Changes(queues=frozenset({queue})) if self.abandon(queue, wait, event.at) else Changes()
        if event.type == "call.transferred":
            agent = event.data.get("to_agent_id")
            if isinstance(agent, int) and self.handle(agent, event.at):
                return Changes(agents=frozenset({agent}))
        return Changes()

    # -- reading -------------------------------------------------------------------------

    def queue_figures(self, queue: str) -> dict[str, float | int | None]:
        return self.queues.get(queue, QueueMeasures()).figures()

    def calls_handled(self, agent_id: int) -> int:
        return self.handled.get(agent_id, 0)

    def roll(self, now: float) -> bool:
        """Start a new day when ``now`` is past this one; True if it did."""
        today = local_day(now, self.tz)
        if today <= self.day:
            return False
        self.day = today
        self.queues.clear()
        self.handled.clear()
        return True

    def _today(self, at: float) -> bool:
        return local_day(at, self.tz) == self.day

    def _queue(self, queue: str) -> QueueMeasures:
        return self.queues.setdefault(queue, QueueMeasures())


def local_day(at: float, tz: str) -> date:
    return datetime.fromtimestamp(at, ZoneInfo(tz)).date()


def day_start(day: date, tz: str) -> float:
    """Epoch seconds of local midnight starting ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).timestamp()
