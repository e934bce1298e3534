"""Runs the queues: what :class:`routing.acd.Router` decides, carried out over ESL.

* **Entering**: ``queue_entered`` in the live state, the queue name set on the leg
  (``cti_queue``, so a restarted middleware can put the caller back), the router asked
  at once (a free agent gets the call without waiting for any loop), then the music:
  ``uuid_broadcast <caller> local_stream://moh aleg``. Timers already due (the
  position announcement at entry) run before the music starts.
* **Treatment**: comfort, position/EWT and callback prompts interrupt the music
  (``uuid_break``), play with ``sendmsg`` and bring the music back when their last
  application completes. A prompt that comes while another plays waits for it. The
  callback offer is a one-key ``play_and_get_digits``; the right key keeps the
  caller's place as a callback (:mod:`routing.callbacks`) and hangs the caller up.
* **Offers** are :mod:`routing.offers`. When the agent leg parks (answered), other
  rings are cancelled, the music stops (``uuid_break ... all``), the agent's id may be
  announced, then ``uuid_bridge <caller> <agent leg>``; a bridge that fails puts the
  call back in its place.
* **Leaving**: overflow to a queue, a flow, voicemail or a number; a caller who hangs
  up while an agent rings has that ring cancelled (``uuid_kill <agent leg>
  ORIGINATOR_CANCEL``).
* **Bounds**: an announcement's end and the ``CHANNEL_BRIDGE`` after ``uuid_bridge``
  are waited for only so long (:mod:`routing.recovery`); after a resync the treatment
  starts over (:meth:`QueueRunner.restart_treatment`) and a bridge in progress is
  checked (:meth:`QueueRunner.check_bridge`).

:meth:`QueueRunner.execute` carries out every decision of the router, in order.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from cti import channel_vars as cv
from cti.tracker import UnknownInteraction
from esl import commands as cmd
from esl.client import ESLError
from esl.events import Event
from esl.protocol import CommandArgumentError
from routing.announcements import CALLBACK_VARIABLE
from routing.decisions import (
    AgentNotReady,
    Announce,
    Assignment,
    CancelRing,
    Decision,
    OfferCallback,
    Overflow,
)
from routing.errors import RouterStateError
from routing.lanes import app_call, link_lost
from routing.queues import Recording
from routing.recovery import PROMPT_ALLOWANCE, SWITCH_WAIT
from routing.sessions import Pending, Phase, Session, SessionStateError
from routing.steps import Execute
from routing.waiting import WaitingCall

if TYPE_CHECKING:
    from routing.engine import RoutingEngine

log = logging.getLogger(__name__)

MOH = "local_stream://moh"


class QueueRunner:
    """See the module docstring; one per engine."""

    def __init__(self, engine: RoutingEngine) -> None:
        self.engine = engine
        self._todo: deque[Decision] = deque()
        self._draining = False

    # -- entering ---------------------------------------------------------------------

    def enqueue(
        self, s: Session, queue: str, *, priority: int | None = None, boost: int = 0,
        skills: Mapping[str, int] | None = None, language: str = "en",
    ) -> None:
        e = self.engine
        rules = e.site.rules.get(queue)
        if rules is None:
            log.error("routing: queue does not exist; hanging up", extra={"call": s.iid, "queue": queue})
            e.ivr.hang_up(s, "NORMAL_CLEARING")
            return
        base = rules.priority if priority is None else priority
        now = e.clock.now()
        if not e.command(e.core.state.queue_entered, s.iid, queue, base + boost, now=now):
            return
        self.join(s, queue, priority=priority, boost=boost, skills=skills, language=language, at=now)

    def join(
        self, s: Session, queue: str, *, priority: int | None = None, boost: int = 0,
        skills: Mapping[str, int] | None = None, language: str = "en", arrived_at: float | None = None,
        at: float | None = None,
    ) -> None:
        """The routing side of entering ``queue`` at ``at`` (default now; the live state
        has been told): the router, the treatment. ``arrived_at``: a transferred
        call's first arrival."""
        e = self.engine
        now = e.clock.now() if at is None else at
        s.move("enqueue")
        s.queue = queue
        if s.first_queued_at is None:
            s.first_queued_at = now
        s.waiting = WaitingCall(
            s.iid, queue, now, priority=priority, priority_boost=boost, skills=dict(skills or {}),
            caller_number=s.caller_number, language=language, arrived_at=arrived_at,
            last_agent=s.facts.last_agent if s.facts is not None else None,
        )
        s.lane.api(cmd.uuid_setvar(s.leg, cv.QUEUE, queue))
        e.figures.offered(queue)
        self.queued(s, now)
        e.run_due_timers()
        if s.waiting_for_agent and not s.media:
            self.music_on(s)

    def queued(self, s: Session, now: float | None = None) -> None:
        """Ask the router for the call's place (or an agent at once). ``now``: the
        moment it entered the line (its timers count from then: the announcement due
        at entry is due at once)."""
        assert s.waiting is not None
        e = self.engine
        try:
            decision = e.router.on_call_queued(s.waiting, e.clock.now() if now is None else now)
        except RouterStateError as exc:
            e.stats.router_errors += 1
            log.warning("routing: call not queued", extra={"call": s.iid, "why": str(exc)})
            return
        e.kick()
        e.figures.dirty(s.queue)
        if decision is not None:
            self.execute([decision])

    def requeue(self, s: Session, *, queue: str | None = None, priority: int | None = None) -> None:
        """A supervisor moved the call or changed its priority (it must be waiting)."""
        e = self.engine
        if s.phase is not Phase.QUEUED or s.waiting is None:
            raise RouterStateError(f"call {s.iid} is {s.phase.value}, not waiting in a queue; try again when it is")
        e.router.on_call_left(s.iid)
        e.figures.dirty(s.queue)
        if queue is not None and queue != s.queue:
            self.enqueue(s, queue, priority=s.waiting.priority, boost=s.waiting.priority_boost,
                         language=s.waiting.language)
            return
        s.waiting = replace(s.waiting, priority=priority)
        self.queued(s)

    # -- decisions --------------------------------------------------------------------

    def execute(self, decisions: Iterable[Decision]) -> None:
        """Carry out decisions in order. Decisions that carrying one out produces (the
        next agent after a refused offer ...) join the same queue instead of recursing,
        so a long chain of them cannot exhaust the stack."""
        self._todo.extend(decisions)
        if self._draining:
            return
        self._draining = True
        try:
            while self._todo:
                decision = self._todo.popleft()
                try:
                    self._execute(decision)
                except (RouterStateError, SessionStateError, CommandArgumentError) as exc:
                    self.engine.stats.router_errors += 1
                    log.warning("routing: decision not carried out",
                                extra={"decision": type(decision).__name__, "why": str(exc)})
        finally:
            self._draining = False

    def _execute(self, d: Decision) -> None:
        e = self.engine
        if isinstance(d, Assignment):
            if d.callback_number:
                e.callbacks.assign(d)
            else:
                self._assign(d)
        elif isinstance(d, Overflow):
            self._overflow(d)
        elif isinstance(d, Announce | OfferCallback):
            s = e.sessions.get(d.call_id)
            if s is not None and s.waiting_for_agent:
                self._treat(s, d)
        elif isinstance(d, CancelRing):
            ringer = e.ringer(d.call_id)
            if ringer is not None:
                e.offers.cancel_rings(ringer, d.agent_ids, "ORIGINATOR_CANCEL")
        else:
            self._not_ready(d)

    def _assign(self, a: Assignment) -> None:
        e = self.engine
        s = e.sessions.get(a.call_id)
        if s is None:
            log.warning("routing: assignment for a call no longer here", extra={"call": a.call_id})
            self.execute(e.router.on_call_left(a.call_id))
            return
        s.move("offer")
        e.offers.ring(s, a)

    def _not_ready(self, d: AgentNotReady) -> None:
        """The live state already moved the agent (not ready ``missed``/``unreachable``)
        from the ring's own end; an agent it found blameless stays as they are."""
        log.info("routing: agent not ready after a failed ring",
                 extra={"agent": d.agent_id, "reason": d.reason, "call": d.call_id})

    # -- overflow ---------------------------------------------------------------------

    def _overflow(self, d: Overflow) -> None:
        e = self.engine
        s = e.sessions.get(d.call_id)
        if s is None:
            e.callbacks.overflowed(d)
            return
        e.stats.overflows += 1
        e.figures.overflowed(d.queue)
        kind, target = d.target.kind, d.target.target
        log.info("routing: overflow", extra={"call": s.iid, "queue": d.queue, "to": str(d.target), "why": d.reason})
        if kind == "queue":
            self.enqueue(s, target, boost=s.priority_boost, language=s.language)
            return
        self.music_off(s)
        outcome = {"voicemail": "voicemail", "flow": "overflowed"}.get(kind, "transferred")
        e.command(e.core.state.queue_left, s.iid, outcome, now=e.clock.now())
        if kind == "voicemail":
            e.ivr.start_voicemail(s, target)
        elif kind == "flow" and target in e.site.flows:
            e.ivr.start(s, e.site.flows[target])
        elif kind == "flow":
            log.error("routing: overflow to an unknown flow; hanging up", extra={"call": s.iid, "flow": target})
            e.ivr.hang_up(s, "NORMAL_CLEARING")
        else:
            e.ivr.transfer_out(s, target)

    # -- what the waiting caller hears --------------------------------------------------

    def music_on(self, s: Session) -> None:
        """Music for a parked caller (one on the way back to park gets it there)."""
        if not s.music and not s.gone and s.parked:
            s.lane.api(cmd.uuid_broadcast(s.leg, MOH, leg="aleg"))
            s.music = True

    def music_off(self, s: Session) -> None:
        if s.music:
            s.lane.api(cmd.uuid_break(s.leg))
            s.music = False

    def _treat(self, s: Session, d: Announce | OfferCallback) -> None:
        if s.media:
            if len(s.deferred) < 2:
                s.deferred.append(d)
            return
        if isinstance(d, Announce):
            self._play(s, d.steps, Pending("announce"))
        else:
            self._play(s, (d.step,), Pending("callback_offer", variable=CALLBACK_VARIABLE, digit=d.digit))

    def _play(self, s: Session, steps: tuple[Execute, ...], pending: Pending) -> None:
        if not steps:
            return
        calls = [app_call(step) for step in steps]
        self.music_off(s)
        for call in calls[:-1]:
            s.lane.execute(s.leg, call)
        event_uuid = self.engine.track(s, replace(pending, deadline=self.engine.bound(PROMPT_ALLOWANCE)))
        s.media = event_uuid
        s.lane.execute(s.leg, calls[-1], event_uuid, on_error=lambda exc: self.media_done(s, event_uuid))

    def on_complete(self, s: Session, pending: Pending, event_uuid: str, event: Event) -> None:
        if pending.kind == "agent_announce":
            s.media = ""
            if s.phase is Phase.BRIDGING:
                self._bridge(s)
            return
        if pending.kind == "callback_offer" and s.phase is Phase.QUEUED:
            if event.var(pending.variable) == pending.digit:
                s.media = ""
                self.engine.callbacks.accept(s)
                return
        self.media_done(s, event_uuid)

    def media_done(self, s: Session, event_uuid: str) -> None:
        """An announcement ended (or will never be heard of again): the next deferred
        one, else the music."""
        s.pending.pop(event_uuid, None)
        if s.media != event_uuid:
            return
        s.media = ""
        if not s.waiting_for_agent:
            return
        if s.deferred:
            self._treat(s, s.deferred.pop(0))
        else:
            self.music_on(s)

    def on_reparked(self, s: Session) -> None:
        """The caller was parked again (a bridge attempt ended before the agent
        answered and the dialplan sent them back to park): the music stopped."""
        if s.waiting_for_agent and not s.media:
            s.music = False
            self.music_on(s)

    def restart_treatment(self, s: Session) -> None:
        """After a resync: an announcement's end or a re-park may have been lost, so
        what the waiting caller hears starts over -- anything playing is stopped, the
        announcements waiting their turn are dropped, the music plays."""
        for event_uuid, pending in list(s.pending.items()):
            if pending.kind in ("announce", "callback_offer"):
                del s.pending[event_uuid]
        s.media = ""
        s.deferred.clear()
        s.lane.api(cmd.uuid_break(s.leg, all_queued=True))
        s.music = False
        self.music_on(s)

    # -- answer and bridge --------------------------------------------------------------

    def on_agent_parked(self, s: Session, leg: str) -> None:
        """The agent leg answered (its ``&park()`` runs)."""
        e = self.engine
        agent_id = s.offers.pop(leg, None)
        e.agent_legs.pop(leg, None)
        if agent_id is None or s.phase is not Phase.RINGING:
            e.cancel_leg(s.node, leg, "NORMAL_CLEARING")
            return
        decisions = e.router.on_offer_answered(s.iid, agent_id, e.clock.now())
        s.move("answered")
        s.answered_leg, s.answered_agent = leg, agent_id
        e.figures.dirty(s.queue)
        self.execute(d for d in decisions if not isinstance(d, Announce))
        if s.music or s.media:
            s.lane.api(cmd.uuid_break(s.leg, all_queued=True))
            s.music, s.media = False, ""
            s.deferred.clear()
        announce = next((d for d in decisions if isinstance(d, Announce)), None)
        if announce is not None:
            calls = [app_call(step) for step in announce.steps]
            for call in calls[:-1]:
                s.lane.execute(s.leg, call)
            event_uuid = e.track(s, Pending("agent_announce", deadline=e.bound(PROMPT_ALLOWANCE)))
            s.media = event_uuid
            s.lane.execute(s.leg, calls[-1], event_uuid, on_error=lambda exc: self._bridge(s))
        else:
            self._bridge(s)

    def _bridge(self, s: Session) -> None:
        if s.phase is Phase.BRIDGING:
            s.deadline = self.engine.bound(SWITCH_WAIT)
            s.lane.api(cmd.uuid_bridge(s.leg, s.answered_leg), on_error=lambda exc: self._bridge_error(s, exc))

    def _bridge_error(self, s: Session, error: ESLError) -> None:
        """A bridge lost with the link is checked again after the resync (or at its
        bound); one the switch refused goes back in line."""
        if not link_lost(error):
            self._bridge_failed(s)

    def check_bridge(self, s: Session) -> None:
        """A bridge whose ``CHANNEL_BRIDGE`` (or announcement's end) may have been lost:
        made meanwhile -> connected; both legs still up -> bridged now; the agent's leg
        gone -> back in line."""
        if s.phase is not Phase.BRIDGING:
            return
        try:
            ix = self.engine.core.state.interaction(s.iid)
        except UnknownInteraction:
            return  # the call is over; its end reaches the session
        if ix.serving_leg == s.answered_leg and ix.bridged:
            self.on_bridged(s, s.answered_leg)
            return
        agent_leg = ix.legs.get(s.answered_leg)
        for event_uuid, pending in list(s.pending.items()):
            if pending.kind == "agent_announce":
                del s.pending[event_uuid]
        s.media = ""
        if agent_leg is not None and agent_leg.up:
            self._bridge(s)
        else:
            self._bridge_failed(s)

    def _bridge_failed(self, s: Session) -> None:
        """The agent leg went away between answer and bridge: back in line, same place."""
        e = self.engine
        if s.phase is not Phase.BRIDGING or s.gone:
            return
        e.cancel_leg(s.node, s.answered_leg, "NORMAL_CLEARING")
        s.move("requeue")
        s.deadline = float("inf")
        s.answered_leg, s.answered_agent = "", None
        self.music_on(s)
        self.queued(s)

    def on_bridged(self, s: Session, other: str) -> None:
        e = self.engine
        if s.phase is not Phase.BRIDGING or other != s.answered_leg:
            return
        s.deadline = float("inf")
        s.move("bridged")
        e.stats.bridged += 1
        rules = e.site.rules.get(s.queue)
        if rules is not None and rules.recording is Recording.ALWAYS:
            e.record_call(s.iid)

    def on_caller_gone(self, s: Session) -> None:
        e = self.engine
        if s.phase in (Phase.QUEUED, Phase.RINGING):
            try:
                self.execute(e.router.on_call_left(s.iid))
            except RouterStateError as exc:
                log.info("routing: caller left a call the router no longer had", extra={"call": s.iid, "why": str(exc)})
            e.figures.dirty(s.queue)
        elif s.phase is Phase.BRIDGING and s.answered_leg:
            e.cancel_leg(s.node, s.answered_leg, "ORIGINATOR_CANCEL")
