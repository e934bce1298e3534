"""An agent's transfer of a connected call to a queue.

:meth:`QueueTransfers.transfer` (the web's blind transfer to ``queue:<name>``, through
:meth:`routing.engine_api.EngineApi.transfer_to_queue`) turns a call talking to an
agent back into a waiting call:

1. the live state hears ``queue_entered`` first: it records the blind transfer to
   ``queue:<name>`` and releases the agent's leg from serving, so whatever the switch
   reports next cannot be mistaken for the agent leaving the customer;
2. the caller is taken out of the bridge and parked again, as freeswitch-conf's
   contract says: ``uuid_transfer <caller> <cti_did> XML public`` re-runs our inbound
   extension (which re-arms the 600 s safety net and parks). A call that came in on no
   DID of ours (a callback, a click-to-dial call) is parked with ``park inline``. The
   agent's leg, the peer of that bridge, hangs up; the agent goes to wrap-up;
3. on the caller's ``CHANNEL_PARK`` the agent's leg is hung up if it is still there,
   and the call joins the queue: music, announcements, offers to that queue's agents.
   When the queue keeps transferred callers' wait (``transfers_keep_wait``, the
   default) the call ranks by its first arrival in a queue; otherwise as a new
   arrival. Its timers (max wait, announcements) start now either way.

The park is waited for :data:`routing.recovery.SWITCH_WAIT` seconds; after that (or
after a resync) the call joins the queue anyway.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from cti.interaction import Interaction
from cti.tracker import UnknownInteraction
from esl import commands as cmd
from esl.client import ESLCommandError, ESLError
from routing.engine_api import EngineRequestError
from routing.recovery import SWITCH_WAIT
from routing.sessions import Phase, Session
from routing.site import CallerFacts

if TYPE_CHECKING:
    from routing.engine import RoutingEngine

log = logging.getLogger(__name__)

#: Where our inbound extension lives (freeswitch-conf/dialplan/public/cti_inbound.xml).
INBOUND_CONTEXT = "public"
_TALKING = ("connected", "on_hold")


class QueueTransfers:
    """See the module docstring; one per engine."""

    def __init__(self, engine: RoutingEngine) -> None:
        self.engine = engine
        self.transferred = 0

    def transfer(self, interaction_id: str, queue: str, from_agent: int) -> None:
        """Send the call ``from_agent`` is talking to back to waiting, in ``queue``.

        Runs in the caller's greenlet and never yields: the commands go out from the
        call's lane.

        Raises:
            EngineRequestError: the queue does not exist, the call is not one this
                agent is talking to, or its switch is unreachable (the message says
                what to do).
        """
        e = self.engine
        if queue not in e.site.rules:
            raise EngineRequestError(f"there is no queue {queue!r}; queues: {', '.join(sorted(e.site.rules))}")
        ix = self._talking(interaction_id, from_agent)
        assert ix.customer is not None and ix.serving_leg is not None
        node = ix.customer.node or ix.node or e.default_node()
        if not e.online(node):
            raise EngineRequestError("the switch of this call is not reachable right now; try again in a moment",
                                     "unavailable")
        s = self._session(ix, node)
        rules = e.site.rules[queue]
        base = rules.priority if s.waiting is None or s.waiting.priority is None else s.waiting.priority
        if not e.command(e.core.state.queue_entered, ix.id, queue, base + s.priority_boost, now=e.clock.now()):
            raise EngineRequestError(f"call {interaction_id} cannot enter queue {queue} now; try again", "refused")
        if s.first_queued_at is None:
            s.first_queued_at = ix.queue_entered_at or ix.started_at
        s.move("transfer")
        s.queue, s.waiting, s.transfer_leg = queue, None, ix.serving_leg
        s.parked, s.music, s.media = False, False, ""
        s.deadline = e.bound(SWITCH_WAIT)
        self.transferred += 1
        s.lane.api(self._park_command(s, ix), on_error=lambda exc: self._not_moved(s, exc))
        log.info("routing: call transferred to a queue", extra={"call": ix.id, "queue": queue, "agent": from_agent})

    def _talking(self, interaction_id: str, agent_id: int) -> Interaction:
        try:
            ix = self.engine.core.state.interaction(interaction_id)
        except UnknownInteraction:
            raise EngineRequestError(f"call {interaction_id} is over; there is nothing to transfer", "refused") from None
        serving = ix.legs.get(ix.serving_leg) if ix.serving_leg else None
        if ix.state.value not in _TALKING or serving is None or ix.customer is None or not ix.customer.up:
            raise EngineRequestError(f"call {interaction_id} is {ix.state.value}: only a call you are talking to "
                                     "(or holding) can be transferred to a queue", "refused")
        if serving.agent_id != agent_id:
            raise EngineRequestError(f"call {interaction_id} is not yours to transfer (agent {serving.agent_id} has it)",
                                     "refused")
        return ix

    def _session(self, ix: Interaction, node: str) -> Session:
        """The engine's session of the call; one made now for a call it did not route
        (a callback, a click-to-dial or campaign call)."""
        e = self.engine
        s = e.sessions.get(ix.id)
        if s is not None and s.phase is Phase.BRIDGING:
            e.queues.check_bridge(s)  # the live state saw the bridge first
        if s is not None and s.phase is Phase.CONNECTED:
            return s
        if s is not None:
            raise EngineRequestError(f"call {ix.id} is still being connected; try again in a moment", "refused")
        customer = ix.customer
        assert customer is not None
        number = ix.caller_number if ix.direction.value == "inbound" else ix.callee_number
        s = Session(ix.id, customer.uuid, node, e.commands.lane(node), caller_number=number,
                    caller_name=ix.caller_name, did=ix.did, phase=Phase.CONNECTED, parked=True, facts=CallerFacts())
        e.sessions[ix.id] = s
        e.by_leg[s.leg] = s
        return s

    def _park_command(self, s: Session, ix: Interaction) -> str:
        if ix.direction.value == "inbound" and ix.did:
            return cmd.uuid_transfer(s.leg, ix.did, context=INBOUND_CONTEXT)
        return cmd.uuid_transfer_inline(s.leg, [cmd.park()])

    def _not_moved(self, s: Session, error: ESLError) -> None:
        """The switch refused the move: a caller gone is seen by the hangup; otherwise
        the park bound decides."""
        if not isinstance(error, ESLCommandError):
            log.error("routing: transfer to a queue not sent; the call joins the queue when its bound passes",
                      extra={"call": s.iid, "error": str(error)})

    # -- the caller parked again ------------------------------------------------------------

    def on_parked(self, s: Session) -> None:
        """``CHANNEL_PARK`` of a caller on the way back to a queue."""
        s.parked = True
        self._join(s)

    def check(self, s: Session) -> None:
        """After a resync: a park that may have been lost."""
        if s.phase is Phase.TRANSFERRING:
            self._join(s)

    def park_overdue(self, s: Session) -> None:
        """The park never showed: the caller is assumed parked (if they are still
        bridged, the next agent's bridge moves them)."""
        self.check(s)

    def _join(self, s: Session) -> None:
        e = self.engine
        s.parked = True
        s.deadline = float("inf")
        if s.transfer_leg:
            e.cancel_leg(s.node, s.transfer_leg, "NORMAL_CLEARING")
            s.transfer_leg = ""
        rules = e.site.rules.get(s.queue)
        if rules is None:  # removed from the site meanwhile
            log.error("routing: transferred call's queue is gone; hanging up", extra={"call": s.iid, "queue": s.queue})
            e.ivr.hang_up(s, "NORMAL_CLEARING")
            return
        arrived = s.first_queued_at if rules.transfers_keep_wait else None
        e.queues.join(s, s.queue, boost=s.priority_boost, language=s.language, arrived_at=arrived)
