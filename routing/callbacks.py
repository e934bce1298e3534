"""Callbacks: a kept place or a scheduled call back, dialled when an agent is free.

Where they come from and when they are due: :mod:`routing.callback_schedule`. A
callback enters the router (same id as the call that asked, its place kept,
``callback_number`` set) only once it is due, never before: the caller who pressed the
callback key at once, the desktop's scheduled ones from the time the customer asked.
A greenlet checks the table every :data:`~routing.callback_schedule.CHECK_SECONDS`
(sooner when the next one is due sooner), so callbacks scheduled while the engine runs
are picked up too. When the router assigns one:

1. ``dial`` in the live state creates the outbound interaction of this attempt (its
   customer leg not placed yet);
2. ``offer`` + ``originate`` of the agent leg, exactly like a waiting call (a RONA puts
   the entry back in its place and tries the next agent);
3. the agent's leg parks (answered): ``originate`` of the customer through the carrier
   gateway (``sofia/gateway/<CTI_GATEWAY>/<number>``), caller id the number the
   customer had dialled -- one attempt;
4. the customer's leg parks (answered): ``uuid_bridge`` customer and agent.

An attempt that does not reach the customer hangs the agent's leg up and schedules
the next attempt (:func:`~routing.callback_schedule.retry_at`), or marks the callback
``failed`` after the last. Every change of status is written to ``callbacks`` as a
durable record (:mod:`routing.persistence`).
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections import OrderedDict
from functools import partial
from typing import TYPE_CHECKING, Any

import gevent
import gevent.event
import psycopg2

from cti import channel_vars as cv
from cti.db import DatabaseUnavailable
from cti.tracker import UnknownInteraction
from esl import commands as cmd
from esl.client import ESLCommandError, ESLError
from esl.protocol import CommandArgumentError
from routing.callback_schedule import CHECK_SECONDS, CallbackCall, due_rows, from_row, retry_at
from routing.decisions import Announce, Assignment, Overflow
from routing.errors import RouterStateError
from routing.offers import JOB_GRACE, clean_text
from routing.sessions import Session
from routing.waiting import WaitingCall

if TYPE_CHECKING:
    from routing.engine import RoutingEngine

log = logging.getLogger(__name__)

_NAMESPACE = uuidlib.UUID("3f0b9e2c-5d1e-4a8f-9c61-2b7d4e8a1c05")
#: Seconds the customer's phone rings before the attempt counts as failed.
CUSTOMER_RING = 45
#: Callbacks this run finished (or will retry itself) that a stale read must not revive.
_SETTLED_KEPT = 10_000

__all__ = ["CallbackCall", "CallbackDialer"]


class CallbackDialer:
    """See the module docstring."""

    def __init__(self, engine: RoutingEngine, gateway: str) -> None:
        self.engine = engine
        self.gateway = gateway
        self.calls: dict[str, CallbackCall] = {}            # in the router or dialling, by router call id
        self.later: dict[str, CallbackCall] = {}            # another attempt scheduled, by callback id
        self.by_interaction: dict[str, CallbackCall] = {}   # the outbound interaction of an attempt
        self.by_customer_leg: dict[str, CallbackCall] = {}
        self.settled: OrderedDict[str, None] = OrderedDict()
        self._greenlet: gevent.Greenlet | None = None
        self._wake = gevent.event.Event()

    # -- the place kept -----------------------------------------------------------------

    def accept(self, s: Session) -> None:
        """The waiting caller pressed the key: keep the place, hang the caller up."""
        e = self.engine
        now = e.clock.now()
        assert s.waiting is not None
        try:
            e.router.on_callback_accepted(s.iid, s.caller_number, now)
        except RouterStateError as exc:
            log.info("routing: callback not kept", extra={"call": s.iid, "why": str(exc)})
            e.queues.music_on(s)
            return
        rules = e.site.rules.get(s.queue)
        base = (rules.priority if rules else 0) if s.waiting.priority is None else s.waiting.priority
        call = CallbackCall(
            id=str(uuidlib.uuid5(_NAMESPACE, s.iid)), call_id=s.iid, queue=s.queue, number=s.caller_number,
            did=s.did, node_name=s.node, requested_at=now, enqueued_at=s.waiting.enqueued_at, due_at=now,
            priority=base + s.waiting.priority_boost, language=s.waiting.language,
        )
        self.calls[s.iid] = call
        self._save(call)
        e.stats.callbacks += 1
        e.command(e.core.state.queue_left, s.iid, "callback", now=now)
        s.move("callback")
        e.ivr.hang_up(s, "NORMAL_CLEARING")
        log.info("routing: callback kept", extra={"call": s.iid, "queue": s.queue})

    # -- coming due -----------------------------------------------------------------------

    def start(self) -> None:
        self._greenlet = gevent.spawn(self._check_loop)

    def stop(self) -> None:
        if self._greenlet is not None:
            self._greenlet.kill()
            self._greenlet = None

    def wake(self) -> None:
        """Check for due callbacks now (any greenlet)."""
        self._wake.set()

    def _known(self) -> set[str]:
        return {c.id for c in self.calls.values()} | set(self.later) | set(self.settled)

    def _check_loop(self) -> None:
        """Greenlet: read the callbacks that came due, hand them to the engine's worker,
        sleep until the next one is due (at most :data:`CHECK_SECONDS`)."""
        e = self.engine
        first = True
        while True:
            wait = CHECK_SECONDS
            try:
                now = e.clock.now()
                rows, upcoming = due_rows(e.db, now, self._known(), first=first)
                first = False
                e.post(self._came_due, rows)
                if upcoming is not None:
                    wait = min(wait, e.clock.real(upcoming - now) + 0.05)
            except (DatabaseUnavailable, psycopg2.Error) as exc:
                log.warning("routing: callback check failed; will retry", extra={"error": str(exc)})
            wait = min(wait, self._next_retry())
            self._wake.wait(max(0.05, wait))
            self._wake.clear()

    def _next_retry(self) -> float:
        if not self.later:
            return CHECK_SECONDS
        e = self.engine
        return e.clock.real(min(c.due for c in self.later.values()) - e.clock.now()) + 0.05

    def _came_due(self, rows: list[dict[str, Any]]) -> None:
        """Worker: due rows (read a moment ago) and due retries of this run join the router."""
        e = self.engine
        now = e.clock.now()
        known = self._known()
        for row in rows:
            if str(row["id"]) in known:
                continue
            call = from_row(row, e.default_node())
            if row["status"] == "dialing":  # the middleware stopped during an attempt
                call.status = "waiting"
                if retry_at(call.attempts, now) is None:
                    self._give_up(call, "its last attempt was cut short by a restart")
                    continue
            self._queue(call)
        for call in [c for c in self.later.values() if c.due <= now]:
            del self.later[call.id]
            self._queue(call)

    def _queue(self, call: CallbackCall) -> None:
        e = self.engine
        if call.queue not in e.site.rules:
            call.status = "cancelled"
            self._settle(call)
            return
        self.calls[call.call_id] = call
        waiting = WaitingCall(call.call_id, call.queue, call.enqueued_at, priority=call.priority,
                              language=call.language, callback_number=call.number)
        try:
            decision = e.router.on_call_queued(waiting, e.clock.now())
        except RouterStateError as exc:
            self.calls.pop(call.call_id, None)
            log.warning("routing: callback not queued", extra={"call": call.call_id, "why": str(exc)})
            return
        e.kick()
        if decision is not None:
            e.queues.execute([decision])

    def overflowed(self, d: Overflow) -> None:
        """A callback cannot overflow anywhere (nobody is on the line): it is cancelled."""
        call = self.calls.pop(d.call_id, None)
        if call is not None:
            call.status = "cancelled"
            self._settle(call)

    # -- dialling -----------------------------------------------------------------------

    def assign(self, a: Assignment) -> None:
        e = self.engine
        call = self.calls.get(a.call_id)
        if call is None:
            log.warning("routing: callback assignment for an unknown callback", extra={"call": a.call_id})
            e.queues.execute(e.router.on_call_left(a.call_id))
            return
        now = e.clock.now()
        if not e.online(call.node_name):
            e.offers.ring(call, a)  # holds the agents back until the link is back
            return
        if not call.interaction_id:
            call.interaction_id, call.customer_leg = str(uuidlib.uuid4()), str(uuidlib.uuid4())
            call.lane = e.commands.lane(call.node_name)
            if not e.command(e.core.state.dial, call.interaction_id, call.customer_leg, call.number, now=now,
                             node=call.node_name, caller_number=call.did, queue=call.queue):
                e.queues.execute(e.router.on_call_left(a.call_id))
                for agent_id in a.agent_ids:
                    e.agents.sync(agent_id)
                self._attempt_failed(call, "the live state refused the callback")
                return
            self.by_interaction[call.interaction_id] = call
            self.by_customer_leg[call.customer_leg] = call
        call.status = "dialing"
        self._save(call)
        e.offers.ring(call, a)

    def on_agent_parked(self, call: CallbackCall, leg: str) -> None:
        e = self.engine
        agent_id = call.offers.pop(leg, None)
        e.agent_legs.pop(leg, None)
        if agent_id is None or call.agent_leg:
            e.cancel_leg(call.node_name, leg, "NORMAL_CLEARING")
            return
        now = e.clock.now()
        decisions = e.router.on_offer_answered(call.call_id, agent_id, now)
        e.queues.execute(d for d in decisions if not isinstance(d, Announce))
        call.agent_leg, call.agent_id = leg, agent_id
        call.attempts, call.last_attempt_at = call.attempts + 1, now
        self._save(call)
        variables = {
            cv.INTERACTION_ID: call.interaction_id, cv.ROLE: "customer", cv.QUEUE: call.queue,
            "ignore_early_media": "true",
        }
        caller_id = clean_text(call.did)
        if caller_id:
            variables["origination_caller_id_number"] = caller_id
        try:
            command = cmd.originate(cmd.gateway(self.gateway, call.number), uuid=call.customer_leg,
                                    variables=variables, app=cmd.park(), timeout=CUSTOMER_RING)
        except CommandArgumentError as exc:
            self._give_up(call, str(exc))
            return
        e.commands.originate(call.node_name, command, timeout=e.clock.real(CUSTOMER_RING) + JOB_GRACE,
                             on_result=partial(self._customer_result, call, call.interaction_id))

    def _customer_result(self, call: CallbackCall, attempt: str, body: str | None, error: ESLError | None) -> None:
        if error is None or call.interaction_id != attempt:
            return
        e = self.engine
        reason = error.reply if isinstance(error, ESLCommandError) else "-ERR NORMAL_TEMPORARY_FAILURE"
        e.command(e.core.state.originate_failed, call.customer_leg, reason, now=e.clock.now())
        self._attempt_failed(call, reason.strip())

    def on_customer_parked(self, call: CallbackCall) -> None:
        if call.agent_leg and call.lane is not None:
            call.lane.api(cmd.uuid_bridge(call.customer_leg, call.agent_leg),
                          on_error=lambda exc: self._attempt_failed(call, str(exc)))

    def on_customer_bridged(self, call: CallbackCall) -> None:
        if call.status != "connected":
            call.status = "connected"
            self._save(call)
            self.engine.record_call(call.interaction_id, queue=call.queue)

    def on_customer_gone(self, call: CallbackCall) -> None:
        if call.status == "dialing":
            self._attempt_failed(call, "the customer did not answer")

    def on_ended(self, interaction_id: str) -> None:
        """The outbound interaction of an attempt ended."""
        call = self.by_interaction.pop(interaction_id, None)
        if call is None or call.interaction_id != interaction_id:
            return
        self.by_customer_leg.pop(call.customer_leg, None)
        if call.status == "connected":
            self.calls.pop(call.call_id, None)
            call.status = "done"
            self._settle(call)
        elif call.status == "dialing":
            self._attempt_failed(call, "the call ended before the customer was connected")

    def after_resync(self, node: str) -> None:
        """Customers whose answer (or bridge) was lost with the link: bridged (or taken
        as connected) now; a customer leg that vanished fails the attempt."""
        state = self.engine.core.state
        for call in [c for c in self.calls.values() if c.node_name == node and c.status == "dialing" and c.agent_leg]:
            try:
                ix = state.interaction(call.interaction_id)
            except UnknownInteraction:
                self._attempt_failed(call, "the call was over when the switch came back")
                continue
            customer = ix.legs.get(call.customer_leg)
            if ix.bridged and ix.serving_leg == call.agent_leg:
                self.on_customer_bridged(call)
            elif customer is not None and customer.up and customer.answered_at is not None:
                self.on_customer_parked(call)
            elif customer is not None and not customer.up:
                self._attempt_failed(call, "the customer did not answer")

    # -- the end of an attempt ---------------------------------------------------------

    def _attempt_failed(self, call: CallbackCall, why: str) -> None:
        """This attempt did not reach the customer: hang the agent's leg up, then call
        again later or, after the last attempt, give up."""
        if call.status not in ("waiting", "dialing") or self.calls.get(call.call_id) is not call:
            return
        e = self.engine
        if call.agent_leg:
            e.cancel_leg(call.node_name, call.agent_leg, "NORMAL_CLEARING")
        self.calls.pop(call.call_id, None)
        self.by_interaction.pop(call.interaction_id, None)
        self.by_customer_leg.pop(call.customer_leg, None)
        again = retry_at(call.attempts, e.clock.now())
        if again is None:
            self._give_up(call, why)
            return
        call.status, call.due_at = "waiting", again
        call.interaction_id = call.customer_leg = call.agent_leg = ""
        call.agent_id, call.lane = None, None
        self.later[call.id] = call
        self._save(call)
        self._wake.set()
        log.info("routing: callback attempt failed; calling again later",
                 extra={"call": call.call_id, "why": why, "attempts": call.attempts})

    def _give_up(self, call: CallbackCall, why: str) -> None:
        self.calls.pop(call.call_id, None)
        if call.agent_leg:
            self.engine.cancel_leg(call.node_name, call.agent_leg, "NORMAL_CLEARING")
        call.status = "failed"
        self._settle(call)
        log.info("routing: callback failed", extra={"call": call.call_id, "why": why, "attempts": call.attempts})

    def _settle(self, call: CallbackCall) -> None:
        """A final status: written, and remembered so a stale read cannot bring it back."""
        self._save(call)
        self.settled[call.id] = None
        while len(self.settled) > _SETTLED_KEPT:
            self.settled.popitem(last=False)

    def _save(self, call: CallbackCall) -> None:
        self.engine.store.durable("callback", call.row())
