"""The smallest router that drives real calls through the core: one queue per call,
first come first served, the longest-idle available agent.

``cti simulate`` and the resilience tests use it when the routing engine
(routing/engine.py: IVR flows, skills, announcements ...) is not part of the services.
It sends exactly what the engine sends for a plain queue call, through the core's
switch links, so the core, the store and the client see a real call:

1. ``call.created`` of a managed inbound call: ``uuid_setvar`` the caller's
   ``cti_interaction_id``/``cti_role`` (what a restarted middleware adopts calls by),
   then ``queue_entered``;
2. an available agent: ``offer`` in the live state, then ``bgapi originate
   {origination_uuid=..,cti_*}user/<extension> &park()``. The job result arrives once
   the phone answered: ``+OK`` -> ``uuid_bridge <caller> <agent leg>``; ``-ERR ...`` ->
   ``originate_failed``. If the link drops before the result, the leg is cancelled
   once the link is back (the switch may or may not have it); if it drops around
   the bridge, the bridge is settled once the link is back (made, tried again, or
   the agent's leg released);
3. ``call.offer_failed`` puts a call still waiting back at the head of the queue;
   ``call.abandoned`` cancels the ring of a caller who left.

Bus subscribers only record and wake the dispatch greenlet: the core publishes
synchronously, so doing work there would re-enter it.
"""

from __future__ import annotations

import logging
import time
import uuid as uuidlib
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

import gevent
import gevent.event

from cti.bus import DomainEvent
from cti.call_states import CallState
from cti.core import COMMAND_REFUSALS, LiveCore
from cti.tracker import UnknownInteraction
from esl import commands as cmd
from esl.client import ESLCommandError, ESLError, ESLNotConnected

log = logging.getLogger(__name__)

_MARK_ATTEMPTS = 3
_RECONNECT_WAIT = 60.0
#: States in which the customer is with an agent (a bridge already made).
_TALKING = frozenset({CallState.CONNECTED, CallState.ON_HOLD, CallState.CONSULTING})


@dataclass
class RouterStats:
    queued: int = 0
    offers: int = 0
    bridged: int = 0
    originate_failed: int = 0
    cancelled: int = 0
    errors: int = 0


class DirectRouter:
    """See the module docstring.

    Args:
        core: the live core (its state, bus and switch links).
        queue_for: the queue of a new call, from its DID.
        ring_timeout: seconds an agent's phone rings (``originate_timeout``).
        clock: the time commands are stamped with (the switch's, for a simulation
            running faster than real time).
    """

    def __init__(self, core: LiveCore, *, queue_for: Callable[[str], str], ring_timeout: int = 20,
                 clock: Callable[[], float] = time.time) -> None:
        self.core = core
        self.queue_for = queue_for
        self.ring_timeout = ring_timeout
        self.clock = clock
        self.stats = RouterStats()
        self._waiting: deque[str] = deque()
        self._idle: OrderedDict[int, None] = OrderedDict()   # longest idle first
        self._ringing: dict[str, str] = {}                    # agent leg -> interaction
        self._kick = gevent.event.Event()
        self._greenlets: list[gevent.Greenlet] = []
        self._dispatcher: gevent.Greenlet | None = None
        # Bound once: EventBus.unsubscribe compares subscribers by identity.
        self._subscriptions: tuple[tuple[str, Callable[[DomainEvent], None]], ...] = (
            ("call.created", self._on_created), ("agent.state_changed", self._on_agent),
            ("call.offer_failed", self._on_offer_failed), ("call.abandoned", self._on_abandoned),
        )

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        for agent in self.core.state.agents():
            if agent["state"] == "available":
                self._idle[agent["id"]] = None
        for pattern, subscriber in self._subscriptions:
            self.core.bus.subscribe(pattern, subscriber)
        self._dispatcher = gevent.spawn(self._dispatch_loop)

    def stop(self) -> None:
        for _, subscriber in self._subscriptions:
            self.core.bus.unsubscribe(subscriber)
        gevent.killall([g for g in (self._dispatcher, *self._greenlets) if g is not None], block=True, timeout=5)
        self._dispatcher = None
        self._greenlets.clear()

    def _spawn(self, fn: Callable[..., None], *args: object) -> None:
        self._greenlets = [g for g in self._greenlets if not g.dead]
        self._greenlets.append(gevent.spawn(fn, *args))

    # -- bus subscribers (record and wake only) -----------------------------------------------

    def _on_created(self, event: DomainEvent) -> None:
        if event.interaction_id and event.data.get("direction") == "inbound":
            self._spawn(self._take, event.interaction_id, str(event.data.get("did") or ""), event.node or "")

    def _on_agent(self, event: DomainEvent) -> None:
        if event.agent_id is None:
            return
        if event.data.get("state") == "available":
            self._idle[event.agent_id] = None
            self._kick.set()
        else:
            self._idle.pop(event.agent_id, None)

    def _on_offer_failed(self, event: DomainEvent) -> None:
        leg = str(event.data.get("leg_uuid") or "")
        self._ringing.pop(leg, None)
        if event.interaction_id:
            self._waiting.appendleft(event.interaction_id)
            self._kick.set()

    def _on_abandoned(self, event: DomainEvent) -> None:
        for leg, iid in list(self._ringing.items()):
            if iid == event.interaction_id:
                self._spawn(self._cancel, iid, leg)

    # -- work (own greenlets) -----------------------------------------------------------------

    def _take(self, iid: str, did: str, node: str) -> None:
        """Mark the caller's leg as ours (``cti_queue`` too, so a restarted middleware
        puts it back in its queue), then queue the call. A call adopted by a resync
        that is already queued only joins the waiting line."""
        if self._still_waiting(iid):
            self._waiting.append(iid)
            self._kick.set()
            return
        queue = self.queue_for(did)
        try:
            self._mark(node, iid, queue)
            self.core.command(self.core.state.queue_entered, iid, queue, now=self.clock())
        except (ESLError, *COMMAND_REFUSALS) as exc:
            self.stats.errors += 1
            log.warning("call not queued", extra={"call": iid, "why": str(exc)})
            return
        self.stats.queued += 1
        self._waiting.append(iid)
        self._kick.set()

    def _mark(self, node: str, iid: str, queue: str) -> None:
        """``uuid_setvar`` our variables on the caller's leg; a link that drops meanwhile
        is waited for (the call is still there, parked) and the marking retried."""
        for attempt in range(_MARK_ATTEMPTS):
            try:
                for name, value in (("cti_interaction_id", iid), ("cti_role", "customer"), ("cti_queue", queue)):
                    self.core.switches.api(node, cmd.uuid_setvar(iid, name, value))
                return
            except ESLNotConnected:
                if attempt + 1 == _MARK_ATTEMPTS or not self.core.switches[node].wait_connected(_RECONNECT_WAIT):
                    raise

    def _dispatch_loop(self) -> None:
        while True:
            self._kick.wait()
            self._kick.clear()
            while self._waiting and self._idle:
                iid = self._waiting.popleft()
                if not self._still_waiting(iid):
                    continue
                agent_id, _ = self._idle.popitem(last=False)
                self._offer(iid, agent_id)

    def _still_waiting(self, iid: str) -> bool:
        try:
            return self.core.state.interaction(iid).state is CallState.QUEUED
        except UnknownInteraction:
            return False

    def _offer(self, iid: str, agent_id: int) -> None:
        ix = self.core.state.interaction(iid)
        agent = self.core.state.agent(agent_id)
        leg = str(uuidlib.uuid4())
        try:
            self.core.command(self.core.state.offer, iid, agent_id, leg, now=self.clock(), queue=ix.queue)
        except COMMAND_REFUSALS as exc:
            log.info("offer refused; call stays queued", extra={"call": iid, "agent": agent_id, "why": str(exc)})
            self._waiting.appendleft(iid)
            return
        self.stats.offers += 1
        self._ringing[leg] = iid
        variables = {"cti_interaction_id": iid, "cti_role": "agent", "cti_agent_id": str(agent_id),
                     "cti_queue": ix.queue, "ignore_early_media": "true",
                     "origination_caller_id_number": ix.caller_number or "0000000000"}
        command = cmd.originate(cmd.user(agent.extension), uuid=leg, variables=variables, app=cmd.park(),
                                timeout=self.ring_timeout)
        self._spawn(self._ring, ix.node, iid, leg, command)

    def _ring(self, node: str, iid: str, leg: str, command: str) -> None:
        try:
            self.core.switches.bgapi(node, command, timeout=self.ring_timeout + 10)
        except ESLNotConnected:
            self._cancel_after_reconnect(node, iid, leg)
            return
        except ESLCommandError as exc:
            self.stats.originate_failed += 1
            self._ringing.pop(leg, None)
            self._command_quietly(self.core.state.originate_failed, leg, exc.reply.strip() or "-ERR FAILED")
            return
        except ESLError as exc:   # no job result in time
            log.warning("originate result missing; cancelling the ring", extra={"call": iid, "leg": leg,
                                                                              "why": str(exc)})
            self._cancel(iid, leg)
            return
        self._ringing.pop(leg, None)
        self._bridge(node, iid, leg, retry_after_reconnect=True)

    def _bridge(self, node: str, iid: str, leg: str, *, retry_after_reconnect: bool) -> None:
        """``uuid_bridge`` the caller and the agent's answered leg; if the caller left
        meanwhile, the agent's leg is released -- never left parked on a phone nobody
        will hang up. A link lost around the command is settled once it is back."""
        try:
            self.core.switches.api(node, cmd.uuid_bridge(iid, leg))
            self.stats.bridged += 1
        except ESLNotConnected as exc:
            if not retry_after_reconnect:
                raise
            log.info("link lost around the bridge; settling it once back",
                     extra={"call": iid, "leg": leg, "why": str(exc)})
            self._settle_bridge_after_reconnect(node, iid, leg)
        except ESLError as exc:   # the caller left while the agent answered
            log.info("bridge failed; releasing the agent leg", extra={"call": iid, "leg": leg, "why": str(exc)})
            self._hang_up(node, leg)

    def _settle_bridge_after_reconnect(self, node: str, iid: str, leg: str) -> None:
        """The switch may or may not have made the bridge, and its events of that time
        are lost: once it is back, a call the resync shows connected is left alone,
        otherwise the bridge is tried again."""
        if not self.core.switches[node].wait_connected(_RECONNECT_WAIT):
            log.warning("switch not back; agent leg left to the switch", extra={"call": iid, "leg": leg})
            return
        try:
            if self.core.state.interaction(iid).state in _TALKING:
                self.stats.bridged += 1
                return
        except UnknownInteraction:
            pass
        try:
            self._bridge(node, iid, leg, retry_after_reconnect=False)
        except ESLNotConnected as exc:
            log.warning("link lost again; agent leg left to the switch",
                        extra={"call": iid, "leg": leg, "why": str(exc)})

    def _cancel_after_reconnect(self, node: str, iid: str, leg: str) -> None:
        client = self.core.switches[node]
        if client.wait_connected(_RECONNECT_WAIT):
            self._cancel(iid, leg)

    def _cancel(self, iid: str, leg: str) -> None:
        """Stop ringing ``leg``; if the switch has no such channel, the offer failed."""
        self.stats.cancelled += 1
        node = self._node_of(iid)
        try:
            self.core.switches.api(node, cmd.uuid_kill(leg, "ORIGINATOR_CANCEL"))
        except ESLCommandError:
            self._ringing.pop(leg, None)
            self._command_quietly(self.core.state.originate_failed, leg, "-ERR ORIGINATOR_CANCEL")
        except ESLError as exc:
            log.warning("ring not cancelled", extra={"call": iid, "leg": leg, "why": str(exc)})

    def _hang_up(self, node: str, leg: str) -> None:
        try:
            self.core.switches.api(node, cmd.uuid_kill(leg, "NORMAL_CLEARING"))
        except ESLError as exc:
            log.info("agent leg already gone", extra={"leg": leg, "why": str(exc)})

    def _node_of(self, iid: str) -> str:
        try:
            return self.core.state.interaction(iid).node or self.core.switches.names[0]
        except UnknownInteraction:
            return self.core.switches.names[0]

    def _command_quietly(self, method: Callable[..., list[DomainEvent]], *args: object) -> None:
        try:
            self.core.command(method, *args, now=self.clock())
        except COMMAND_REFUSALS as exc:
            log.info("router command refused", extra={"why": str(exc)})


__all__ = ["DirectRouter", "RouterStats"]
