"""What happens on the dialled lines, applied in the dialer's event worker.

The core's channel listener and the bus call :meth:`LineEvents.on_channel_event` and
:meth:`LineEvents.on_domain_event` inside the core's dispatch: they only pick the
events about our lines and post them to the dialer's worker, where every change of a
line happens (:mod:`outbound.line_states`), in order. Switch events (answer, AMD beep,
bridge, hangup, the end of the agentless prompt) and routing's events (an agent
rings, answers, fails) become line inputs; their effects run through
:mod:`outbound.line_effects`. When a line ends, its outcome goes to the writer
(:func:`outbound.outcomes.record_result`); a call that reached an agent then waits
for the agent's disposition (``call.wrapup_ended``) before the contact moves on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import gevent

from cti.bus import DomainEvent
from cti.core import COMMAND_REFUSALS
from esl.events import Event
from esl.protocol import CommandArgumentError
from outbound.campaign_run import CampaignRun
from outbound.campaign_states import CampaignState
from outbound.compliance import AmdResult, AnswerAction, abandon_deadline, on_answer
from outbound.errors import IllegalTransition
from outbound.line_effects import run_effect
from outbound.line_states import LineEffect, LineInput, LinePhase, line_transition, outcome_of
from outbound.lines import DIGIT_VARIABLE, Line
from outbound.outcomes import LineResult, record_disposition, record_result, utc
from outbound.pacing import CallHandled, DialMode, DialResult, LiveCallFate

if TYPE_CHECKING:
    from outbound.dialer import Dialer

log = logging.getLogger(__name__)

_MACHINE_INPUTS = {AnswerAction.HANG_UP: LineInput.MACHINE_HANG_UP,
                   AnswerAction.LEAVE_MESSAGE: LineInput.MACHINE_MESSAGE}
_CHANNEL_EVENTS = frozenset({"CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_BRIDGE", "CHANNEL_EXECUTE_COMPLETE",
                             "CUSTOM::avmd::beep"})


@dataclass
class Awaiting:
    """A connected call whose contact waits for the agent's disposition."""

    line: Line
    ended: bool = False
    disposition: str | None = None
    wrapup_seconds: float = 0.0


class LineEvents:
    """See the module docstring; one per dialer."""

    def __init__(self, dialer: Dialer) -> None:
        self.dialer = dialer

    def on_channel_event(self, event: Event) -> None:
        """Core channel listener (dispatcher greenlet): pick our events, post them."""
        if not self.dialer.running:
            return
        uuid, name = event.uuid, event.name
        line = self.dialer.lines.get(uuid)
        if line is not None:
            if name in _CHANNEL_EVENTS:
                self.dialer.post(self._channel, line, event, _received_wall(event))
            return
        if name == "CHANNEL_BRIDGE":
            other = self.dialer.lines.get(event.get("Other-Leg-Unique-ID"))
            if other is not None:
                self.dialer.post(self._channel, other, event, _received_wall(event))
        elif name == "CHANNEL_HANGUP" and uuid in self.dialer.agent_legs:
            self.dialer.post(self._input, self.dialer.agent_legs[uuid], LineInput.RESERVED_AGENT_GONE)

    def on_domain_event(self, event: DomainEvent) -> None:
        """Bus subscriber (dispatcher greenlet): routing's view of our calls."""
        if not self.dialer.running:
            return
        if event.type == "agent.state_changed":
            if event.agent_id is not None and event.data.get("state") != "available":
                self.dialer.post(self.dialer.previews.agent_left, event.agent_id)
            return
        if event.type == "system.resynced":
            self.dialer.post(self._resynced)
            return
        iid = event.interaction_id or ""
        line = self.dialer.by_interaction.get(iid)
        if line is not None:
            if event.type == "call.offered":
                self.dialer.post(self._input, line, LineInput.AGENT_RINGING)
            elif event.type == "call.offer_failed":
                self.dialer.post(self._ring_failed, line)
            elif event.type == "call.answered" and not line.reserved:
                self.dialer.post(self._connected, line, event.agent_id)
        if iid in self.dialer.awaiting and event.type in ("call.wrapup_ended", "call.ended"):
            self.dialer.post(self._wrapup_news, iid, event.type, dict(event.data))

    def _resynced(self) -> None:
        """A switch link came back: a line whose call the switch no longer has ended
        while we were not listening (its hangup event was lost)."""
        core = self.dialer.core
        if core is None:
            return
        live = {str(record["id"]) for record in core.state.live_calls()}
        for line in list(self.dialer.lines.values()):
            if line.interaction_id not in live:
                line.cause = line.cause or "NORMAL_CLEARING"
                line.ended_at = line.ended_at or time.time()
                self._input(line, LineInput.RESERVED_AGENT_GONE if line.phase is LinePhase.CALLING_AGENT
                            else LineInput.HANGUP)

    def _channel(self, line: Line, event: Event, at: float) -> None:
        name = event.name
        if name == "CHANNEL_ANSWER":
            self._answered(line, at)
        elif name == "CHANNEL_HANGUP":
            line.cause = event.get("Hangup-Cause") or line.cause
            line.ended_at = at
            self._input(line, LineInput.HANGUP)
        elif name == "CHANNEL_BRIDGE":
            self._connected(line, line.agent_id or _int(event.var("cti_agent_id")))
        elif name == "CUSTOM::avmd::beep":
            self._machine(line)
        elif name == "CHANNEL_EXECUTE_COMPLETE" and event.get("Application-UUID") == line.digits_event:
            line.digit = event.var(DIGIT_VARIABLE)
            if line.phase is LinePhase.AGENTLESS and self.dialer.commands is not None:
                self.dialer.commands.hang_up(line)

    def _answered(self, line: Line, at: float) -> None:
        run = self.dialer.runs.get(line.campaign_id)
        if run is None or line.phase is not LinePhase.RINGING:
            return
        line.answered_at = at
        config = run.config
        if line.reserved:
            self._input(line, LineInput.ANSWERED_RESERVED)
            return
        agentless = config.mode is DialMode.AGENTLESS
        run.pacing.observe(DialResult(needs_agent=not agentless, seconds=line.age(at)))
        if config.rules.amd_enabled and self.dialer.commands is not None:
            self.dialer.commands.start_amd(line)   # first in the line's lane: before any message
        self._input(line, LineInput.ANSWERED_AGENTLESS if agentless else LineInput.ANSWERED_LIVE)

    def _machine(self, line: Line) -> None:
        run = self.dialer.runs.get(line.campaign_id)
        if run is None or line.amd is AmdResult.MACHINE:
            return
        line.amd = AmdResult.MACHINE
        action = on_answer(AmdResult.MACHINE, run.config.rules.machine_action,
                           agentless=run.config.mode is DialMode.AGENTLESS)
        self._input(line, _MACHINE_INPUTS.get(action, LineInput.MACHINE_PASS))

    def _connected(self, line: Line, agent_id: int | None) -> None:
        if agent_id is not None:
            line.agent_id = agent_id
        if line.phase in (LinePhase.WAITING, LinePhase.OFFERED, LinePhase.CONNECTED):
            self._input(line, LineInput.AGENT_CONNECTED)

    def _ring_failed(self, line: Line) -> None:
        if line.phase in (LinePhase.WAITING, LinePhase.OFFERED):
            self._input(line, LineInput.AGENT_RING_FAILED_LATE if line.deadline_passed else LineInput.AGENT_RING_FAILED)

    def _deadline(self, line: Line) -> None:
        line.deadline = None
        line.deadline_passed = True
        if line.phase in (LinePhase.WAITING, LinePhase.OFFERED):
            self._input(line, LineInput.DEADLINE)

    def agent_answered(self, line: Line, leg: str | None, cause: str) -> None:
        if leg:
            if line.phase is LinePhase.CALLING_AGENT:
                self._input(line, LineInput.RESERVED_AGENT_ANSWERED)
            return
        if self.dialer.core is not None and line.agent_leg is not None:
            self._leg_never_came(line.agent_leg, cause)
        line.cause = line.cause or "AGENT_UNAVAILABLE"
        self._input(line, LineInput.RESERVED_AGENT_GONE)

    def originate_failed(self, line: Line, cause: str) -> None:
        """The originate failed (the job's ``-ERR``); a leg that was never created ends here."""
        if line.phase is LinePhase.ENDED:
            return
        self._leg_never_came(line.uuid, cause)
        line.cause = line.cause or cause
        line.ended_at = line.ended_at or time.time()
        if line.phase in (LinePhase.RINGING, LinePhase.CALLING_AGENT):
            self._input(line, LineInput.HANGUP if line.phase is LinePhase.RINGING else LineInput.RESERVED_AGENT_GONE)

    def _leg_never_came(self, leg: str, cause: str) -> None:
        if self.dialer.core is None:
            return
        try:
            self.dialer.core.command(self.dialer.core.state.originate_failed, leg, f"-ERR {cause}", now=time.time())
        except COMMAND_REFUSALS as exc:
            log.info("outbound: originate failure not applied", extra={"leg": leg, "why": str(exc)})

    def _input(self, line: Line, event: LineInput) -> None:
        if line.phase is LinePhase.ENDED:
            return
        before = line.phase
        try:
            line.phase, effects = line_transition(line.phase, event)
        except IllegalTransition as exc:
            self.dialer.stats.illegal_inputs += 1
            log.info("outbound: line input refused", extra={"call": line.interaction_id, "why": exc.message})
            return
        run = self.dialer.runs.get(line.campaign_id)
        if run is not None:
            self._effects(run, line, effects)
        if line.phase is LinePhase.ENDED:
            self._finish(line, before)

    def _effects(self, run: CampaignRun, line: Line, effects: tuple[LineEffect, ...]) -> None:
        for effect in effects:
            try:
                run_effect(self.dialer, run, line, effect)
            except CommandArgumentError as exc:
                log.error("outbound: effect not carried out", extra={"call": line.interaction_id,
                                                                      "effect": effect.value, "why": str(exc)})

    def arm_deadline(self, run: CampaignRun, line: Line) -> None:
        assert line.answered_at is not None
        due = abandon_deadline(line.answered_at, run.config.rules.profile)
        line.deadline = gevent.spawn_later(max(0.0, due - time.time()), self.dialer.post, self._deadline, line)

    def connected(self, run: CampaignRun, line: Line) -> None:
        """COUNT_CONNECTED: the call reached its agent; its contact now waits for the disposition."""
        line.connected_at = time.time()
        if not line.reserved:
            run.pacing.observe(LiveCallFate(abandoned=False))
        self.dialer.awaiting[line.interaction_id] = Awaiting(line)

    # -- the end of a line --------------------------------------------------------------

    def _finish(self, line: Line, phase: LinePhase) -> None:
        self.dialer.lines.pop(line.uuid, None)
        self.dialer.by_interaction.pop(line.interaction_id, None)
        if line.agent_leg is not None:
            self.dialer.agent_legs.pop(line.agent_leg, None)
        run = self.dialer.runs.get(line.campaign_id)
        if run is None:
            return
        run.lines.pop(line.uuid, None)
        ended = line.ended_at or time.time()
        cause = line.cause or ("ORIGINATOR_CANCEL" if phase is LinePhase.CALLING_AGENT else "NORMAL_CLEARING")
        outcome = outcome_of(phase, cause)
        if line.answered_at is None and not line.reserved:
            run.pacing.observe(DialResult(needs_agent=False, seconds=line.age(ended)))
        if phase is LinePhase.WAITING or phase is LinePhase.OFFERED:
            run.pacing.observe(LiveCallFate(abandoned=True))
        result = LineResult(
            campaign_id=line.campaign_id, contact_id=line.contact_id, attempt_id=line.attempt_id, outcome=outcome,
            ended_at=utc(ended) or datetime.now(UTC), answered_at=utc(line.answered_at),
            ring_seconds=None if line.answered_at is None else round(line.age(line.answered_at), 3),
            amd=line.amd, cause=cause, agent_id=line.agent_id,
            disposition=f"digit:{line.digit}" if line.digit else "", late_message=line.late_message,
        )
        config = run.config
        self.dialer.writer.submit(lambda cur: record_result(cur, result, config), lambda final: self.dialer.note_finals(config.id,
                                                                                                      int(final)))
        pending = self.dialer.awaiting.get(line.interaction_id)
        if pending is not None:
            pending.ended = True
            self._maybe_disposition(line.interaction_id)
        if run.config.state not in (CampaignState.RUNNING, CampaignState.PAUSED) and not run.lines:
            self.dialer.runs.pop(run.id, None)

    def _wrapup_news(self, iid: str, kind: str, data: dict[str, Any]) -> None:
        pending = self.dialer.awaiting.get(iid)
        if pending is None:
            return
        if kind == "call.wrapup_ended":
            if data.get("disposition"):
                pending.disposition = str(data["disposition"])
            pending.wrapup_seconds = float(data.get("wrapup_seconds") or 0.0)
            if data.get("final") and pending.disposition is None:
                pending.disposition = ""
        elif kind == "call.ended" and pending.disposition is None and not self._wrapup_pending(iid):
            pending.disposition = str(data.get("disposition") or "")
        self._maybe_disposition(iid)

    def _wrapup_pending(self, iid: str) -> bool:
        if self.dialer.core is None:
            return False
        try:
            return bool(self.dialer.core.state.interaction(iid).wrapups_pending)
        except KeyError:
            return False

    def _maybe_disposition(self, iid: str) -> None:
        pending = self.dialer.awaiting.get(iid)
        if pending is None or not pending.ended or pending.disposition is None:
            return
        del self.dialer.awaiting[iid]
        line, disposition = pending.line, pending.disposition
        run = self.dialer.runs.get(line.campaign_id)
        if run is None:
            return
        if line.connected_at is not None and line.ended_at is not None:
            run.pacing.observe(CallHandled(max(0.0, line.ended_at - line.connected_at), pending.wrapup_seconds))
        config = run.config
        self.dialer.writer.submit(
            lambda cur: record_disposition(cur, config.id, line.attempt_id, line.contact_id, disposition, config,
                                           datetime.now(UTC)),
            lambda final: self.dialer.note_finals(config.id, int(final)),
        )


def _received_wall(event: Event) -> float:
    """When the event reached us, on this host's wall clock (deadlines are measured from it)."""
    if event.received_at:
        return time.time() - max(0.0, time.monotonic() - event.received_at)
    return time.time()


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None

