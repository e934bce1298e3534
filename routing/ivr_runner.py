"""Runs the IVR of a call: :mod:`routing.ivr` steps carried out over ESL.

Each :class:`~routing.ivr_state.Step` asks for one thing. An application
(:class:`~routing.steps.Execute`: playback, play_and_get_digits, say, record) is sent
with ``sendmsg`` and an ``Event-UUID``; its ``CHANNEL_EXECUTE_COMPLETE`` (matched by
``Application-UUID``) becomes the result the machine expects in its phase -- the
digits from the collection's result variable, the length of a recording from
``variable_record_ms``. An HTTP lookup runs in a greenlet of its own with the node's
timeout and resumes the IVR with the answer or a failure (the flow's ``on_failure``
path). A routing action ends the IVR: enqueue (:mod:`routing.queue_runner`),
transfer to a number or another flow, store a voicemail, hang up.

Every node entered and left, and every retry, goes on the interaction's timeline at
once through the live state's ``ivr_step`` (``kind``, ``exit``, ``seconds``, ``flow``:
what :mod:`reports.ivr_report` reads when ``ivr_node_stats`` has no rows), so
``ivr_path`` shows the way the caller took, up to the node where they hung up (the keys
they pressed are there already, from the DTMF events the core records). When the IVR
ends, its timeline is folded into ``ivr_node_stats`` and the caller's shortcuts
(:mod:`routing.ivr_stats`), written in batches by :mod:`routing.persistence`.

A ``secret`` collection (a PIN, a card number) keeps its digits off every record:
``cti_dtmf_secret=true`` is set on the leg before it runs, so the core masks the DTMF
it sees meanwhile, and cleared with the result variable once it ended; the timeline
gets only the number of digits keyed.

An application whose ``CHANNEL_EXECUTE_COMPLETE`` may have been lost (a resync) is run
again (:meth:`IvrRunner.run_again`); one whose bound passed counts as ended with
nothing (:mod:`routing.recovery`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import gevent
import requests

from cti import channel_vars as cv
from cti.core import COMMAND_REFUSALS
from esl import commands as cmd
from esl.client import ESLError
from esl.events import Event
from esl.protocol import CommandArgumentError
from routing import flow_nodes as n
from routing import ivr
from routing.errors import FlowError, IvrStateError
from routing.flows import Flow, parse_flow
from routing.ivr_state import (
    CallContext,
    CallerHungUp,
    DigitsEntered,
    HttpResponse,
    IvrState,
    Phase,
    PlaybackFinished,
    RecordingFinished,
    Result,
    Step,
    TimelineEntry,
)
from routing.ivr_stats import node_stats, shortcut_updates
from routing.lanes import app_call, link_lost
from routing.recovery import PROMPT_ALLOWANCE
from routing.sessions import Pending, Session
from routing.sessions import Phase as CallPhase
from routing.steps import (
    CallerGone,
    Enqueue,
    Execute,
    HangupCall,
    HttpLookup,
    LeaveVoicemail,
    Transfer,
    own_seconds,
)

if TYPE_CHECKING:
    from routing.engine import RoutingEngine

log = logging.getLogger(__name__)

#: Greeting of a voicemail box reached by overflow when no flow describes that box.
VOICEMAIL_GREETING = "voicemail/vm-record_message.wav"
#: Flows the engine builds itself (overflow to voicemail) are named with this prefix
#: and kept out of the IVR statistics.
SYNTHETIC = "_"
#: Dialplan context a ``transfer`` node's number is dialled in.
TRANSFER_CONTEXT = "default"
#: IVR timeline entries that go on the interaction's timeline (the rest are statistics).
TIMELINE_KINDS = frozenset({"node_entered", "node_left", "invalid_input", "no_input"})


class IvrRunner:
    """See the module docstring; one per engine, all calls."""

    def __init__(self, engine: RoutingEngine, *, voicemail_dir: str, timezone: str) -> None:
        self.engine = engine
        self.voicemail_dir = voicemail_dir
        self.zone = ZoneInfo(timezone)

    # -- starting ---------------------------------------------------------------------

    def start(self, s: Session, flow: Flow) -> None:
        """Run ``flow`` for the call from its start node (its version stays with the call)."""
        engine = self.engine
        s.move("ivr")
        self._finish(s)
        now = engine.clock.now()
        facts = s.facts
        context = CallContext(
            interaction_id=s.iid,
            caller_number=s.caller_number,
            started_at=now,
            did=s.did,
            caller_name=s.caller_name,
            caller_class=engine.site.callers.classify(s.caller_number),
            customer=facts.customer if facts else None,
            shortcut=facts.shortcut if facts else None,
            service_requests=engine.service_requests(flow.name),
            calendars=engine.site.calendars,
            voicemail_dir=self.voicemail_dir,
        )
        s.flow = flow
        self._advance(s, ivr.start(flow, context))

    def start_voicemail(self, s: Session, box: str) -> None:
        """Overflow to voicemail: the box's node from a flow if one records it, else a
        plain greeting and the beep."""
        self.start(s, voicemail_flow(self.engine.site.flows.values(), box, s.language))

    # -- results --------------------------------------------------------------------------

    def on_complete(self, s: Session, pending: Pending, event: Event) -> None:
        self._unmask(s, pending)
        state = s.ivr
        if state is None:
            return
        at = event.timestamp or self.engine.clock.now()
        result: Result
        if state.phase is Phase.PLAYING:
            result = PlaybackFinished(at)
        elif state.phase is Phase.COLLECTING:
            result = DigitsEntered(event.var(pending.variable), at)
        elif state.phase is Phase.RECORDING:
            ms = event.var("record_ms")
            seconds = int(ms) / 1000 if ms.isdigit() else max(0.0, at - state.recording_started)
            result = RecordingFinished(seconds, at)
        else:
            return
        self._resume(s, result)

    def on_failed(self, s: Session, pending: Pending, error: ESLError) -> None:
        """The switch refused an application: carry on as if it ended with nothing (the
        flow's retry and failure paths apply); a caller who left is handled by the hangup."""
        self._unmask(s, pending)
        state = s.ivr
        if state is None or s.phase is not CallPhase.IVR:
            return
        at = self.engine.clock.now()
        fallbacks: Mapping[Phase, Result] = {
            Phase.PLAYING: PlaybackFinished(at),
            Phase.COLLECTING: DigitsEntered("", at),
            Phase.RECORDING: RecordingFinished(0.0, at),
        }
        result = fallbacks.get(state.phase)
        if result is not None:
            self._resume(s, result)

    def on_hangup(self, s: Session, at: float) -> None:
        """The caller left while the IVR had the call."""
        if s.ivr is not None and s.ivr.phase is not Phase.DONE:
            self._resume(s, CallerHungUp(at))
        self._finish(s)

    def _resume(self, s: Session, result: Result) -> None:
        assert s.flow is not None and s.ivr is not None
        try:
            step = ivr.resume(s.flow, s.ivr, result)
        except IvrStateError as exc:
            self.engine.stats.ivr_errors += 1
            log.warning("ivr: result refused", extra={"call": s.iid, "why": str(exc)})
            return
        self._advance(s, step)

    # -- carrying out steps -----------------------------------------------------------

    def _advance(self, s: Session, step: Step) -> None:
        s.ivr = step.state
        s.language = step.state.language
        s.priority_boost = step.state.priority_boost
        self._record(s, step.timeline)
        action = step.action
        if isinstance(action, Execute):
            self._execute(s, action)
        elif isinstance(action, HttpLookup):
            gevent.spawn(self._lookup, s, step.state, action)
        else:
            self._finish(s)
            self._route(s, action)

    def _execute(self, s: Session, step: Execute) -> None:
        try:
            call = app_call(step)
        except CommandArgumentError as exc:
            log.error("ivr: step refused", extra={"call": s.iid, "why": str(exc)})
            self.on_failed(s, Pending("ivr"), ESLError(str(exc)))
            return
        bound = self.engine.bound(PROMPT_ALLOWANCE + own_seconds(step))
        pending = Pending("ivr", variable=step.result_variable, step=step, deadline=bound)
        event_uuid = self.engine.track(s, pending)
        if step.secret:
            s.lane.api(cmd.uuid_setvar(s.leg, cv.DTMF_SECRET, "true"))
        s.lane.execute(s.leg, call, event_uuid, on_error=lambda exc: self._execute_failed(s, event_uuid, exc))

    def run_again(self, s: Session) -> None:
        """After a resync: the application the IVR waits for may have ended unseen.
        Whatever plays is stopped and the application runs again from its start."""
        for event_uuid, pending in list(s.pending.items()):
            if pending.kind == "ivr" and pending.step is not None:
                del s.pending[event_uuid]
                s.lane.api(cmd.uuid_break(s.leg, all_queued=True))
                self._execute(s, pending.step)

    def _unmask(self, s: Session, pending: Pending) -> None:
        """A secret collection ended: DTMF is recorded again, and its result variable
        (the digits themselves) leaves the channel."""
        step = pending.step
        if step is None or not step.secret or s.gone:
            return
        s.lane.api(cmd.uuid_setvar(s.leg, cv.DTMF_SECRET, ""))
        if step.result_variable:
            s.lane.api(cmd.uuid_setvar(s.leg, step.result_variable, ""))

    def _execute_failed(self, s: Session, event_uuid: str, error: ESLError) -> None:
        """Refused by the switch: the flow goes on without it. Lost with the link: it
        stays awaited, and runs again after the resync (:meth:`run_again`)."""
        if link_lost(error):
            return
        pending = s.pending.pop(event_uuid, None)
        if pending is not None:
            self.on_failed(s, pending, error)

    def _lookup(self, s: Session, state: IvrState, action: HttpLookup) -> None:
        """Greenlet: the HTTP GET; the answer is posted back to the engine."""
        ok, fields = False, {}
        try:
            with gevent.Timeout(action.timeout_ms / 1000 + 0.5, False):
                response = requests.get(action.url, timeout=action.timeout_ms / 1000)
                body = response.json() if response.ok else None
                if isinstance(body, dict):
                    ok, fields = True, {str(k): "" if v is None else str(v) for k, v in body.items()}
        except (requests.RequestException, ValueError) as exc:
            log.info("ivr: http lookup failed", extra={"call": s.iid, "url": action.url, "why": str(exc)})
        self.engine.post(self._looked_up, s, state, HttpResponse(ok, fields, self.engine.clock.now()))

    def _looked_up(self, s: Session, state: IvrState, result: HttpResponse) -> None:
        if s.ivr is state:  # still waiting for this lookup (not hung up, not moved on)
            self._resume(s, result)

    def _route(self, s: Session, action: Any) -> None:
        engine = self.engine
        if isinstance(action, Enqueue):
            engine.queues.enqueue(s, action.queue, priority=action.priority, boost=action.priority_boost,
                                  skills=action.skills, language=action.language)
        elif isinstance(action, Transfer) and action.kind == "flow":
            flow = engine.site.flows.get(action.target)
            if flow is None:
                log.error("ivr: transfer to an unknown flow; hanging up", extra={"call": s.iid, "flow": action.target})
                self.hang_up(s, "NORMAL_CLEARING")
            else:
                self.start(s, flow)
        elif isinstance(action, Transfer):
            self.transfer_out(s, action.target)
        elif isinstance(action, LeaveVoicemail):
            engine.voicemail.leave(
                box=action.box, interaction_id=s.iid, caller_number=s.caller_number,
                event_code=action.event_code, path=action.path, seconds=action.seconds, at=engine.clock.now(),
            )
            self.hang_up(s, "NORMAL_CLEARING")
        elif isinstance(action, HangupCall):
            self.hang_up(s, action.cause)
        elif not isinstance(action, CallerGone):
            log.error("ivr: unknown action", extra={"call": s.iid, "action": type(action).__name__})

    def hang_up(self, s: Session, cause: str) -> None:
        if s.gone or s.phase is CallPhase.ENDED:
            return
        try:
            command = cmd.uuid_kill(s.leg, cause)
        except CommandArgumentError:
            command = cmd.uuid_kill(s.leg, "NORMAL_CLEARING")
        s.lane.api(command)

    def transfer_out(self, s: Session, number: str) -> None:
        """Hand the call to the dialplan (``uuid_transfer``): it leaves routing."""
        try:
            command = cmd.uuid_transfer(s.leg, number, context=TRANSFER_CONTEXT)
        except CommandArgumentError as exc:
            log.error("ivr: transfer number refused; hanging up", extra={"call": s.iid, "why": str(exc)})
            self.hang_up(s, "NORMAL_CLEARING")
            return
        s.lane.api(command)
        self.engine.end_session(s)

    # -- the timeline -----------------------------------------------------------------

    def _record(self, s: Session, entries: tuple[TimelineEntry, ...]) -> None:
        """Keep the entries for the statistics; put the nodes entered and left and the
        retries on the call's timeline at once, so the path is complete even for a
        caller who hangs up there (the keys pressed are on the timeline already, from
        the DTMF events; those of a secret node only as their number)."""
        flow = s.ivr.flow if s.ivr is not None else ""
        keyed: dict[str, str] = {}
        for entry in entries:
            s.timeline.append(entry)
            if entry.kind == "dtmf":
                keyed[entry.node] = str(entry.data.get("digits", ""))
            if entry.kind not in TIMELINE_KINDS:
                continue
            digits, detail = step_detail(entry, keyed.pop(entry.node, ""), self._secret(s, entry.node))
            try:
                self.engine.core.command(self.engine.core.state.ivr_step, s.iid, flow, entry.node, digits,
                                         now=entry.at, **detail)
            except COMMAND_REFUSALS as exc:
                log.info("ivr: step not recorded", extra={"call": s.iid, "why": str(exc)})

    def _secret(self, s: Session, node: str) -> bool:
        found = s.flow.nodes.get(node) if s.flow is not None else None
        return isinstance(found, n.CollectNode) and found.secret

    def _finish(self, s: Session) -> None:
        """Fold the timeline of the flow that ran into statistics and shortcuts."""
        flow, timeline = s.flow, s.timeline
        s.timeline = []
        if flow is None or not timeline or flow.name.startswith(SYNTHETIC):
            return
        day = datetime.fromtimestamp(timeline[0].at, UTC).astimezone(self.zone).date()
        store = self.engine.store
        store.node_stats(flow.name, flow.version, day, node_stats(timeline))
        if flow.shortcuts is not None:
            store.shortcuts(s.caller_number, flow.name, shortcut_updates(timeline))


def step_detail(entry: TimelineEntry, keyed: str, secret: bool) -> tuple[str, dict[str, str | int | float]]:
    """``(digits, detail)`` for ``ivr_step`` from an IVR timeline entry: its ``kind`` and
    data (``exit``, ``seconds``, ``attempt``) and, for a node left after keys were
    pressed there, those digits -- or, for a secret node, only how many."""
    detail: dict[str, str | int | float] = {"kind": entry.kind, **entry.data}
    if entry.kind != "node_left" or not keyed:
        return "", detail
    if secret:
        detail["digits_length"] = len(keyed)
        return "", detail
    return keyed, detail


def voicemail_flow(flows: Any, box: str, language: str) -> Flow:
    """A one-node flow recording a message for ``box``: the voicemail node of a site
    flow for that box when there is one (same greeting and event codes), else the
    standard greeting."""
    node: dict[str, Any] = {"type": "voicemail", "box": box, "greeting": VOICEMAIL_GREETING}
    languages = [language]
    for flow in flows:
        for candidate in flow.nodes.values():
            if isinstance(candidate, n.VoicemailNode) and candidate.box == box:
                node = _voicemail_node(candidate)
                languages = list(flow.languages)
                language = language if language in languages else flow.language
                break
    name = SYNTHETIC + "voicemail-" + re.sub(r"[^A-Za-z0-9_.-]", "_", box)
    try:
        return parse_flow({"name": name[:64], "start": "message", "language": language, "languages": languages,
                           "nodes": {"message": node}})
    except FlowError:
        log.exception("voicemail flow for a box could not be built; using the standard greeting", extra={"box": box})
        return parse_flow({"name": name[:64], "start": "message", "language": "en", "languages": ["en"],
                           "nodes": {"message": {"type": "voicemail", "box": box, "greeting": VOICEMAIL_GREETING}}})


def _voicemail_node(node: n.VoicemailNode) -> dict[str, Any]:
    def prompt(p: n.Prompt) -> Any:
        files: dict[str, str] = dict(p.by_language)
        if p.default is not None:
            files["default"] = p.default
        return files

    spec: dict[str, Any] = {"type": "voicemail", "box": node.box, "greeting": prompt(node.greeting),
                            "max_seconds": node.max_seconds}
    if node.event_codes:
        assert node.event_prompt is not None
        spec["event_codes"] = dict(node.event_codes)
        spec["event_prompt"] = prompt(node.event_prompt)
    return spec

