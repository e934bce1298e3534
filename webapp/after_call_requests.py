"""The queued "not ready after this call" requests of one web process, and carrying
them out (the rules are :mod:`webapp.after_call`).

A request is carried out with ``agent_set_state(not_ready, reason)`` once the agent's
live state says they are done with the call:

* saving the wrap-up (``/agent/api/wrapup``) finishes it and calls :meth:`settle` in
  the same greenlet, before anything else runs: no call can be offered in between;
* a wrap-up that times out, or a call of a queue without wrap-up, makes the agent
  available; :meth:`on_event` sees that ``agent.state_changed`` and settles from a
  greenlet of its own (the bus delivers synchronously, so a command inside a
  subscriber would publish in the middle of a delivery). The web app subscribes
  before the services start, so this greenlet runs before the router's worker
  looks at the freed agent.

Requests live in memory: a restart of the web process forgets them (the agent sees
the state bar without the pending reason and can ask again).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import gevent

from cti.bus import DomainEvent
from cti.core import COMMAND_REFUSALS, record_error
from cti.services import Services
from webapp.after_call import AfterCall, Step, step_for
from webapp.agent_views import live_agent

log = logging.getLogger(__name__)

#: Tells an agent's pages what became of their request: (agent id, payload).
Notify = Callable[[int, dict[str, Any]], None]


class AfterCallRequests:
    """Queued requests by agent id (see the module docstring)."""

    def __init__(self, services: Services, notify: Notify) -> None:
        self.services = services
        self.notify = notify
        self._pending: dict[int, AfterCall] = {}
        self.applied = 0
        self.refused = 0

    def pending(self, agent_id: int) -> dict[str, object] | None:
        request = self._pending.get(agent_id)
        return request.to_dict() if request is not None else None

    def queue(self, agent_id: int, reason: str) -> None:
        """Queue (or replace) the agent's request; the caller checked the reason and
        that the agent is on a call. Settled at once if the call ended meanwhile."""
        self._pending[agent_id] = AfterCall(reason, time.time())
        self.notify(agent_id, {"after_call": self.pending(agent_id)})
        self.settle(agent_id)

    def cancel(self, agent_id: int) -> bool:
        """Forget the agent's request; False if there was none."""
        if self._pending.pop(agent_id, None) is None:
            return False
        self.notify(agent_id, {"after_call": None})
        return True

    def settle(self, agent_id: int) -> None:
        """Do what the agent's live state says to a queued request (never from inside
        a bus delivery: applying it publishes)."""
        request = self._pending.get(agent_id)
        if request is None:
            return
        step = step_for(str(live_agent(self.services, agent_id)["state"]))
        if step is Step.WAIT:
            return
        del self._pending[agent_id]
        refused = self._apply(agent_id, request) if step is Step.APPLY else None
        self.notify(agent_id, {"after_call": None, **({"refused": refused} if refused else {})})

    def _apply(self, agent_id: int, request: AfterCall) -> str | None:
        """Make the agent not ready; the refusal, as a sentence, if the state refused."""
        core = self.services.core
        try:
            core.command(core.state.agent_set_state, agent_id, "not_ready", request.reason, now=time.time())
        except COMMAND_REFUSALS as exc:
            self.refused += 1
            log.warning("not ready after the call refused", extra={"agent": agent_id, "why": str(exc)})
            return record_error(exc)
        self.applied += 1
        return None

    def on_event(self, event: DomainEvent) -> None:
        """Bus subscriber (constant work): settle a request once the agent left the call."""
        agent_id = event.agent_id
        if event.type != "agent.state_changed" or agent_id is None or agent_id not in self._pending:
            return
        if step_for(str(event.data.get("state", ""))) is not Step.WAIT:
            gevent.spawn(self.settle, agent_id)


__all__ = ["AfterCallRequests", "Notify"]
