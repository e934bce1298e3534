"""What the routing engine offers the web app and the CLI (mixed into
:class:`routing.engine.RoutingEngine`): live queue figures and calls, moving a waiting
call or changing its priority, an agent's transfer of a call to a queue, changing an
agent's skills.

These run in the caller's greenlet (a web request). They never yield halfway through
a change of routing state (the database write of :meth:`set_agent_skills` comes first),
so they cannot interleave with the engine's worker. A request that cannot be carried
out raises :class:`EngineRequestError` with a message saying what to change.
(``reload()`` and the dialer's hand-over live on the engine itself.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from routing.errors import RouterStateError
from routing.sessions import Phase, Session

if TYPE_CHECKING:
    from cti.db import Database
    from cti.latency import LatencyRecorder
    from routing.acd import Router
    from routing.callbacks import CallbackDialer
    from routing.clock import EngineClock
    from routing.persistence import RoutingStore
    from routing.queue_figures import QueueFigures
    from routing.queue_runner import QueueRunner
    from routing.queue_transfer import QueueTransfers
    from routing.site import Site


class EngineRequestError(ValueError):
    """An API request the engine cannot carry out; the message says what to change.

    ``reason``: ``bad-request`` (change the request), ``refused`` (the call's state
    does not allow it now) or ``unavailable`` (the switch cannot be reached; retry).
    """

    def __init__(self, message: str, reason: str = "bad-request") -> None:
        super().__init__(message)
        self.reason = reason


class EngineApi:
    """See the module docstring. The attributes are the engine's (set by it)."""

    site: Site
    router: Router
    clock: EngineClock
    db: Database
    sessions: dict[str, Session]
    callbacks: CallbackDialer
    queues: QueueRunner
    transfers: QueueTransfers
    figures: QueueFigures
    store: RoutingStore
    stats: Any
    latency: LatencyRecorder

    def queue_status(self, queue: str) -> dict[str, Any]:
        """The live figures of a queue (what ``queue.changed`` carries)."""
        self._require_queue(queue)
        return self.figures.snapshot(queue)

    def waiting_calls(self, queue: str) -> list[dict[str, Any]]:
        """Calls of a queue: ringing an agent first, then waiting in service order,
        then callbacks keeping their place."""
        self._require_queue(queue)
        now = self.clock.now()
        calls: list[tuple[tuple[int, int], dict[str, Any]]] = []
        for s in self.sessions.values():
            if s.queue != queue or not s.waiting_for_agent or s.waiting is None:
                continue
            position = self._position(s.iid)
            calls.append(((0 if s.phase is Phase.RINGING else 1, position), {
                "interaction_id": s.iid, "caller_number": s.caller_number, "caller_name": s.caller_name,
                "state": "ringing" if s.phase is Phase.RINGING else "waiting", "position": position,
                "waited": round(now - s.waiting.enqueued_at, 3), "priority": s.waiting.priority,
                "agents_ringing": sorted(s.offers.values()),
            }))
        for call in self.callbacks.calls.values():
            if call.queue == queue and call.status == "waiting":
                position = self._position(call.call_id)
                calls.append(((2, position), {
                    "interaction_id": call.call_id, "caller_number": call.number, "caller_name": "",
                    "state": "callback", "position": position, "waited": round(now - call.enqueued_at, 3),
                    "priority": call.priority, "agents_ringing": sorted(call.offers.values()),
                }))
        return [row for _, row in sorted(calls, key=lambda item: item[0])]

    def move_call(self, interaction_id: str, queue: str) -> None:
        """Move a waiting call to another queue (it counts as a new visit there)."""
        self._require_queue(queue)
        try:
            self.queues.requeue(self._waiting(interaction_id), queue=queue)
        except RouterStateError as exc:
            raise EngineRequestError(str(exc)) from None

    def transfer_to_queue(self, interaction_id: str, queue: str, *, from_agent: int) -> None:
        """A connected call goes back to waiting, in ``queue``: the agent's leg is
        released (they go to wrap-up), the caller hears the queue's treatment and is
        offered to its agents (see :mod:`routing.queue_transfer`).

        Raises:
            EngineRequestError: no such queue, not a call this agent is talking to, or
                its switch is unreachable.
        """
        self.transfers.transfer(interaction_id, queue, from_agent)

    def callbacks_changed(self) -> None:
        """A callback row was written (the agent desktop scheduled one): the engine
        looks for due callbacks now rather than at its next periodic check."""
        self.callbacks.wake()

    def set_priority(self, interaction_id: str, priority: int) -> None:
        """Change a waiting call's priority (0-100); it keeps the time it has waited."""
        if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 100:
            raise EngineRequestError(f"priority must be a whole number from 0 to 100 (got {priority!r})")
        try:
            self.queues.requeue(self._waiting(interaction_id), priority=priority)
        except RouterStateError as exc:
            raise EngineRequestError(str(exc)) from None

    def set_agent_skills(self, agent_id: int, skills: Mapping[str, int]) -> None:
        """Replace an agent's skills (stored, and applied to routing at once)."""
        agent = self.site.agents.get(agent_id)
        if agent is None:
            raise EngineRequestError(f"there is no agent {agent_id}")
        for skill, level in skills.items():
            if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
                raise EngineRequestError(f"skill {skill!r}: the level must be a whole number from 1 to 10 (got {level!r})")
        known = {row["name"] for row in self.db.fetchall("SELECT name FROM skills")}
        unknown = sorted(set(skills) - known)
        if unknown:
            raise EngineRequestError(f"unknown skill(s) {', '.join(unknown)}; define them first (known: {', '.join(sorted(known))})")
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM agent_skills WHERE agent_id = %s", (agent_id,))
            for skill, level in sorted(skills.items()):
                cur.execute("INSERT INTO agent_skills (agent_id, skill, level) VALUES (%s, %s, %s)",
                            (agent_id, skill, level))
        updated = replace(agent, skills=dict(skills))
        self.site = replace(self.site, agents={**self.site.agents, agent_id: updated})
        self.router.add_agent(updated)
        self.queues.execute(self.router.rebalance(self.clock.now()))

    def snapshot_stats(self) -> dict[str, Any]:
        """Counters for ``/metrics``."""
        return {**asdict(self.stats), "sessions": len(self.sessions), "waiting": self.router.waiting_calls(),
                "free_to_originate": self.latency.summary_ms(), "store": asdict(self.store.stats)}

    def _require_queue(self, queue: str) -> None:
        if queue not in self.site.rules:
            raise EngineRequestError(f"there is no queue {queue!r}; queues: {', '.join(sorted(self.site.rules))}")

    def _waiting(self, interaction_id: str) -> Session:
        s = self.sessions.get(interaction_id)
        if s is None:
            raise EngineRequestError(f"call {interaction_id} is not in the routing engine (ended, or not routed here)")
        return s

    def _position(self, call_id: str) -> int:
        try:
            return self.router.position(call_id)
        except RouterStateError:
            return 0
