"""Offers: ringing agents for a call, and what the ring's end means.

An :class:`~routing.decisions.Assignment` becomes, per agent, ``offer`` in the live
state (the agent is reserved before the phone rings) and a ``bgapi originate`` of the
agent leg (:func:`agent_originate`): our channel variables, ``originate_timeout`` = the
queue's ring time, ``ignore_early_media``, the caller's id on the phone, ``&park()``
(the leg waits in park until it is bridged). The job's ``-ERR`` (``NO_ANSWER``,
``USER_NOT_REGISTERED`` ...) goes to the live state's ``originate_failed``; the end of a
ring reaches the router through ``call.offer_failed`` (RONA: the call takes its place
back and the next agent is tried in the same step). While a switch is unreachable
nobody is rung on it: the agents are held back until the engine reports them again
after the resync.

A ring whose link dropped is in doubt, not failed: the phone may ring on, be answered
and park while nobody hears of it. The offer is kept and :meth:`Offers.resolve` settles
it from the live state once the switch has been resynced (answered: bridged; gone:
failed without blame; ringing: left to ring). Every ring also has a deadline (ring time
plus :data:`JOB_GRACE`): one still unsettled then is withdrawn the same way.

Offers work the same for a waiting caller (:class:`~routing.sessions.Session`) and a
kept-place callback (:class:`~routing.callbacks.CallbackCall`): both are
:class:`Ringer` s.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Protocol

from cti import channel_vars as cv
from cti.agent_states import AgentState
from cti.agents import Agent as LiveAgent
from cti.core import COMMAND_REFUSALS
from cti.tracker import UnknownInteraction
from esl import commands as cmd
from esl.client import ESLCommandError, ESLError, ESLNotConnected
from esl.protocol import CommandArgumentError
from routing.acd import RING_OUTCOMES
from routing.decisions import AgentNotReady, Assignment, Decision
from routing.sessions import Phase, Session

if TYPE_CHECKING:
    from routing.engine import RoutingEngine

log = logging.getLogger(__name__)

_FORBIDDEN = set("{}[]<>^'\"\\`$")
_REFUSED: tuple[type[Exception], ...] = (*COMMAND_REFUSALS, CommandArgumentError)
#: Seconds added to the ring time before a BACKGROUND_JOB that never came counts as lost.
JOB_GRACE = 10.0


class Ringer(Protocol):
    """What ringing agents needs of a call: the router's id for it, the interaction the
    offers belong to, its switch, the legs ringing, and the caller id agents see."""

    offers: dict[str, int]

    @property
    def call_id(self) -> str: ...
    @property
    def iid(self) -> str: ...
    @property
    def node(self) -> str: ...
    @property
    def display_number(self) -> str: ...
    @property
    def display_name(self) -> str: ...


class Offers:
    """See the module docstring; one per engine."""

    def __init__(self, engine: RoutingEngine) -> None:
        self.engine = engine
        #: agent leg -> engine time after which an unsettled ring counts as lost
        self.deadlines: dict[str, float] = {}

    def ring(self, ringer: Ringer, a: Assignment) -> None:
        """Offer the call to every agent of ``a``; agents the live state refuses count as
        failed rings (the router tries the next one). While the call's switch is
        unreachable nobody is rung: the agents are held back until the link is back
        (the engine reports them again after the resync) and the call keeps its place."""
        if not self.engine.online(ringer.node):
            for agent_id in a.agent_ids:
                self.ring_ended(ringer, agent_id, "failed", blame=False)
                self.engine.router.on_agent_away(agent_id)
            return
        refused = [agent_id for agent_id in a.agent_ids if not self._ring_one(ringer, a, agent_id)]
        for agent_id in refused:
            self.ring_ended(ringer, agent_id, "failed", blame=False)

    def _ring_one(self, ringer: Ringer, a: Assignment, agent_id: int) -> bool:
        e = self.engine
        state = e.core.state
        leg = str(uuidlib.uuid4())
        now = e.clock.now()
        try:
            agent = state.agent(agent_id)
            e.core.command(state.offer, ringer.iid, agent_id, leg, now=now, queue=a.queue)
            command = agent_originate(agent, leg, interaction_id=ringer.iid, queue=a.queue,
                                      ring_timeout=a.ring_timeout, caller_number=ringer.display_number,
                                      caller_name=ringer.display_name)
        except _REFUSED as exc:
            e.stats.offers_refused += 1
            log.warning("routing: offer refused", extra={"call": ringer.iid, "agent": agent_id, "why": str(exc)})
            e.agents.sync(agent_id)
            return False
        ringer.offers[leg] = agent_id
        e.agent_legs[leg] = ringer
        self.deadlines[leg] = now + a.ring_timeout + JOB_GRACE
        e.stats.offers += 1
        started = e.free_started
        e.commands.originate(
            ringer.node, command, timeout=e.clock.real(a.ring_timeout) + JOB_GRACE,
            on_result=partial(self._originated, ringer, leg),
            on_sent=(lambda sent: e.latency.record(sent - started)) if started is not None else None,
        )
        return True

    def _originated(self, ringer: Ringer, leg: str, body: str | None, error: ESLError | None) -> None:
        """The BACKGROUND_JOB of an agent leg: only failures matter (answers are seen as
        CHANNEL_PARK). The live state hears every failure; the router hears it here only
        if the live state did not turn it into ``call.offer_failed``. A link that
        dropped leaves the ring in doubt until the resync (see the module docstring)."""
        if error is None:
            return
        if isinstance(error, ESLNotConnected):
            if leg in ringer.offers:
                log.info("routing: ring in doubt until the switch is back", extra={"call": ringer.iid, "leg": leg})
            return
        if isinstance(error, ESLCommandError):
            self._failed(ringer, leg, error.reply)
        else:
            # The job never reported within the ring time: the phone may still ring.
            self.withdraw(ringer, leg)

    def withdraw(self, ringer: Ringer, leg: str) -> None:
        """Give a ring up without blaming the agent: the leg is hung up now or, if the
        switch cannot be reached, once the link is back."""
        self.engine.cancel_leg(ringer.node, leg, "ORIGINATOR_CANCEL")
        self._failed(ringer, leg, "-ERR ORIGINATOR_CANCEL")

    def _failed(self, ringer: Ringer, leg: str, reason: str) -> None:
        e = self.engine
        self.deadlines.pop(leg, None)
        try:
            events = e.core.command(e.core.state.originate_failed, leg, reason, now=e.clock.now())
        except COMMAND_REFUSALS as exc:
            log.info("routing: originate failure not applied", extra={"leg": leg, "why": str(exc)})
            events = []
        if leg in ringer.offers and not any(ev.type == "call.offer_failed" for ev in events):
            agent_id = ringer.offers.pop(leg)
            e.agent_legs.pop(leg, None)
            self.ring_ended(ringer, agent_id, "failed", blame=False)

    def resolve(self, ringer: Ringer, leg: str, *, expired: bool = False) -> None:
        """Settle a ring from the live state: after a resync, or once its deadline
        passed (``expired``). Answered: the park was lost, so it is handled now
        (bridged, or hung up if the caller left). Gone: the live state has failed the
        offer already, or it fails here. Ringing (or never seen: the resync leaves
        legs younger than its grace alone): it rings on until its deadline, then it is
        withdrawn."""
        e = self.engine
        try:
            found = e.core.state.interaction(ringer.iid).legs.get(leg)
        except UnknownInteraction:
            found = None
        if found is not None and found.up and found.answered_at is not None:
            self.deadlines.pop(leg, None)
            e.agent_parked(ringer, leg)
        elif found is None or not found.up:
            self.withdraw(ringer, leg)
        elif expired:
            log.warning("routing: ring never settled; withdrawn", extra={"call": ringer.iid, "leg": leg})
            self.withdraw(ringer, leg)

    def forget_stale(self) -> None:
        """Drop the deadlines of rings that are over."""
        for leg in [leg for leg in self.deadlines if leg not in self.engine.agent_legs]:
            del self.deadlines[leg]

    def on_offer_failed(self, ringer: Ringer, leg: str, outcome: str) -> None:
        """``call.offer_failed`` of one of our agent legs (RONA and friends)."""
        agent_id = ringer.offers.pop(leg, None)
        self.engine.agent_legs.pop(leg, None)
        if agent_id is None:
            return
        if outcome in RING_OUTCOMES:
            self.engine.stats.rona += outcome in ("no_answer", "rejected")
            self.ring_ended(ringer, agent_id, outcome)
        else:
            self.ring_ended(ringer, agent_id, "failed", blame=False)

    def ring_ended(self, ringer: Ringer, agent_id: int, outcome: str, *, blame: bool = True) -> None:
        e = self.engine
        s = ringer if isinstance(ringer, Session) else None
        if s is not None and s.phase is Phase.RINGING and not s.offers:
            s.move("requeue")
        decisions = e.router.on_offer_failed(ringer.call_id, agent_id, outcome, e.clock.now())
        if blame:
            self._rona_policy(agent_id, outcome, decisions)
        else:
            decisions = [d for d in decisions if not isinstance(d, AgentNotReady)]
        e.kick()
        if s is not None:
            e.figures.dirty(s.queue)
        e.queues.execute(decisions)

    def _rona_policy(self, agent_id: int, outcome: str, decisions: list[Decision]) -> None:
        """The live state puts a missed agent in not-ready; a queue with
        ``rona_not_ready: false`` wants them available again."""
        if outcome not in ("no_answer", "rejected"):
            return
        if any(isinstance(d, AgentNotReady) and d.agent_id == agent_id for d in decisions):
            return
        e = self.engine
        agent = e.core.state.agent(agent_id)
        if agent.state is AgentState.NOT_READY and agent.reason == "missed":
            e.command(e.core.state.agent_set_state, agent_id, "available", now=e.clock.now())

    def cancel_rings(self, ringer: Ringer, agent_ids: Iterable[int], cause: str) -> None:
        e = self.engine
        wanted = set(agent_ids)
        for leg, agent_id in list(ringer.offers.items()):
            if agent_id in wanted:
                del ringer.offers[leg]
                e.agent_legs.pop(leg, None)
                e.cancel_leg(ringer.node, leg, cause)


def agent_originate(
    agent: LiveAgent, leg: str, *, interaction_id: str, queue: str, ring_timeout: int, caller_number: str,
    caller_name: str,
) -> str:
    """``originate {origination_uuid=..,cti_*,originate_timeout,ignore_early_media,
    origination_caller_id_*}<the agent's phone> &park()`` (their dial string from the
    live state: hot-desking)."""
    variables = {
        cv.INTERACTION_ID: interaction_id, cv.ROLE: "agent", cv.AGENT_ID: str(agent.id),
        "ignore_early_media": "true",
    }
    if queue:
        variables[cv.QUEUE] = queue
    for name, value in (("origination_caller_id_number", caller_number), ("origination_caller_id_name", caller_name)):
        cleaned = clean_text(value)
        if cleaned:
            variables[name] = cleaned
    return cmd.originate(agent_endpoint(agent), uuid=leg, variables=variables, app=cmd.park(), timeout=ring_timeout)


def agent_endpoint(agent: LiveAgent) -> cmd.Endpoint:
    if agent.dial_string:
        try:
            return cmd.Endpoint(agent.dial_string)
        except CommandArgumentError:
            pass
    if not agent.extension:
        raise CommandArgumentError(f"agent {agent.id} has no phone; log the agent in with an extension")
    return cmd.user(agent.extension)


def clean_text(value: str) -> str:
    """A caller id shown on a phone: characters the switch would interpret are dropped."""
    return "".join(c for c in value if c not in _FORBIDDEN and c.isprintable()).strip()

