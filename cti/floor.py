"""The floor's figures of the day (:class:`cti.floor_day.FloorDay`), kept from the bus.

A component: :meth:`FloorFigures.start` loads the queues' service-level thresholds,
seeds today's figures from the store (queue visits and talk segments written before
this process started) and then counts every ``call.*`` event as it is published. It is
added to the services before the core, so no event can slip between the seed and the
subscription. Listeners (the wallboard's push layer) hear which queues and agents
changed; they run in the publishing greenlet and must not block.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from cti.bus import DomainEvent, EventBus
from cti.db import Database, DatabaseUnavailable
from cti.floor_day import Changes, FloorDay, day_start
from reports.kpi import KpiRules

log = logging.getLogger(__name__)

Listener = Callable[[Changes], None]

_VISITS_SQL = """
SELECT queue_name, extract(epoch FROM entered_at) AS entered, extract(epoch FROM answered_at) AS answered,
       extract(epoch FROM left_at) AS left_at, outcome
  FROM queue_visits WHERE entered_at >= to_timestamp(%s)"""
_HANDLED_SQL = """
SELECT agent_id, count(DISTINCT interaction_id) AS calls
  FROM agent_segments WHERE kind = 'talk' AND started_at >= to_timestamp(%s) GROUP BY agent_id"""
_RULES_SQL = """
SELECT name, (settings->>'service_level')::float8 AS threshold FROM queues
 WHERE jsonb_typeof(settings->'service_level') = 'number'"""


class FloorFigures:
    """See the module docstring."""

    def __init__(self, db: Database, bus: EventBus, tz: str, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.bus = bus
        self.tz = tz
        self.clock = clock
        self.day = FloorDay.starting(KpiRules(), tz, clock())
        self._listeners: list[Listener] = []
        # One bound method kept: the bus unsubscribes by identity, and every attribute
        # access makes a new bound method.
        self._subscriber = self._on_event

    def start(self) -> None:
        try:
            self.day = FloorDay.starting(self._rules(), self.tz, self.clock())
            self._seed()
        except DatabaseUnavailable as exc:
            log.warning("floor figures start from zero: the store is unreachable", extra={"why": str(exc)})
        self.bus.subscribe("call.*", self._subscriber)

    def stop(self) -> None:
        self.bus.unsubscribe(self._subscriber)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    # -- reading ---------------------------------------------------------------------------

    def queue_figures(self, queue: str) -> dict[str, float | int | None]:
        self._roll()
        return self.day.queue_figures(queue)

    def calls_handled(self, agent_id: int) -> int:
        self._roll()
        return self.day.calls_handled(agent_id)

    def thresholds(self, queues: list[str]) -> dict[str, float]:
        """Each queue's service-level threshold T in seconds."""
        return {q: self.day.rules.threshold_for(q) for q in queues}

    # -- feeding ---------------------------------------------------------------------------

    def _on_event(self, event: DomainEvent) -> None:
        self._roll()
        changes = self.day.apply(event)
        if changes:
            self._tell(changes)

    def _roll(self) -> None:
        queues, agents = frozenset(self.day.queues), frozenset(self.day.handled)
        if self.day.roll(self.clock()):
            log.info("floor figures: a new day", extra={"day": self.day.day.isoformat()})
            self._tell(Changes(queues, agents))

    def _tell(self, changes: Changes) -> None:
        for listener in self._listeners:
            try:
                listener(changes)
            except Exception:
                log.exception("floor listener failed")

    def _rules(self) -> KpiRules:
        rows = self.db.fetchall(_RULES_SQL)
        return KpiRules(sl_threshold_by_queue={str(r["name"]): float(r["threshold"]) for r in rows})

    def _seed(self) -> None:
        since = day_start(self.day.day, self.tz)
        for row in self.db.fetchall(_VISITS_SQL, (since,)):
            self._seed_visit(row)
        for row in self.db.fetchall(_HANDLED_SQL, (since,)):
            self.day.handle(int(row["agent_id"]), since, int(row["calls"]))

    def _seed_visit(self, row: dict[str, Any]) -> None:
        queue, entered = str(row["queue_name"]), float(row["entered"])
        self.day.visit(queue, entered)
        if row["answered"] is not None:
            self.day.answer(queue, float(row["answered"]) - entered, float(row["answered"]))
        elif row["outcome"] == "abandoned" and row["left_at"] is not None:
            self.day.abandon(queue, float(row["left_at"]) - entered, float(row["left_at"]))
