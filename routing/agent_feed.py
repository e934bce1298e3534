"""What the live state says about agents, told to the router.

Every ``agent.state_changed`` becomes one router call: ``available`` is
:meth:`~routing.acd.Router.on_agent_free` -- and the call it returns, if any, is
offered in the same step (the "agent became free -> originate" path the benchmark
measures) --, reserved, on a call or in wrap-up is ``on_agent_busy``, anything else
``on_agent_away``. :meth:`AgentFeed.sync` does the same from the live state directly,
when the two may have drifted (an offer the live state refused, agents held back while
a switch was unreachable).

It also keeps each agent's talk time today (site time zone), which the
``least_talk_time`` strategy orders agents by, from the ``call.ended`` records.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from cti.bus import DomainEvent
from cti.tracker import UnknownAgent

if TYPE_CHECKING:
    from routing.engine import RoutingEngine

_BUSY = frozenset({"reserved", "on_call", "on_hold", "in_consult", "wrap_up"})


class AgentFeed:
    """See the module docstring; one per engine."""

    def __init__(self, engine: RoutingEngine, *, timezone: str) -> None:
        self.engine = engine
        self.zone = ZoneInfo(timezone)
        self._talk: dict[int, tuple[date, float]] = {}

    def on_state(self, event: DomainEvent, received: float) -> None:
        agent_id = event.agent_id
        if agent_id is None or agent_id not in self.engine.router.agents:
            return
        self.apply(agent_id, str(event.data.get("state", "")), received)
        for queue in self.engine.site.agents[agent_id].queues:
            self.engine.figures.dirty(queue)

    def apply(self, agent_id: int, state: str, started: float | None = None) -> None:
        """Tell the router what the live state says about an agent."""
        router = self.engine.router
        if state == "available":
            if router.ringing_call(agent_id) is not None:
                return
            self.engine.free_started = started
            try:
                assignment = router.on_agent_free(agent_id, self.engine.clock.now(), self._talk_today(agent_id))
                if assignment is not None:
                    self.engine.queues.execute([assignment])
            finally:
                self.engine.free_started = None
        elif state in _BUSY:
            router.on_agent_busy(agent_id)
        else:
            router.on_agent_away(agent_id)

    def sync(self, agent_id: int) -> None:
        """Line the router up with the live state for one agent (after a refusal)."""
        if agent_id not in self.engine.router.agents:
            return
        try:
            state = self.engine.core.state.agent(agent_id).state.value
        except UnknownAgent:
            state = "logged_out"
        self.apply(agent_id, state)

    def _local_day(self, at: float) -> date:
        return datetime.fromtimestamp(at, UTC).astimezone(self.zone).date()

    def _talk_today(self, agent_id: int) -> float:
        day, seconds = self._talk.get(agent_id, (None, 0.0))
        return seconds if day == self._local_day(self.engine.clock.now()) else 0.0

    def call_ended(self, record: Mapping[str, Any]) -> None:
        """Add the talk periods of a finished call to each agent's day."""
        day = self._local_day(self.engine.clock.now())
        for segment in record.get("segments") or []:
            agent_id = segment.get("agent_id")
            if segment.get("kind") == "talk" and agent_id is not None:
                seen, total = self._talk.get(agent_id, (day, 0.0))
                self._talk[agent_id] = (day, (total if seen == day else 0.0) + float(segment.get("seconds") or 0))
