"""Callbacks: a caller who pressed the callback key keeps their place, and when it
comes up an agent is called first, then the customer.

The router keeps the waiting entry (same id, same place, ``callback_number`` set) once
the caller's leg is hung up. When it assigns the entry:

1. the first time, ``dial`` in the live state creates the outbound interaction the
   callback becomes (its customer leg not placed yet);
2. ``offer`` + ``originate`` of the agent leg, exactly like a waiting call (a RONA puts
   the entry back in its place and tries the next agent);
3. the agent's leg parks (answered): ``originate`` of the customer through the carrier
   gateway (``sofia/gateway/<CTI_GATEWAY>/<number>``), caller id the number the
   customer had dialled;
4. the customer's leg parks (answered): ``uuid_bridge`` customer and agent.

If the customer does not answer, the agent's leg is hung up and the callback is
``failed``; nobody is called twice without a person deciding so. Every change of
status is written to ``callbacks`` as a durable record (:mod:`routing.persistence`),
and waiting callbacks are put back in the router when the middleware starts.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from cti import channel_vars as cv
from cti.db import Database
from esl import commands as cmd
from esl.client import ESLCommandError, ESLError
from esl.protocol import CommandArgumentError
from routing.decisions import Announce, Assignment, Overflow
from routing.errors import RouterStateError
from routing.lanes import Lane
from routing.offers import JOB_GRACE, clean_text
from routing.sessions import Session
from routing.waiting import WaitingCall

if TYPE_CHECKING:
    from routing.engine import RoutingEngine

log = logging.getLogger(__name__)

_NAMESPACE = uuidlib.UUID("3f0b9e2c-5d1e-4a8f-9c61-2b7d4e8a1c05")
#: Seconds the customer's phone rings before the callback counts as failed.
CUSTOMER_RING = 45

CALLBACK_SQL = """
INSERT INTO callbacks (id, interaction_id, queue_name, number, requested_at, enqueued_at, priority, language,
                       status, attempts, last_attempt_at, agent_id, callback_interaction_id, updated_at)
VALUES (%(id)s, %(source)s, %(queue)s, %(number)s, to_timestamp(%(requested_at)s), to_timestamp(%(enqueued_at)s),
        %(priority)s, %(language)s, %(status)s, %(attempts)s, to_timestamp(%(last_attempt_at)s), %(agent_id)s,
        %(interaction_id)s, now())
ON CONFLICT (id) DO UPDATE SET
    status = EXCLUDED.status, attempts = EXCLUDED.attempts, last_attempt_at = EXCLUDED.last_attempt_at,
    agent_id = EXCLUDED.agent_id, callback_interaction_id = EXCLUDED.callback_interaction_id, updated_at = now()"""


@dataclass
class CallbackCall:
    """One kept place; ``call_id`` is the router's id (the inbound interaction that asked)."""

    id: str
    call_id: str
    queue: str
    number: str
    did: str
    node_name: str
    requested_at: float
    enqueued_at: float
    priority: int
    language: str
    status: str = "waiting"
    attempts: int = 0
    last_attempt_at: float | None = None
    interaction_id: str = ""
    customer_leg: str = ""
    agent_leg: str = ""
    agent_id: int | None = None
    offers: dict[str, int] = field(default_factory=dict)
    lane: Lane | None = None

    @property
    def iid(self) -> str:
        return self.interaction_id

    @property
    def node(self) -> str:
        return self.node_name

    @property
    def display_number(self) -> str:
        return self.number

    @property
    def display_name(self) -> str:
        return "callback"

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id, "source": self.call_id, "queue": self.queue, "number": self.number,
            "requested_at": self.requested_at, "enqueued_at": min(self.enqueued_at, self.requested_at),
            "priority": self.priority, "language": self.language, "status": self.status,
            "attempts": self.attempts, "last_attempt_at": self.last_attempt_at, "agent_id": self.agent_id,
            "interaction_id": self.interaction_id or None,
        }


def write_callbacks(cur: Any, records: list[dict[str, Any]]) -> None:
    """Durable writer: the latest status of each callback (records in order)."""
    for record in records:
        cur.execute(CALLBACK_SQL, record)


class CallbackDialer:
    """See the module docstring."""

    def __init__(self, engine: RoutingEngine, gateway: str) -> None:
        self.engine = engine
        self.gateway = gateway
        self.calls: dict[str, CallbackCall] = {}            # by router call id
        self.by_interaction: dict[str, CallbackCall] = {}   # the outbound interaction
        self.by_customer_leg: dict[str, CallbackCall] = {}

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
            did=s.did, node_name=s.node, requested_at=now, enqueued_at=s.waiting.enqueued_at,
            priority=base + s.waiting.priority_boost, language=s.waiting.language,
        )
        self.calls[s.iid] = call
        self._save(call)
        e.stats.callbacks += 1
        e.command(e.core.state.queue_left, s.iid, "callback", now=now)
        s.move("callback")
        e.ivr.hang_up(s, "NORMAL_CLEARING")
        log.info("routing: callback kept", extra={"call": s.iid, "queue": s.queue})

    def restore(self, db: Database) -> None:
        """Put the callbacks still waiting back in the router (middleware start)."""
        e = self.engine
        rows = db.fetchall(
            """SELECT id, interaction_id, queue_name, number, extract(epoch FROM requested_at) AS requested_at,
                      extract(epoch FROM enqueued_at) AS enqueued_at, priority, language, attempts
                 FROM callbacks WHERE status IN ('waiting', 'dialing') ORDER BY queue_name, enqueued_at"""
        )
        for row in rows:
            call = CallbackCall(
                id=str(row["id"]), call_id=str(row["interaction_id"]), queue=row["queue_name"], number=row["number"],
                did="", node_name=e.default_node(), requested_at=float(row["requested_at"]),
                enqueued_at=float(row["enqueued_at"]), priority=int(row["priority"]), language=row["language"],
                attempts=int(row["attempts"]),
            )
            if call.queue not in e.site.rules:
                call.status = "cancelled"
                self._save(call)
                continue
            self.calls[call.call_id] = call
            waiting = WaitingCall(call.call_id, call.queue, call.enqueued_at, priority=call.priority,
                                  language=call.language, callback_number=call.number)
            try:
                decision = e.router.on_call_queued(waiting, e.clock.now())
            except RouterStateError as exc:
                log.warning("routing: callback not restored", extra={"call": call.call_id, "why": str(exc)})
                continue
            if decision is not None:
                e.queues.execute([decision])

    def overflowed(self, d: Overflow) -> None:
        """A callback cannot overflow anywhere (nobody is on the line): it is cancelled."""
        call = self.calls.pop(d.call_id, None)
        if call is not None:
            call.status = "cancelled"
            self._save(call)

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
                self.calls.pop(a.call_id, None)
                self._fail(call, "the live state refused the callback")
                return
            self.by_interaction[call.interaction_id] = call
            self.by_customer_leg[call.customer_leg] = call
        call.status, call.attempts, call.last_attempt_at = "dialing", call.attempts + 1, now
        self._save(call)
        e.offers.ring(call, a)

    def on_agent_parked(self, call: CallbackCall, leg: str) -> None:
        e = self.engine
        agent_id = call.offers.pop(leg, None)
        e.agent_legs.pop(leg, None)
        if agent_id is None or call.agent_leg:
            e.cancel_leg(call.node_name, leg, "NORMAL_CLEARING")
            return
        decisions = e.router.on_offer_answered(call.call_id, agent_id, e.clock.now())
        e.queues.execute(d for d in decisions if not isinstance(d, Announce))
        call.agent_leg, call.agent_id = leg, agent_id
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
            self._fail(call, str(exc))
            return
        e.commands.originate(call.node_name, command, timeout=e.clock.real(CUSTOMER_RING) + JOB_GRACE,
                             on_result=partial(self._customer_result, call))

    def _customer_result(self, call: CallbackCall, body: str | None, error: ESLError | None) -> None:
        if error is None:
            return
        e = self.engine
        reason = error.reply if isinstance(error, ESLCommandError) else "-ERR NORMAL_TEMPORARY_FAILURE"
        e.command(e.core.state.originate_failed, call.customer_leg, reason, now=e.clock.now())
        self._fail(call, reason.strip())

    def on_customer_parked(self, call: CallbackCall) -> None:
        if call.agent_leg and call.lane is not None:
            call.lane.api(cmd.uuid_bridge(call.customer_leg, call.agent_leg),
                          on_error=lambda exc: self._fail(call, str(exc)))

    def on_customer_bridged(self, call: CallbackCall) -> None:
        if call.status != "connected":
            call.status = "connected"
            self._save(call)
            self.engine.record_call(call.interaction_id, queue=call.queue)

    def on_customer_gone(self, call: CallbackCall) -> None:
        if call.status == "dialing":
            self._fail(call, "the customer did not answer")

    def on_ended(self, interaction_id: str) -> None:
        call = self.by_interaction.pop(interaction_id, None)
        if call is None:
            return
        self.calls.pop(call.call_id, None)
        self.by_customer_leg.pop(call.customer_leg, None)
        if call.status == "connected":
            call.status = "done"
            self._save(call)

    def _fail(self, call: CallbackCall, why: str) -> None:
        if call.status in ("failed", "done"):
            return
        e = self.engine
        call.status = "failed"
        self._save(call)
        log.info("routing: callback failed", extra={"call": call.call_id, "why": why})
        if call.agent_leg:
            e.cancel_leg(call.node_name, call.agent_leg, "NORMAL_CLEARING")

    def _save(self, call: CallbackCall) -> None:
        self.engine.store.durable("callback", call.row())
