"""Routing's own state lined up with the switch after a resync, and a bound on every wait.

The engine waits for events: an application's ``CHANNEL_EXECUTE_COMPLETE``, an agent
leg's ``CHANNEL_PARK``, a ``CHANNEL_BRIDGE``, a caller's ``CHANNEL_PARK`` after a
transfer. Events are lost when an event socket drops (or the client had to drop some),
and the client then resyncs: the live core reconciles its legs with the switch's
channels and publishes ``system.resynced`` for that switch. Two things here make sure
nothing waits forever for an event that will never come:

* :meth:`Recovery.after_resync` -- everything routing keeps on that switch is checked
  against the live state and the switch's channel list
  (:meth:`cti.tracker.LiveState.switch_channels`):

  - a caller who is gone: the session ends (rings cancelled, the queue left);
  - a caller still arriving: its park is checked (:meth:`Arrivals.check_parked`);
  - an IVR application whose end may have been lost: stopped (``uuid_break all``)
    and run again -- the caller hears that prompt once more;
  - a caller waiting for an agent: the treatment starts over (announcement dropped,
    music again), since an announcement's end or a re-park may have been lost;
  - an agent who answered and waits to be bridged: bridged now, or the call goes
    back in line; a bridge the switch made meanwhile is taken as seen;
  - a call on its way back to a queue (transfer): joins the queue if it parked;
  - rings: an agent leg answered while the caller still waits is bridged (its park
    was lost); answered after the caller left, it is hung up; vanished, the offer
    fails without blame (next agent); still ringing, it rings on;
  - callbacks: a customer who answered meanwhile is bridged to the agent;
  - legs we cancelled that the switch still has, and kills that could not be sent
    while it was unreachable: hung up;
  - agents: the router hears their state from the live state again.

* :meth:`Recovery.sweep`, every :data:`SWEEP_SECONDS` -- a wait whose bound passed ends
  as if what it waited for had failed: an application is stopped and taken as ended
  with nothing (the flow's own retry and failure paths apply), an announcement gives
  way to the music, a ring is withdrawn, a bridge is checked and tried again or given
  up, a transfer joins its queue without the park.

A switch that is unreachable is left alone by the sweep: nothing can be done there
until it is back, and then the resync sees to it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from cti.tracker import UnknownInteraction
from esl import commands as cmd
from esl.client import ESLError
from routing.sessions import Pending, Phase, Session

if TYPE_CHECKING:
    from routing.engine import RoutingEngine

log = logging.getLogger(__name__)

#: Real seconds between two sweeps of the bounds.
SWEEP_SECONDS = 2.0
#: Engine seconds an application may play its prompts before its end counts as lost
#: (the switch alone knows a prompt's length); added to the application's own timeouts.
PROMPT_ALLOWANCE = 120.0
#: Engine seconds for ``CHANNEL_BRIDGE`` after ``uuid_bridge``, and for the caller's
#: ``CHANNEL_PARK`` after a transfer to a queue.
SWITCH_WAIT = 10.0


class Recovery:
    """See the module docstring; one per engine, run in the engine's worker."""

    def __init__(self, engine: RoutingEngine) -> None:
        self.engine = engine

    # -- after a resync --------------------------------------------------------------------

    def after_resync(self, node: str) -> None:
        """``system.resynced`` for ``node`` (see the module docstring)."""
        e = self.engine
        e.stats.resyncs += 1
        on_switch = e.core.state.switch_channels(node)
        for s in [s for s in e.sessions.values() if s.node == node]:
            self._session(s)
        for leg, ringer in list(e.agent_legs.items()):
            if ringer.node == node:
                e.offers.resolve(ringer, leg)
        e.callbacks.after_resync(node)
        self._hang_up_leftovers(node, on_switch)
        for agent_id in e.site.agents:  # held back while the link was down
            e.agents.sync(agent_id)

    def _session(self, s: Session) -> None:
        e = self.engine
        if s.gone or s.phase is Phase.ENDED:
            return
        if not self._caller_up(s):
            e.arrivals.caller_gone(s, e.clock.now())
        elif s.phase is Phase.ARRIVING:
            e.arrivals.check_parked(s)
        elif s.phase is Phase.IVR:
            e.ivr.run_again(s)
        elif s.waiting_for_agent:
            e.queues.restart_treatment(s)
        elif s.phase is Phase.BRIDGING:
            e.queues.check_bridge(s)
        elif s.phase is Phase.TRANSFERRING:
            e.transfers.check(s)

    def _caller_up(self, s: Session) -> bool:
        state = self.engine.core.state
        iid = state.interaction_of_leg(s.leg)
        try:
            leg = state.interaction(iid).legs.get(s.leg) if iid is not None else None
        except UnknownInteraction:
            return False
        return leg is not None and leg.up

    def _hang_up_leftovers(self, node: str, on_switch: frozenset[str]) -> None:
        """Kills that could not be sent while the switch was unreachable, and legs we
        cancelled whose events (and so our second kill) were lost with the link."""
        e = self.engine
        retry, e.kill_later = e.kill_later, {}
        for leg, (leg_node, cause) in retry.items():
            e.cancel_leg(leg_node, leg, cause)
        for leg, leg_node in list(e.cancelled.items()):
            if leg_node == node and leg in on_switch and leg not in retry:
                log.info("routing: a cancelled leg is still on the switch; hanging it up", extra={"leg": leg})
                e.commands.api(node, cmd.uuid_kill(leg, "ORIGINATOR_CANCEL"))

    # -- the bounds --------------------------------------------------------------------------

    def sweep(self) -> None:
        """End every wait whose bound passed (see the module docstring)."""
        e = self.engine
        now = e.clock.now()
        for s in list(e.sessions.values()):
            if not e.online(s.node):
                continue
            for event_uuid, pending in list(s.pending.items()):
                if pending.deadline <= now and s.pending.get(event_uuid) is pending:
                    self._application_overdue(s, event_uuid, pending)
            if s.deadline <= now:
                self._phase_overdue(s)
        for leg, ringer in list(e.agent_legs.items()):
            deadline = e.offers.deadlines.get(leg)
            if deadline is not None and deadline <= now and e.online(ringer.node):
                e.stats.overdue += 1
                e.offers.resolve(ringer, leg, expired=True)
        e.offers.forget_stale()

    def _application_overdue(self, s: Session, event_uuid: str, pending: Pending) -> None:
        e = self.engine
        e.stats.overdue += 1
        del s.pending[event_uuid]
        log.warning("routing: an application's end never came; carrying on without it",
                    extra={"call": s.iid, "kind": pending.kind, "app": pending.step.app if pending.step else ""})
        s.lane.api(cmd.uuid_break(s.leg, all_queued=True))
        if pending.kind == "ivr":
            e.ivr.on_failed(s, pending, ESLError("no CHANNEL_EXECUTE_COMPLETE came"))
        elif pending.kind == "agent_announce":
            s.media = ""
            e.queues.check_bridge(s)
        else:
            e.queues.media_done(s, event_uuid)

    def _phase_overdue(self, s: Session) -> None:
        self.engine.stats.overdue += 1
        s.deadline = float("inf")
        log.warning("routing: an expected switch event never came; checking the call",
                    extra={"call": s.iid, "phase": s.phase.value})
        if s.phase is Phase.BRIDGING:
            self.engine.queues.check_bridge(s)
        elif s.phase is Phase.TRANSFERRING:
            self.engine.transfers.park_overdue(s)
