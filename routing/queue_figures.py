"""Live queue figures and the ``queue.changed`` events that carry them.

A queue's figures change with almost every call and agent event; publishing each
change would flood wallboards. So changes only mark the queue dirty, and a greenlet
publishes one ``queue.changed`` per dirty queue every ``interval`` seconds (at most
four a second per queue by default), with the figures as they are at that moment:
calls waiting, the longest wait, agents of the queue by state, and today's counters
(offered, answered, answered within the queue's service level, abandoned,
overflowed) with the service level as a percentage of answered plus abandoned calls.

"Today" is the site's local day (``CTI_SITE_TIMEZONE``); the counters start from
``queue_visits`` when the engine starts and follow the events afterwards.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import gevent

from cti.bus import DomainEvent
from cti.db import Database
from cti.tracker import UnknownAgent
from routing.errors import RouterStateError

if TYPE_CHECKING:
    from routing.engine import RoutingEngine

log = logging.getLogger(__name__)


@dataclass
class Today:
    day: date
    offered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    abandoned: int = 0
    overflowed: int = 0

    def service_level(self) -> float | None:
        handled = self.answered + self.abandoned
        return round(100.0 * self.answered_in_sl / handled, 1) if handled else None


class QueueFigures:
    """See the module docstring."""

    def __init__(self, engine: RoutingEngine, *, timezone: str, interval: float = 0.25) -> None:
        self.engine = engine
        self.zone = ZoneInfo(timezone)
        self.interval = interval
        self.published = 0
        self._today: dict[str, Today] = {}
        self._dirty: set[str] = set()
        self._greenlet: gevent.Greenlet | None = None

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._run)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None

    # -- counting ---------------------------------------------------------------------

    def dirty(self, queue: str) -> None:
        if queue:
            self._dirty.add(queue)

    def offered(self, queue: str) -> None:
        self._counters(queue).offered += 1
        self.dirty(queue)

    def answered(self, queue: str, wait: float | None) -> None:
        today = self._counters(queue)
        today.answered += 1
        rules = self.engine.site.rules.get(queue)
        if wait is not None and rules is not None and wait <= rules.service_level:
            today.answered_in_sl += 1
        self.dirty(queue)

    def abandoned(self, queue: str) -> None:
        self._counters(queue).abandoned += 1
        self.dirty(queue)

    def overflowed(self, queue: str) -> None:
        self._counters(queue).overflowed += 1
        self.dirty(queue)

    def _counters(self, queue: str) -> Today:
        day = self._day(self.engine.clock.now())
        today = self._today.get(queue)
        if today is None or today.day != day:
            today = self._today[queue] = Today(day)
        return today

    def _day(self, at: float) -> date:
        return datetime.fromtimestamp(at, UTC).astimezone(self.zone).date()

    def load_today(self, db: Database) -> None:
        """Today's counters from the visits already stored (the engine just started)."""
        day = self._day(self.engine.clock.now())
        start = datetime.combine(day, datetime.min.time(), tzinfo=self.zone)
        rows = db.fetchall(
            """SELECT queue_name, outcome, extract(epoch FROM answered_at - entered_at) AS wait
                 FROM queue_visits WHERE entered_at >= %s""",
            (start,),
        )
        for row in rows:
            today = self._counters(row["queue_name"])
            today.offered += 1
            if row["outcome"] == "answered":
                today.answered += 1
                rules = self.engine.site.rules.get(row["queue_name"])
                if row["wait"] is not None and rules is not None and float(row["wait"]) <= rules.service_level:
                    today.answered_in_sl += 1
            elif row["outcome"] == "abandoned":
                today.abandoned += 1
            elif row["outcome"] == "overflowed":
                today.overflowed += 1

    # -- reading and publishing ---------------------------------------------------------

    def snapshot(self, queue: str) -> dict[str, Any]:
        """The figures of ``queue`` now (what ``queue.changed`` carries).

        Raises:
            RouterStateError: no such queue.
        """
        engine = self.engine
        status = engine.router.queue_status(queue, engine.clock.now())
        states: dict[str, int] = {}
        for agent_id in engine.site.memberships.get(queue, ()):
            try:
                state = engine.core.state.agent(agent_id).state.value
            except UnknownAgent:
                continue
            states[state] = states.get(state, 0) + 1
        today = self._counters(queue)
        rules = engine.site.rules[queue]
        return {
            "queue": queue,
            "waiting": status.waiting,
            "longest_wait": round(status.longest_wait, 3),
            "free_agents": status.free_agents,
            "staffed_agents": status.staffed_agents,
            "agents": states,
            "service_level_seconds": rules.service_level,
            "sl_today": today.service_level(),
            "offered_today": today.offered,
            "answered_today": today.answered,
            "answered_in_sl_today": today.answered_in_sl,
            "abandoned_today": today.abandoned,
            "overflowed_today": today.overflowed,
        }

    def _run(self) -> None:
        while True:
            gevent.sleep(self.interval)
            self.publish_dirty()

    def publish_dirty(self) -> None:
        dirty, self._dirty = self._dirty, set()
        for queue in sorted(dirty):
            try:
                figures = self.snapshot(queue)
            except (RouterStateError, KeyError):
                continue
            self.engine.bus.publish(DomainEvent(
                type="queue.changed", queue=queue, data=figures, at=self.engine.clock.now(),
            ))
            self.published += 1
