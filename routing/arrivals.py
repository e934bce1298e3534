"""Taking calls: a managed inbound call from ``call.created`` to its IVR, and the
events of the caller's leg until it leaves.

A call becomes a :class:`~routing.sessions.Session` when the live state publishes
``call.created`` for it (our dialplan marked it ``cti_managed``). At once: our channel
variables on the leg (``uuid_setvar cti_interaction_id`` / ``cti_role``, what a
restarted middleware adopts calls by) and the directory lookups in a greenlet of
their own (customer, shortcut, last agent). The IVR starts as soon as the caller is
parked (``CHANNEL_PARK``) -- unless its flow can take another course with what the
directory says (shortcuts, a condition on known customers, a queue that keeps callers
for their last agent: :func:`routing.flows.needs_caller_facts`); then it also waits
for the lookups, at most :data:`LOOKUP_TIMEOUT` seconds, and goes on without them
rather than keep a caller waiting on a busy database. (The lookups run while the call
parks, but the call is only ours from the park on: the wait comes after it.) A
number no flow answers goes to the dialplan's fallback.

A call whose ``CHANNEL_PARK`` never comes (adopted after a middleware restart, or lost
in a reconnection) is checked after a moment: the ``cti_queue`` variable a previous run
set puts the caller back in that queue, otherwise the flow starts over.

The caller's leg events: ``CHANNEL_EXECUTE_COMPLETE`` of an application we wait for
(matched by ``Application-UUID``) goes to the IVR or the queue treatment, ``CHANNEL_PARK``
again means the music stopped (a bridge attempt ended), ``CHANNEL_BRIDGE`` means
connected, ``CHANNEL_HANGUP`` ends the session (and leaves the queue, cancels rings).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import gevent
import psycopg2

from cti.bus import DomainEvent
from cti.channel_facts import other_leg
from cti.db import DatabaseUnavailable
from cti.tracker import UnknownInteraction
from esl import commands as cmd
from esl.client import ESLError
from esl.events import Event
from esl.protocol import CommandArgumentError
from routing.flows import needs_caller_facts
from routing.sessions import Phase, Session
from routing.site import CallerFacts

if TYPE_CHECKING:
    from routing.engine import RoutingEngine

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT = 0.25       # directory lookups a flow needing them waits for (then it starts without)
RECOVERY_WAIT = 3.0         # a call seen without its CHANNEL_PARK (lost in a reconnection, or a restart)
REQUESTS_TTL = 300.0        # quick-menu request counts are re-read this often
FALLBACK = ("cti_fallback_park_timeout", "cti")  # where a call no flow answers goes


class Arrivals:
    """See the module docstring; one per engine."""

    def __init__(self, engine: RoutingEngine) -> None:
        self.engine = engine

    def on_created(self, event: DomainEvent) -> None:
        if event.data.get("direction") == "inbound" and event.interaction_id:
            self.adopt(event.interaction_id)

    def adopt(self, iid: str) -> Session | None:
        """Take a managed inbound call: a session, our variables on its leg, and the
        directory lookups (in a greenlet) while it gets answered and parked."""
        if iid in self.engine.sessions:
            return None
        try:
            ix = self.engine.core.state.interaction(iid)
        except UnknownInteraction:
            return None
        customer = ix.customer
        if customer is None or not customer.up:
            return None
        node = customer.node or ix.node or self.engine.default_node()
        s = Session(iid, customer.uuid, node, self.engine.commands.lane(node), caller_number=ix.caller_number,
                    caller_name=ix.caller_name, did=ix.did)
        self.engine.sessions[iid] = s
        self.engine.by_leg[s.leg] = s
        self.engine.stats.calls += 1
        s.lane.api(cmd.uuid_setvar(s.leg, "cti_interaction_id", iid))
        s.lane.api(cmd.uuid_setvar(s.leg, "cti_role", "customer"))
        gevent.spawn(self._look_up, s)
        gevent.spawn_later(self.engine.clock.real(RECOVERY_WAIT), self.engine.post, self.check_parked, s)
        return s

    def adopt_live_calls(self) -> None:
        """Calls the core already knew before the engine subscribed (a restart)."""
        for record in self.engine.core.state.live_calls():
            if record.get("direction") == "inbound" and record.get("state") == "ivr":
                self.adopt(str(record["id"]))

    def on_caller_event(self, s: Session, event: Event) -> None:
        name = event.name
        if name == "CHANNEL_EXECUTE_COMPLETE":
            app_uuid = event.get("Application-UUID")
            pending = s.pending.pop(app_uuid, None)
            if pending is None:
                return
            if pending.kind == "ivr":
                self.engine.ivr.on_complete(s, pending, event)
            else:
                self.engine.queues.on_complete(s, pending, app_uuid, event)
        elif name == "CHANNEL_PARK":
            self._parked(s)
        elif name == "CHANNEL_BRIDGE":
            self.engine.queues.on_bridged(s, other_leg(event))
        elif name == "CHANNEL_HANGUP":
            self.caller_gone(s, event.timestamp or self.engine.clock.now())

    def _parked(self, s: Session) -> None:
        if s.phase is Phase.ARRIVING:
            s.parked = True
            self.maybe_start(s)
        elif s.phase is Phase.TRANSFERRING:
            self.engine.transfers.on_parked(s)
        elif s.waiting_for_agent:
            self.engine.queues.on_reparked(s)

    def caller_gone(self, s: Session, at: float) -> None:
        s.gone = True
        if s.phase is Phase.IVR:
            self.engine.ivr.on_hangup(s, at)
        elif s.phase in (Phase.QUEUED, Phase.RINGING, Phase.BRIDGING):
            self.engine.queues.on_caller_gone(s)
        elif s.phase is Phase.TRANSFERRING and s.transfer_leg:
            self.engine.cancel_leg(s.node, s.transfer_leg, "NORMAL_CLEARING")
        self.engine.end_session(s)

    # -- starting a call ----------------------------------------------------------------

    def _look_up(self, s: Session) -> None:
        """Greenlet: the caller's directory facts. The query is never interrupted (a
        psycopg2 query cut short would leave its connection unusable); the IVR's wait
        for it is what is bounded (:meth:`maybe_start`)."""
        facts = CallerFacts()
        flow = self.engine.site.flow_for_did(s.did)
        try:
            facts = self.engine.loader.caller_facts(s.caller_number, flow.name if flow else "")
            if flow is not None and flow.shortcuts is not None and flow.shortcuts.quick_menu is not None:
                fetched, _ = self.engine.requests.get(flow.name, (0.0, {}))
                if time.monotonic() - fetched > REQUESTS_TTL:
                    self.engine.requests[flow.name] = (time.monotonic(), self.engine.loader.service_requests(flow.name))
        except (DatabaseUnavailable, psycopg2.Error) as exc:
            log.warning("routing: caller lookups failed; the call goes on without them",
                        extra={"call": s.iid, "error": str(exc)})
        self.engine.post(self._looked_up, s, facts)

    def _looked_up(self, s: Session, facts: CallerFacts) -> None:
        if s.facts is None:
            s.facts = facts
            self.maybe_start(s)

    def _lookups_late(self, s: Session) -> None:
        if s.facts is None:
            self.engine.stats.lookups_late += 1
            log.info("routing: caller lookups late; the IVR starts without them", extra={"call": s.iid})
            s.facts = CallerFacts()
            self.maybe_start(s)

    def maybe_start(self, s: Session) -> None:
        if s.phase is not Phase.ARRIVING or not s.parked:
            return
        site = self.engine.site
        flow = site.flow_for_did(s.did)
        if s.facts is None and flow is not None:
            sticky = {name for name, rules in site.rules.items() if rules.sticky is not None}
            if needs_caller_facts(flow, sticky):
                gevent.spawn_later(LOOKUP_TIMEOUT, self.engine.post, self._lookups_late, s)
                return
        if flow is None:
            self.engine.stats.unrouted += 1
            log.error("routing: no flow answers this number; caller sent to the fallback",
                      extra={"call": s.iid, "did": s.did})
            s.lane.api(cmd.uuid_transfer(s.leg, FALLBACK[0], context=FALLBACK[1]))
            self.engine.end_session(s)
            return
        self.engine.ivr.start(s, flow)

    def check_parked(self, s: Session) -> None:
        """No CHANNEL_PARK seen: a call adopted after a restart is parked already.
        A caller the previous run had put in a queue goes back there."""
        if s.phase is not Phase.ARRIVING or s.parked or s.gone:
            return
        gevent.spawn(self._ask_queue, s)

    def _ask_queue(self, s: Session) -> None:
        try:
            queue = self.engine.core.switches[s.node].api(cmd.uuid_getvar(s.leg, "cti_queue")).strip()
        except (ESLError, CommandArgumentError):
            queue = ""
        self.engine.post(self._recover, s, "" if queue == "_undef_" else queue)

    def _recover(self, s: Session, queue: str) -> None:
        if s.phase is not Phase.ARRIVING or s.gone:
            return
        self.engine.stats.recoveries += 1
        s.parked = True
        if s.facts is None:
            s.facts = CallerFacts()
        if queue not in self.engine.site.rules:
            self.maybe_start(s)
        elif self._queued_in(s, queue):  # the resync put it back there already
            self.engine.queues.join(s, queue)
        else:
            self.engine.queues.enqueue(s, queue)

    def _queued_in(self, s: Session, queue: str) -> bool:
        try:
            ix = self.engine.core.state.interaction(s.iid)
        except UnknownInteraction:
            return False
        return ix.state.value == "queued" and ix.queue == queue
