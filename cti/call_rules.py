"""Which call-control action an agent may take on a call right now, and if not, why.

Pure: it reads the live :class:`~cti.interaction.Interaction` (what the switch's events
say), the agent's transfer session if one runs (:mod:`cti.transfer_states`) and whether
the recording is paused. :mod:`cti.call_control` asks :func:`refusal` before it sends
anything to the switch, and the desktop enables its buttons from :func:`availability`:
the same rules, so a button is never enabled for an action the server would refuse.

A refusal is a :class:`Refusal`: a stable kebab-case ``code`` (the desktop translates
it) and a sentence that says what to do instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from cti.call_states import FINAL, CallState
from cti.interaction import Interaction, Leg, LegRole
from cti.transfer_states import SessionEvent, SessionKind, SessionState, allows


class Action(Enum):
    HANGUP = "hangup"
    HOLD = "hold"
    RESUME = "resume"
    TRANSFER = "transfer"
    CONSULT = "consult"
    SWAP = "consult_swap"
    CONFERENCE = "conference"
    COMPLETE = "consult_complete"
    CANCEL = "consult_cancel"
    DTMF = "dtmf"
    RECORD_START = "record_start"
    RECORD_STOP = "record_stop"
    RECORD_PAUSE = "record_pause"
    RECORD_RESUME = "record_resume"


#: The session event each session action stands for.
SESSION_ACTIONS: Mapping[Action, SessionEvent] = {
    Action.SWAP: SessionEvent.SWAP,
    Action.CONFERENCE: SessionEvent.CONFERENCE,
    Action.COMPLETE: SessionEvent.COMPLETE,
    Action.CANCEL: SessionEvent.CANCEL,
}


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Session:
    """The transfer session of an interaction, as far as the rules need it."""

    kind: SessionKind
    state: SessionState
    agent_id: int          # who started it
    target: str            # agent:<id> or the number, for messages


@dataclass(frozen=True, slots=True)
class CallView:
    """One agent's view of one interaction."""

    interaction_id: str
    state: CallState
    my_leg: Leg | None
    serving: bool              # my leg is the one serving the customer
    customer_up: bool
    bridged: bool              # the customer is bridged to my leg now
    held: bool                 # put on hold with uuid_hold
    session: Session | None
    recording: bool            # a recording of the call is running
    recording_paused: bool
    recording_policy: str = "agent_choice"   # the queue's: always, never, agent_choice


def my_leg(ix: Interaction, agent_id: int) -> Leg | None:
    """The agent's live leg in ``ix`` (the serving one first), or None."""
    mine = [leg for leg in ix.legs.values()
            if leg.agent_id == agent_id and leg.up and leg.role in (LegRole.AGENT, LegRole.CONSULT)]
    mine.sort(key=lambda leg: leg.uuid != ix.serving_leg)
    return mine[0] if mine else None


def view_of(
    ix: Interaction, agent_id: int, session: Session | None = None, *, recording_paused: bool = False,
    recording: bool = False, recording_policy: str = "agent_choice",
) -> CallView:
    """``recording``: the recording service has one running (the switch's RECORD_START
    may not have arrived yet)."""
    leg = my_leg(ix, agent_id)
    serving = leg is not None and leg.uuid == ix.serving_leg
    customer = ix.customer
    return CallView(
        interaction_id=ix.id,
        state=ix.state,
        my_leg=leg,
        serving=serving,
        customer_up=customer is not None and customer.up,
        bridged=serving and ix.bridged,
        held=serving and ix.held,
        session=session,
        recording=recording or any(r.ended_at is None for r in ix.recordings),
        recording_paused=recording_paused,
        recording_policy=recording_policy,
    )


def _no(code: str, message: str) -> Refusal:
    return Refusal(code, message)


NOT_ON_CALL = _no("not-on-this-call", "You are not on this call.")
RINGING = _no("still-ringing", "Answer the call on your phone first.")
NOT_YOURS = _no("not-your-call", "Only the agent serving the customer can do this; you can hang up your own leg.")
ENDED = _no("call-ended", "The call has ended.")
CUSTOMER_GONE = _no("customer-gone", "The customer has hung up.")
IN_SESSION = _no("transfer-in-progress", "Finish the consultation first: complete, swap, conference or cancel it.")
NO_SESSION = _no("no-consultation", "There is no consultation on this call.")
OTHERS_SESSION = _no("not-your-consultation", "Another agent started this consultation.")


def refusal(view: CallView, action: Action) -> Refusal | None:
    """Why ``action`` cannot be done now, or None when it can."""
    leg = view.my_leg
    if leg is None:
        return NOT_ON_CALL
    if leg.answered_at is None:
        return None if action is Action.HANGUP else RINGING
    if action is Action.HANGUP:
        return _hangup(view)
    if view.state in FINAL:
        return ENDED
    if not view.serving:
        return NOT_YOURS
    if action in SESSION_ACTIONS:
        return _session_action(view, SESSION_ACTIONS[action])
    if action in _RECORDING_ACTIONS:
        return _recording(view, action)
    if not view.customer_up:
        return CUSTOMER_GONE
    if view.session is not None and action is not Action.DTMF:
        return IN_SESSION
    return _talking(view, action)


def _hangup(view: CallView) -> Refusal | None:
    if view.session is not None and view.serving and view.customer_up:
        return _no("transfer-in-progress", "Complete or cancel the consultation before hanging up.")
    return None


def _session_action(view: CallView, event: SessionEvent) -> Refusal | None:
    session = view.session
    if session is None:
        return NO_SESSION
    if not allows(session.kind, session.state, event):
        if session.state is SessionState.RINGING:
            return _no("target-ringing", f"{session.target} is still ringing; wait or cancel.")
        return _no("not-now", f"That is not possible while the consultation is {session.state.value}.")
    return None


_RECORDING_ACTIONS = (Action.RECORD_START, Action.RECORD_STOP, Action.RECORD_PAUSE, Action.RECORD_RESUME)


def _recording(view: CallView, action: Action) -> Refusal | None:
    if action in (Action.RECORD_START, Action.RECORD_STOP):
        if view.recording_policy != "agent_choice":
            return _no("recording-policy", f"This queue's recording policy is {view.recording_policy.replace('_', ' ')}; "
                                           "you cannot start or stop recordings here.")
        if action is Action.RECORD_START and view.recording:
            return _no("already-recording", "The call is already being recorded.")
        if action is Action.RECORD_START and not view.customer_up:
            return CUSTOMER_GONE
        if action is Action.RECORD_STOP and not view.recording:
            return _no("not-recording", "This call is not being recorded.")
        return None
    if not view.recording:
        return _no("not-recording", "This call is not being recorded.")
    if action is Action.RECORD_PAUSE and view.recording_paused:
        return _no("recording-paused", "The recording is already paused.")
    if action is Action.RECORD_RESUME and not view.recording_paused:
        return _no("recording-running", "The recording is not paused.")
    return None


def _talking(view: CallView, action: Action) -> Refusal | None:
    if action is Action.HOLD:
        if view.held:
            return _no("already-on-hold", "The call is already on hold.")
        if not view.bridged:
            return _no("not-connected", "The customer is not connected to you; resume the call first.")
        return None
    if action is Action.RESUME:
        if view.held or not view.bridged:
            return None
        return _no("not-on-hold", "The call is not on hold.")
    return None


def availability(view: CallView) -> dict[str, dict[str, str] | None]:
    """Every action -> None (allowed) or ``{"code", "message"}`` (why not): what the
    desktop shows on its buttons."""
    out: dict[str, dict[str, str] | None] = {}
    for action in Action:
        refused = refusal(view, action)
        out[action.value] = None if refused is None else {"code": refused.code, "message": refused.message}
    return out


__all__ = [
    "Action", "CallView", "ENDED", "NOT_ON_CALL", "Refusal", "SESSION_ACTIONS", "Session", "availability", "my_leg",
    "refusal", "view_of",
]
