"""Agents: the state of one agent and the pure function that moves it.

An :class:`Agent` is an immutable value; :func:`apply` takes one request or call fact
(an input such as :class:`Login`, :class:`Offered`, :class:`CallEnded` ...) and returns
the next value plus its effects: an ``agent.state_changed`` :class:`DomainEvent` for
every change of state or reason, and a :class:`StartWrapupTimer` when after-call work
with a time limit begins (the shell schedules it and later sends
:class:`WrapupTimeout`). Which transitions are legal lives in :mod:`cti.agent_states`.

The phone is a property of the login (hot-desking): :class:`Login` sets the extension
and dial string, logging out clears them. Call facts name the leg they are about; a
fact about a leg the agent is not following (a late event, an agent a supervisor
forced out) changes nothing, so the shell never has to filter them.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

from cti.agent_states import (
    FORCED,
    FROM_REQUEST,
    KEEP,
    LOGIN,
    RESTORED,
    SYSTEM_REASONS,
    AgentState,
    AgentTrigger,
    IllegalAgentTransition,
    move_for,
)
from cti.bus import DomainEvent

#: Not-ready reasons an agent may choose when the site configures none.
DEFAULT_REASON_CODES = frozenset({"break", "lunch", "meeting", "training", "coaching", "other"})

_EXTENSION = re.compile(r"[A-Za-z0-9_.+@-]{1,64}")
_DIAL_STRING = re.compile(r"[A-Za-z0-9_.+@/:=-]{1,200}")

A = AgentState
T = AgentTrigger


class AgentRequestError(ValueError):
    """A request with a bad argument (unknown reason code, malformed extension).

    ``error_id`` is the stable code the web desktop and the REST API answer with (they
    map it without reading the text), ``status`` the HTTP status that fits it and
    ``field`` the request field to correct, when there is one."""

    error_id = "invalid-agent-request"
    status = 422
    field: str | None = None


class ExtensionInUse(AgentRequestError):
    """Login refused: another logged-in agent holds the phone (one agent per extension).

    The live state knows agents only by internal id, so the refusal it raises names
    the phone, not the colleague; a layer that knows people (the web desktop and the
    REST API, :func:`webapp.agent_views.extension_holder`) builds it with
    ``holder_name`` ("Ann Lee (A01)"). ``holder`` is the colleague's agent id, never
    shown."""

    error_id = "extension-in-use"
    status = 409
    field = "extension"

    def __init__(self, extension: str, holder: int, holder_name: str = "") -> None:
        self.extension = extension
        self.holder = holder
        self.holder_name = holder_name
        who = holder_name or "another agent"
        super().__init__(f"extension {extension} is in use by {who}; use your own phone, or have that agent "
                         "logged out first")


@dataclass(frozen=True, slots=True)
class Agent:
    """One agent as the live state knows it (times are epoch seconds)."""

    id: int
    state: AgentState = AgentState.LOGGED_OUT
    reason: str = ""
    extension: str = ""
    dial_string: str = ""
    since: float = 0.0
    interaction_id: str | None = None   # the call ringing or in progress
    leg_uuid: str | None = None         # the agent's leg of that call
    direction: str = ""                 # inbound | outbound | internal while on a call
    wrapup_interaction: str | None = None
    wrapup_ends_at: float | None = None
    forced_by: str = ""


@dataclass(frozen=True, slots=True)
class StartWrapupTimer:
    """Effect: send :class:`WrapupTimeout` for this agent and interaction at ``ends_at``."""

    agent_id: int
    interaction_id: str
    seconds: float
    ends_at: float


AgentEffect = DomainEvent | StartWrapupTimer


# --- inputs -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Login:
    at: float
    extension: str
    ready: bool = False
    reason: str = LOGIN
    dial_string: str = ""


@dataclass(frozen=True, slots=True)
class Logout:
    at: float


@dataclass(frozen=True, slots=True)
class SetAvailable:
    at: float


@dataclass(frozen=True, slots=True)
class SetNotReady:
    at: float
    reason: str


@dataclass(frozen=True, slots=True)
class Offered:
    at: float
    interaction_id: str
    leg_uuid: str
    direction: str


@dataclass(frozen=True, slots=True)
class RingAnswered:
    at: float
    leg_uuid: str


@dataclass(frozen=True, slots=True)
class RingEnded:
    """The agent's phone stopped ringing without answer; ``outcome`` as in :class:`cti.calls.OfferOutcome`."""

    at: float
    leg_uuid: str
    outcome: str
    agent_at_fault: bool = True


@dataclass(frozen=True, slots=True)
class Hold:
    at: float
    leg_uuid: str


@dataclass(frozen=True, slots=True)
class Unhold:
    at: float
    leg_uuid: str


@dataclass(frozen=True, slots=True)
class ConsultStarted:
    at: float
    leg_uuid: str


@dataclass(frozen=True, slots=True)
class ConsultEnded:
    at: float
    leg_uuid: str
    held: bool


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The agent's leg ended. ``wrapup_seconds``: None = no limit, 0 = no wrap-up."""

    at: float
    leg_uuid: str
    wrapup_seconds: float | None


@dataclass(frozen=True, slots=True)
class CallAdopted:
    """Resync found the agent's leg already answered."""

    at: float
    interaction_id: str
    leg_uuid: str
    direction: str


@dataclass(frozen=True, slots=True)
class WrapupDone:
    at: float


@dataclass(frozen=True, slots=True)
class WrapupTimeout:
    at: float
    interaction_id: str


@dataclass(frozen=True, slots=True)
class ForceNotReady:
    at: float
    by: str
    reason: str = FORCED


@dataclass(frozen=True, slots=True)
class ForceLogout:
    at: float
    by: str


AgentInput = (
    Login | Logout | SetAvailable | SetNotReady | Offered | RingAnswered | RingEnded | Hold | Unhold
    | ConsultStarted | ConsultEnded | CallEnded | CallAdopted | WrapupDone | WrapupTimeout
    | ForceNotReady | ForceLogout
)

_LEG_FACTS = (RingAnswered, RingEnded, Hold, Unhold, ConsultStarted, ConsultEnded, CallEnded)
_RING_TRIGGERS = {
    "no_answer": T.RING_NO_ANSWER,
    "rejected": T.RING_NO_ANSWER,
    "unregistered": T.RING_UNREACHABLE,
    "failed": T.RING_UNREACHABLE,
    "caller_gone": T.RING_CANCELLED,
    "withdrawn": T.RING_CANCELLED,
}
_SIMPLE = {
    Logout: T.LOGOUT,
    SetAvailable: T.GO_AVAILABLE,
    SetNotReady: T.GO_NOT_READY,
    Offered: T.OFFER,
    RingAnswered: T.RING_ANSWERED,
    Hold: T.HOLD,
    Unhold: T.UNHOLD,
    ConsultStarted: T.CONSULT_START,
    CallAdopted: T.ADOPT_CALL,
    WrapupDone: T.WRAPUP_DONE,
    WrapupTimeout: T.WRAPUP_TIMEOUT,
    ForceNotReady: T.FORCE_NOT_READY,
    ForceLogout: T.FORCE_LOGOUT,
}


def trigger_of(event: AgentInput) -> AgentTrigger:
    """The table trigger an input stands for."""
    if isinstance(event, Login):
        return T.LOGIN_AVAILABLE if event.ready else T.LOGIN_NOT_READY
    if isinstance(event, RingEnded):
        if not event.agent_at_fault:
            return T.RING_CANCELLED
        try:
            return _RING_TRIGGERS[event.outcome]
        except KeyError:
            raise AgentRequestError(f"unknown ring outcome {event.outcome!r}") from None
    if isinstance(event, ConsultEnded):
        return T.CONSULT_END_HELD if event.held else T.CONSULT_END
    if isinstance(event, CallEnded):
        return T.CALL_ENDED_NO_WRAPUP if event.wrapup_seconds == 0 else T.CALL_ENDED
    return _SIMPLE[type(event)]


def apply(
    agent: Agent, event: AgentInput, *, reason_codes: Collection[str] = DEFAULT_REASON_CODES
) -> tuple[Agent, list[AgentEffect]]:
    """Apply one input; return the new agent and its effects.

    Raises:
        IllegalAgentTransition: the agent's state does not allow it (message for people).
        AgentRequestError: a malformed argument (unknown reason code, bad extension).
    """
    if _is_stale(agent, event):
        return agent, []
    trigger = trigger_of(event)
    move = move_for(agent.id, agent.state, trigger)
    _validate(agent, event, reason_codes)
    if move.reason == FROM_REQUEST:
        reason = getattr(event, "reason", "")
    elif move.reason == KEEP:
        reason = agent.reason
    else:
        reason = move.reason
    changed = move.target is not agent.state or reason != agent.reason
    updated = replace(_links_after(agent, event, trigger), state=move.target, reason=reason)
    if changed:
        forced_by = event.by if isinstance(event, ForceNotReady | ForceLogout) else ""
        updated = replace(updated, since=event.at, forced_by=forced_by)
    effects: list[AgentEffect] = []
    if changed:
        effects.append(state_changed(agent, updated, event.at))
    if updated.state is A.WRAP_UP and agent.state is not A.WRAP_UP and updated.wrapup_ends_at is not None:
        assert updated.wrapup_interaction is not None
        effects.append(
            StartWrapupTimer(updated.id, updated.wrapup_interaction, updated.wrapup_ends_at - event.at, updated.wrapup_ends_at)
        )
    return updated, effects


def _is_stale(agent: Agent, event: AgentInput) -> bool:
    """A fact about a leg or a wrap-up the agent no longer follows changes nothing."""
    if isinstance(event, _LEG_FACTS):
        return agent.leg_uuid != event.leg_uuid
    if isinstance(event, WrapupTimeout):
        return agent.state is not A.WRAP_UP or agent.wrapup_interaction != event.interaction_id
    return False


def _validate(agent: Agent, event: AgentInput, reason_codes: Collection[str]) -> None:
    if isinstance(event, Login):
        if not _EXTENSION.fullmatch(event.extension):
            raise AgentRequestError(
                f"agent {agent.id}: extension {event.extension!r} is not valid; use letters, digits and . _ + @ -"
            )
        if event.dial_string and not _DIAL_STRING.fullmatch(event.dial_string):
            raise AgentRequestError(f"agent {agent.id}: dial string {event.dial_string!r} is not valid")
        if event.ready:
            return
        allowed = {*reason_codes, LOGIN, RESTORED}
    elif isinstance(event, ForceNotReady):
        allowed = {*reason_codes, FORCED}
    elif isinstance(event, SetNotReady):
        allowed = set(reason_codes)
    else:
        return
    if event.reason not in allowed:
        codes = ", ".join(sorted(set(reason_codes) - SYSTEM_REASONS))
        raise AgentRequestError(f"agent {agent.id}: {event.reason!r} is not a not-ready reason; use one of: {codes}")


def _links_after(agent: Agent, event: AgentInput, trigger: AgentTrigger) -> Agent:
    """The agent's phone, call and wrap-up links once ``trigger`` is applied."""
    if isinstance(event, Login):
        return replace(agent, extension=event.extension, dial_string=event.dial_string or f"user/{event.extension}")
    if trigger in (T.LOGOUT, T.FORCE_LOGOUT):
        return Agent(id=agent.id, since=agent.since)
    if isinstance(event, Offered | CallAdopted):
        linked = replace(agent, interaction_id=event.interaction_id, leg_uuid=event.leg_uuid, direction=event.direction)
        # a resync that finds an agent in wrap-up already on a new call ends that wrap-up
        return replace(linked, wrapup_interaction=None, wrapup_ends_at=None) if agent.state is A.WRAP_UP else linked
    if isinstance(event, RingEnded) or trigger is T.CALL_ENDED_NO_WRAPUP:
        return replace(agent, interaction_id=None, leg_uuid=None, direction="")
    if isinstance(event, CallEnded):
        if agent.state not in (A.ON_CALL, A.ON_HOLD, A.IN_CONSULT):
            return replace(agent, interaction_id=None, leg_uuid=None, direction="")
        ends = None if event.wrapup_seconds is None else event.at + event.wrapup_seconds
        return replace(
            agent, interaction_id=None, leg_uuid=None, direction="",
            wrapup_interaction=agent.interaction_id, wrapup_ends_at=ends,
        )
    if agent.state is A.WRAP_UP and trigger in (T.WRAPUP_DONE, T.WRAPUP_TIMEOUT, T.GO_AVAILABLE, T.GO_NOT_READY, T.FORCE_NOT_READY):
        return replace(agent, wrapup_interaction=None, wrapup_ends_at=None)
    return agent


def state_changed(before: Agent, after: Agent, at: float) -> DomainEvent:
    """The ``agent.state_changed`` event for a move from ``before`` to ``after``."""
    data: dict[str, Any] = {
        "state": after.state.value,
        "previous_state": before.state.value,
        "reason": after.reason,
        "extension": after.extension or before.extension,
        "direction": after.direction,
        "forced_by": after.forced_by,
    }
    if after.state is A.WRAP_UP:
        data["wrapup"] = {"interaction_id": after.wrapup_interaction, "ends_at": after.wrapup_ends_at}
    interaction = (
        after.interaction_id or after.wrapup_interaction or before.interaction_id or before.wrapup_interaction
    )
    return DomainEvent(type="agent.state_changed", data=data, interaction_id=interaction, agent_id=after.id, at=at)


def is_busy(agent: Agent) -> bool:
    """True while the agent has a ringing or connected leg (reserved or on a call)."""
    return agent.state in (A.RESERVED, A.ON_CALL, A.ON_HOLD, A.IN_CONSULT)


__all__ = [
    "Agent", "AgentEffect", "AgentInput", "AgentRequestError", "CallAdopted", "CallEnded", "ExtensionInUse",
    "ConsultEnded", "ConsultStarted", "DEFAULT_REASON_CODES", "ForceLogout", "ForceNotReady", "Hold",
    "IllegalAgentTransition", "Login", "Logout", "Offered", "RingAnswered", "RingEnded",
    "SetAvailable", "SetNotReady", "StartWrapupTimer", "Unhold", "WrapupDone", "WrapupTimeout",
    "apply", "is_busy", "state_changed", "trigger_of",
]
