"""Random callers through the sample flows: the machine stays consistent."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from routing.callers import CallerClass
from routing.ivr import (
    CallerHungUp,
    CallerShortcut,
    DigitsEntered,
    HttpResponse,
    Phase,
    PlaybackFinished,
    RecordingFinished,
    Result,
    Step,
    TimelineEntry,
    resume,
    start,
)
from routing.ivr_stats import node_stats
from routing.steps import (
    CallerGone,
    Enqueue,
    Execute,
    HangupCall,
    HttpLookup,
    LeaveVoicemail,
    Transfer,
)
from tests.routing.test_ivr import FLOW, SMALL_FLOW, context

KEYS = st.sampled_from(["", "0", "1", "2", "3", "9", "*", "7", "1234", "12345", "12"])


@st.composite
def result_for(draw: st.DrawFn, step: Step, at: float) -> Result:
    if draw(st.integers(0, 30)) == 0:
        return CallerHungUp(at)
    phase = step.state.phase
    if phase is Phase.PLAYING:
        return PlaybackFinished(at)
    if phase is Phase.COLLECTING:
        return DigitsEntered(draw(KEYS), at)
    if phase is Phase.LOOKING_UP:
        return HttpResponse(draw(st.booleans()), {"tier": draw(st.sampled_from(["gold", "bronze"]))}, at)
    return RecordingFinished(draw(st.floats(0, 90)), at)


def check_timeline(timeline: list[TimelineEntry]) -> None:
    """Nodes are entered and left in turn, left by the node last entered."""
    inside: str | None = None
    for entry in timeline:
        if entry.kind == "node_entered":
            assert inside is None, f"entered {entry.node} while still in {inside}"
            inside = entry.node
        elif entry.kind == "node_left":
            assert entry.node == inside
            assert float(entry.data["seconds"]) >= 0
            inside = None


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    small=st.booleans(),
    caller=st.sampled_from(list(CallerClass)),
    shortcut=st.sampled_from([None, "sales", "leave_message", "main_menu"]),
)
def test_random_callers(data: st.DataObject, small: bool, caller: CallerClass, shortcut: str | None) -> None:
    flow = SMALL_FLOW if small else FLOW
    ctx = context(
        caller_class=caller,
        shortcut=CallerShortcut(shortcut, saved=True) if shortcut else None,
        service_requests={"sales": 10, "support": 20},
    )
    step = start(flow, ctx)
    timeline = list(step.timeline)
    at = ctx.started_at
    variables: set[str] = set()
    for _ in range(60):
        if step.done:
            break
        assert isinstance(step.action, Execute | HttpLookup)
        if isinstance(step.action, Execute) and step.action.result_variable:
            assert step.action.result_variable not in variables
            variables.add(step.action.result_variable)
        at += data.draw(st.floats(0, 20))
        step = resume(flow, step.state, data.draw(result_for(step, at)))
        timeline += step.timeline
    if step.done:
        assert isinstance(step.action, Enqueue | Transfer | LeaveVoicemail | HangupCall | CallerGone)
    check_timeline(timeline)
    stats = node_stats(timeline)
    entered = [e.node for e in timeline if e.kind == "node_entered"]
    assert sum(s.visits for s in stats.values()) == len(entered)
    assert sum(s.hangups for s in stats.values()) <= 1
    for node, counters in stats.items():
        assert node in flow.nodes
        assert sum(counters.exits.values()) <= counters.visits
