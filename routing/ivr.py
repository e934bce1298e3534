"""The IVR step machine: ``start(flow, context)``, then ``resume(flow, state, result)``.

Each call returns a :class:`Step`: the new :class:`IvrState` (kept by the shell and
passed back), the action to carry out (a FreeSWITCH application, an HTTP lookup, or
a routing action that ends the IVR: enqueue, transfer, voicemail, hang up), and the
timeline entries to record (every node entered and left with its exit and time
spent, every key pressed, variables set, shortcuts offered, used and saved). Nodes
that need nothing from the switch (condition, set, language without a question)
run within the same call; validation guarantees such runs end.

States are data: :class:`Phase` says what the machine waits for, and the single
table :data:`TRANSITIONS` maps ``(phase, result type)`` to the function that
handles it. Anything else is an :class:`~routing.errors.IvrStateError`.

Shortcuts (enabled per flow, see :mod:`routing.flows`):

- a caller whose number has a shortcut (the service they saved, else the one they
  used last) is routed straight to it if ``direct`` is set, otherwise hears "press
  star for <service>" on the anchor menu;
- pressing the ``save`` key on the anchor menu remembers the caller's next choice;
- the quick menu of the most requested services plays before the anchor menu (its
  intro prompt, then each service's label followed by ``digits/<key>.wav`` from the
  FreeSWITCH sound set); any other key, or none, goes on to the anchor menu.

Digits are collected with one ``play_and_get_digits`` try at a time, so retries and
the invalid-input and timeout prompts are decided here and all input is recorded.
Results carry ``at`` (epoch seconds) so time spent per node needs no clock here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from routing import flow_nodes as n
from routing.calendars import is_holiday, is_open
from routing.callers import decide
from routing.errors import IvrStateError
from routing.flows import Flow
from routing.ivr_state import (
    CallContext,
    CallerHungUp,
    CallerShortcut,
    DigitsEntered,
    HttpResponse,
    IvrState,
    Phase,
    PlaybackFinished,
    RecordingFinished,
    Result,
    Stage,
    Step,
    TimelineEntry,
)
from routing.ivr_stats import quick_menu_entries
from routing.queues import render_url
from routing.steps import (
    DIGITS_VARIABLE_PREFIX,
    Action,
    CallerGone,
    Enqueue,
    HangupCall,
    HttpLookup,
    LeaveVoicemail,
    Transfer,
    play_and_get_digits,
    playback,
    record,
)

__all__ = [
    "BEEP",
    "TRANSITIONS",
    "CallContext",
    "CallerHungUp",
    "CallerShortcut",
    "DigitsEntered",
    "HttpResponse",
    "IvrState",
    "Phase",
    "PlaybackFinished",
    "RecordingFinished",
    "Result",
    "Stage",
    "Step",
    "TimelineEntry",
    "resume",
    "start",
]

#: Played after the voicemail greeting, before recording starts.
BEEP = "tone_stream://%(500,0,800)"


class _Walk:
    """Builds one Step: the evolving state plus the timeline entries of this call."""

    def __init__(self, flow: Flow, state: IvrState, at: float) -> None:
        self.flow = flow
        self.state = state
        self.at = at
        self.timeline: list[TimelineEntry] = []

    @property
    def language(self) -> str:
        return self.state.language

    def log(self, what: str, node: str | None = None, **data: str | int | float) -> None:
        self.timeline.append(TimelineEntry(self.at, what, self.state.node if node is None else node, data))

    def update(self, **changes: Any) -> None:
        self.state = replace(self.state, **changes)

    def leave(self, exit_label: str) -> None:
        self.log("node_left", exit=exit_label, seconds=round(max(0.0, self.at - self.state.entered_at), 3))

    def suspend(self, phase: Phase, action: Action) -> Step:
        self.update(phase=phase)
        return Step(self.state, action, tuple(self.timeline))

    def collect(
        self, files: list[str], min_digits: int, max_digits: int, timeout_ms: int, digit_timeout_ms: int = 3000,
        *, secret: bool = False,
    ) -> Step:
        count = self.state.collections + 1
        self.update(collections=count)
        step = play_and_get_digits(
            files=files,
            min_digits=min_digits,
            max_digits=max_digits,
            timeout_ms=timeout_ms,
            variable=f"{DIGITS_VARIABLE_PREFIX}{count}",
            digit_timeout_ms=digit_timeout_ms,
            secret=secret,
        )
        return self.suspend(Phase.COLLECTING, step)

    def goto(self, name: str) -> Step:
        """Enter nodes from ``name`` on until one needs the switch or ends the IVR."""
        target: str | Step = name
        while isinstance(target, str):
            node = self.flow.nodes[target]
            self.update(node=target, stage=Stage.MAIN, attempts=0, entered_at=self.at, path=(*self.state.path, target))
            self.log("node_entered")
            target = _ENTER[type(node)](self, node)
        return target


# -- public API ----------------------------------------------------------------------


def start(flow: Flow, context: CallContext) -> Step:
    """Begin the flow for a new call: caller policy, direct shortcut, or the start node."""
    state = IvrState(
        flow=flow.name,
        version=flow.version,
        context=context,
        phase=Phase.PLAYING,
        language=flow.language,
        variables=dict(context.variables),
        entered_at=context.started_at,
    )
    walk = _Walk(flow, state, context.started_at)
    decision = decide(context.caller_class, flow.callers)
    if not decision.proceed:
        walk.log("caller_rejected", reason=context.caller_class.value)
        if decision.prompt is not None:
            walk.update(stage=Stage.REJECT)
            return walk.suspend(Phase.PLAYING, playback(decision.prompt.file(walk.language)))
        return walk.suspend(Phase.DONE, HangupCall(decision.hangup_cause, "blacklisted"))
    walk.update(priority_boost=decision.priority_boost)
    shortcut = _caller_shortcut(flow, context)
    if shortcut is not None and flow.shortcuts is not None and flow.shortcuts.direct:
        walk.log("shortcut_direct", node=shortcut)
        return walk.goto(shortcut)
    return walk.goto(flow.start)


def resume(flow: Flow, state: IvrState, result: Result) -> Step:
    """Continue after the shell carried out the previous step's action.

    Raises:
        IvrStateError: the result does not fit the step (wrong phase or flow version).
    """
    if (flow.name, flow.version) != (state.flow, state.version):
        raise IvrStateError(
            f"call {state.context.interaction_id} runs flow {state.flow} v{state.version}, not {flow.name} v{flow.version}"
        )
    handler = TRANSITIONS.get((state.phase, type(result)))
    if handler is None:
        raise IvrStateError(
            f"call {state.context.interaction_id}: cannot take {type(result).__name__} "
            f"while {state.phase.value} at node {state.node!r}"
        )
    return handler(_Walk(flow, state, result.at), result)


# -- entering nodes: each returns the next node's name or a Step -----------------------


def _enter_play(walk: _Walk, node: n.PlayNode) -> str | Step:
    return walk.suspend(Phase.PLAYING, playback(node.prompt.file(walk.language)))


def _enter_menu(walk: _Walk, node: n.MenuNode) -> str | Step:
    shortcuts = walk.flow.shortcuts
    if shortcuts is None or shortcuts.menu != node.name:
        return _menu_prompt(walk, node, [])
    offered = _caller_shortcut(walk.flow, walk.state.context) if shortcuts.offer_digit else None
    if offered is not None:
        walk.update(offered=offered)
        walk.log("shortcut_offered", target=offered)
    quick = shortcuts.quick_menu
    if quick is not None and not walk.state.quick_done:
        walk.update(quick_done=True)
        entries = quick_menu_entries(walk.flow, walk.state.context.service_requests, quick)
        if entries:
            walk.update(stage=Stage.QUICK, quick_entries=entries)
            walk.log("quick_menu_offered", entries=",".join(entries))
            files = [quick.prompt.file(walk.language)]
            for key, entry in enumerate(entries, start=1):
                files += [_label(walk, entry), f"digits/{key}.wav"]
            return walk.collect(files, 1, 1, quick.timeout_ms)
    return _menu_prompt(walk, node, [])


def _menu_prompt(walk: _Walk, node: n.MenuNode, prefix: list[str]) -> Step:
    files = list(prefix)
    shortcuts = walk.flow.shortcuts
    if walk.state.offered is not None and shortcuts is not None and shortcuts.offer_prompt is not None:
        files += [shortcuts.offer_prompt.file(walk.language), _label(walk, walk.state.offered)]
    files.append(node.prompt.file(walk.language))
    return walk.collect(files, 1, 1, node.timeout_ms)


def _enter_collect(walk: _Walk, node: n.CollectNode) -> str | Step:
    return _collect_prompt(walk, node, [])


def _collect_prompt(walk: _Walk, node: n.CollectNode, prefix: list[str]) -> Step:
    """FreeSWITCH takes 1..max digits; the minimum is checked here, so a too-short
    entry is seen and recorded rather than lost as a timeout."""
    files = [*prefix, node.prompt.file(walk.language)]
    return walk.collect(files, 1, node.max_length, node.timeout_ms, node.digit_timeout_ms, secret=node.secret)


def _enter_condition(walk: _Walk, node: n.ConditionNode) -> str | Step:
    if _test(walk, node.test):
        walk.leave("then")
        return node.then
    walk.leave("else")
    return node.otherwise


def _enter_set(walk: _Walk, node: n.SetNode) -> str | Step:
    walk.update(variables={**walk.state.variables, **node.variables})
    for name, value in node.variables.items():
        walk.log("variable_set", name=name, value=value)
    walk.leave("next")
    return node.next


def _enter_http(walk: _Walk, node: n.HttpLookupNode) -> str | Step:
    context = walk.state.context
    values = {
        "interaction_id": context.interaction_id,
        "caller_number": context.caller_number,
        "caller_name": context.caller_name,
        "did": context.did,
    }
    url = render_url(node.url, values, walk.state.variables)
    walk.log("http_lookup", url=url)
    return walk.suspend(Phase.LOOKING_UP, HttpLookup(url, node.timeout_ms, node.fields))


def _enter_language(walk: _Walk, node: n.LanguageNode) -> str | Step:
    if node.language is not None:
        walk.update(language=node.language)
        walk.log("language", language=node.language)
        walk.leave("next")
        return node.next
    assert node.prompt is not None  # guaranteed by flow validation
    return walk.collect([node.prompt.file(walk.language)], 1, 1, node.timeout_ms)


def _enter_queue(walk: _Walk, node: n.QueueNode) -> str | Step:
    _service_reached(walk, "queue")
    state = walk.state
    action = Enqueue(node.queue, node.priority, state.priority_boost, node.skills, state.language, state.variables)
    return walk.suspend(Phase.DONE, action)


def _enter_voicemail(walk: _Walk, node: n.VoicemailNode) -> str | Step:
    _service_reached(walk, "voicemail", leave=False)
    if node.event_codes:
        assert node.event_prompt is not None  # guaranteed by flow validation
        walk.update(stage=Stage.EVENT_CODE)
        return walk.collect([node.event_prompt.file(walk.language)], 1, 1, 5000)
    return _greeting(walk, node)


def _greeting(walk: _Walk, node: n.VoicemailNode) -> Step:
    walk.update(stage=Stage.GREETING)
    return walk.suspend(Phase.PLAYING, playback(node.greeting.file(walk.language), BEEP))


def _enter_transfer(walk: _Walk, node: n.TransferNode) -> str | Step:
    _service_reached(walk, "transfer")
    return walk.suspend(Phase.DONE, Transfer(node.kind, node.target))


def _enter_hangup(walk: _Walk, node: n.HangupNode) -> str | Step:
    if node.prompt is not None:
        walk.update(stage=Stage.GOODBYE)
        return walk.suspend(Phase.PLAYING, playback(node.prompt.file(walk.language)))
    walk.leave("end")
    return walk.suspend(Phase.DONE, HangupCall(node.cause, "flow"))


_ENTER: Mapping[type, Callable[[_Walk, Any], str | Step]] = {
    n.PlayNode: _enter_play,
    n.MenuNode: _enter_menu,
    n.CollectNode: _enter_collect,
    n.ConditionNode: _enter_condition,
    n.SetNode: _enter_set,
    n.HttpLookupNode: _enter_http,
    n.LanguageNode: _enter_language,
    n.QueueNode: _enter_queue,
    n.VoicemailNode: _enter_voicemail,
    n.TransferNode: _enter_transfer,
    n.HangupNode: _enter_hangup,
}


def _service_reached(walk: _Walk, kind: str, *, leave: bool = True) -> None:
    """Record the request (for statistics and shortcuts); a voicemail node is left
    only once the message is recorded, the others at once."""
    walk.log("service", kind=kind)
    if walk.state.save_armed:
        walk.log("shortcut_saved")
    if leave:
        walk.leave("service")


# -- handling results ------------------------------------------------------------------


def _played(walk: _Walk, result: PlaybackFinished) -> Step:
    if walk.state.stage is Stage.REJECT:
        return walk.suspend(Phase.DONE, HangupCall("CALL_REJECTED", "blacklisted"))
    node = walk.flow.nodes[walk.state.node]
    if isinstance(node, n.PlayNode):
        walk.leave("next")
        return walk.goto(node.next)
    if isinstance(node, n.HangupNode):
        walk.leave("end")
        return walk.suspend(Phase.DONE, HangupCall(node.cause, "flow"))
    if isinstance(node, n.VoicemailNode):
        context = walk.state.context
        box = re.sub(r"[^A-Za-z0-9_.-]", "_", node.box)
        path = f"{context.voicemail_dir}/{box}/{context.interaction_id}.wav"
        walk.update(recording_path=path, recording_started=walk.at)
        return walk.suspend(Phase.RECORDING, record(path, node.max_seconds))
    raise IvrStateError(f"a playback finished at node {node.name!r}, which plays nothing")


def _digits(walk: _Walk, result: DigitsEntered) -> Step:
    node = walk.flow.nodes[walk.state.node]
    secret = isinstance(node, n.CollectNode) and node.secret
    if result.digits:
        walk.log("dtmf", digits="*" * len(result.digits) if secret else result.digits)
    if isinstance(node, n.MenuNode):
        if walk.state.stage is Stage.QUICK:
            return _quick_digits(walk, node, result.digits)
        return _menu_digits(walk, node, result.digits)
    if isinstance(node, n.CollectNode):
        return _collect_digits(walk, node, result.digits)
    if isinstance(node, n.LanguageNode):
        language = node.options.get(result.digits) or node.default or walk.flow.language
        walk.update(language=language)
        walk.log("language", language=language)
        walk.leave(result.digits if result.digits in node.options else "default")
        return walk.goto(node.next)
    if isinstance(node, n.VoicemailNode):
        code = node.event_codes.get(result.digits, "")
        walk.update(event_code=code)
        walk.log("event_code", code=code)
        return _greeting(walk, node)
    raise IvrStateError(f"digits arrived at node {node.name!r}, which collects none")


def _quick_digits(walk: _Walk, node: n.MenuNode, digits: str) -> Step:
    entries = walk.state.quick_entries
    if digits.isdigit() and 1 <= int(digits) <= len(entries):
        target = entries[int(digits) - 1]
        walk.log("quick_menu_used", target=target)
        walk.leave("quick")
        return walk.goto(target)
    walk.update(stage=Stage.MAIN)
    return _menu_prompt(walk, node, [])


def _menu_digits(walk: _Walk, node: n.MenuNode, digits: str) -> Step:
    shortcuts = walk.flow.shortcuts
    anchor = shortcuts is not None and shortcuts.menu == node.name
    if anchor and shortcuts is not None and shortcuts.save_prompt is not None and digits == shortcuts.save_digit:
        walk.update(save_armed=True)
        walk.log("shortcut_save_armed")
        return _menu_prompt(walk, node, [shortcuts.save_prompt.file(walk.language)])
    offered = walk.state.offered
    if anchor and shortcuts is not None and offered is not None and digits == shortcuts.offer_digit:
        walk.log("shortcut_used", target=offered)
        walk.leave("shortcut")
        return walk.goto(offered)
    if digits in node.options:
        walk.leave(digits)
        return walk.goto(node.options[digits])
    retry = node.invalid_prompt if digits else node.timeout_prompt
    return _retry(walk, node, digits, retry, node.on_failure, lambda prefix: _menu_prompt(walk, node, prefix))


def _collect_digits(walk: _Walk, node: n.CollectNode, digits: str) -> Step:
    length_ok = node.min_length <= len(digits) <= node.max_length
    if digits and length_ok and (node.pattern is None or re.fullmatch(node.pattern, digits)):
        walk.update(variables={**walk.state.variables, node.variable: digits})
        walk.log("variable_set", name=node.variable, value="*" * len(digits) if node.secret else digits)
        walk.leave("next")
        return walk.goto(node.next)
    retry = node.invalid_prompt if digits else None
    return _retry(walk, node, digits, retry, node.on_failure, lambda prefix: _collect_prompt(walk, node, prefix))


def _retry(
    walk: _Walk,
    node: n.MenuNode | n.CollectNode,
    digits: str,
    prompt: n.Prompt | None,
    on_failure: str,
    again: Callable[[list[str]], Step],
) -> Step:
    """Count a failed try; prompt again, or leave by ``on_failure`` after the last."""
    attempts = walk.state.attempts + 1
    walk.log("invalid_input" if digits else "no_input", attempt=attempts)
    if attempts >= node.retries:
        walk.leave("failure")
        return walk.goto(on_failure)
    walk.update(attempts=attempts)
    return again([prompt.file(walk.language)] if prompt is not None else [])


def _looked_up(walk: _Walk, result: HttpResponse) -> Step:
    node = walk.flow.nodes[walk.state.node]
    assert isinstance(node, n.HttpLookupNode)
    walk.log("http_result", ok=int(result.ok))
    if not result.ok:
        walk.leave("failure")
        return walk.goto(node.on_failure)
    found = {var: result.fields[key] for var, key in node.fields.items() if key in result.fields}
    walk.update(variables={**walk.state.variables, **found})
    for name, value in found.items():
        walk.log("variable_set", name=name, value=value)
    walk.leave("success")
    return walk.goto(node.next)


def _recorded(walk: _Walk, result: RecordingFinished | CallerHungUp) -> Step:
    """A voicemail ends when the recording stops or the caller hangs up: both keep it."""
    node = walk.flow.nodes[walk.state.node]
    assert isinstance(node, n.VoicemailNode)
    state = walk.state
    seconds = result.seconds if isinstance(result, RecordingFinished) else walk.at - state.recording_started
    walk.log("voicemail", box=node.box, code=state.event_code, seconds=round(seconds, 3))
    walk.leave("service")
    return walk.suspend(Phase.DONE, LeaveVoicemail(node.box, state.event_code, state.recording_path, seconds))


def _hung_up(walk: _Walk, result: CallerHungUp) -> Step:
    node = walk.state.node
    if node:
        walk.leave("hangup")
    walk.log("caller_hangup")
    return walk.suspend(Phase.DONE, CallerGone(node))


#: The transition table: (what we wait for, what arrived) -> handler.
TRANSITIONS: Mapping[tuple[Phase, type], Callable[[_Walk, Any], Step]] = {
    (Phase.PLAYING, PlaybackFinished): _played,
    (Phase.PLAYING, CallerHungUp): _hung_up,
    (Phase.COLLECTING, DigitsEntered): _digits,
    (Phase.COLLECTING, CallerHungUp): _hung_up,
    (Phase.LOOKING_UP, HttpResponse): _looked_up,
    (Phase.LOOKING_UP, CallerHungUp): _hung_up,
    (Phase.RECORDING, RecordingFinished): _recorded,
    (Phase.RECORDING, CallerHungUp): _recorded,
}


# -- helpers ---------------------------------------------------------------------------


def _caller_shortcut(flow: Flow, context: CallContext) -> str | None:
    """The caller's shortcut node, if this flow offers shortcuts and it is a service."""
    shortcut = context.shortcut
    if flow.shortcuts is None or shortcut is None:
        return None
    return shortcut.node if isinstance(flow.nodes.get(shortcut.node), n.SERVICE_TYPES) else None


def _label(walk: _Walk, node_name: str) -> str:
    node = walk.flow.nodes[node_name]
    assert isinstance(node, n.SERVICE_TYPES) and node.label is not None  # validated
    return node.label.file(walk.language)


def _test(walk: _Walk, test: n.Test) -> bool:
    context = walk.state.context
    if isinstance(test, n.BusinessHours | n.Holiday):
        calendar = context.calendars.get(test.calendar)
        if calendar is None:
            raise IvrStateError(f"call {context.interaction_id}: calendar {test.calendar!r} was not given to the IVR")
        at = datetime.fromtimestamp(walk.at, UTC)
        return is_open(calendar, at) if isinstance(test, n.BusinessHours) else is_holiday(calendar, at)
    if isinstance(test, n.CallerIn):
        if test.list_name == "customers":
            return context.customer is not None
        return context.caller_class.value == ("blacklisted" if test.list_name == "blacklist" else "vip")
    value = walk.state.variables.get(test.variable, "")
    if test.op == "equals":
        return value == test.values[0]
    if test.op == "matches":
        return re.fullmatch(test.values[0], value) is not None
    if test.op == "in":
        return value in test.values
    return value != ""
