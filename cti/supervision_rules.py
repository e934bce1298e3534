"""Supervisor actions on live calls, as data: who may act on what (:class:`Scope`),
which action applies to a call in its state (:func:`refusal`), and the life of one
supervisor session (states, events and the one transition table :data:`TRANSITIONS`).
Pure: the shell (:mod:`cti.supervision`) turns the effects into ESL commands.

How FreeSWITCH really does it (mod_dptools ``eavesdrop``/``intercept``,
``switch_ivr_eavesdrop_session``; capture f for the events):

* A session is a call to the supervisor's own phone, originated with our variables
  (``cti_role=supervisor``, ``cti_supervisor_mode``, ``cti_target_uuid``,
  ``cti_interaction_id``) and ``&eavesdrop(<agent leg>)``. Eavesdrop reads the keys the
  supervisor leg *receives*: 0 = nobody hears the supervisor (listen), 2 = only the
  target leg, i.e. the agent (whisper), 3 = both (barge, three-way), 1 = only the far
  side. Every session starts in eavesdrop's default, listening; the requested mode's
  key is then queued on the leg with ``uuid_recv_dtmf`` once the eavesdrop runs, and a
  mode switch later is the same single key -- exactly what the supervisor's own keypad
  does, so both stay consistent. (``uuid_send_dtmf`` plays tones towards the phone and
  changes nothing; ``three_way`` ignores keys, so a session started with it could never
  switch, which is why barge is eavesdrop + 3.)
* Intercept is ``&intercept(<customer leg>)``: the switch answers and parks the
  customer, bridges it to the supervisor and hangs up whoever it was bridged to
  (PICKED_OFF). A supervisor already listening to the call is moved into intercept in
  place (``uuid_transfer <leg> intercept:<uuid> inline``): their phone does not ring
  again.
* Force hangup is ``uuid_kill`` of the customer leg, then of any other leg still up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum

from cti.call_states import LIVE, CallState
from cti.interaction import Interaction, Leg, LegRole, SupervisorMode

S = CallState
M = SupervisorMode


class Action(Enum):
    LISTEN = "listen"
    WHISPER = "whisper"
    BARGE = "barge"
    INTERCEPT = "intercept"
    HANGUP = "hangup"


#: The eavesdrop key that puts a leg monitoring the agent into each mode.
MODE_KEYS: Mapping[SupervisorMode, str] = {M.LISTEN: "0", M.WHISPER: "2", M.BARGE: "3"}
#: The monitoring mode each action asks for.
ACTION_MODES: Mapping[Action, SupervisorMode] = {
    Action.LISTEN: M.LISTEN, Action.WHISPER: M.WHISPER, Action.BARGE: M.BARGE,
}
#: Call states where someone serves the customer, so there is an agent to monitor.
MONITORABLE = frozenset({S.CONNECTED, S.ON_HOLD, S.CONSULTING})
#: Call states where a supervisor can take the customer: waiting, ringing an agent, or
#: with an agent.
INTERCEPTABLE = frozenset({S.QUEUED, S.OFFERING, S.CONNECTED, S.ON_HOLD, S.CONSULTING})
_SERVING_ROLES = frozenset({LegRole.AGENT, LegRole.CONSULT, LegRole.TRANSFER})


# --- who may act on what ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """What one user supervises: their queues (queue_supervisors), their teams
    (team_supervisors) and the agents of both (team members and members of their
    queues). Admins see everything."""

    user_id: int
    admin: bool = False
    queues: frozenset[str] = frozenset()
    teams: frozenset[int] = frozenset()
    agents: frozenset[int] = frozenset()

    def sees_queue(self, queue: str) -> bool:
        return self.admin or queue in self.queues

    def sees_agent(self, agent_id: int | None) -> bool:
        return self.admin or (agent_id is not None and agent_id in self.agents)

    def sees_call(self, queue: str, agent_ids: Iterable[int | None]) -> bool:
        """A call is in scope when it is in one of the user's queues or one of their
        agents is (or was) on it."""
        return self.admin or queue in self.queues or any(self.sees_agent(a) for a in agent_ids)

    def rooms(self) -> list[str]:
        """The Socket.IO rooms of this scope (the room contract of webapp/sockets.py)."""
        if self.admin:
            return ["site"]
        return [f"queue:{q}" for q in sorted(self.queues)] + [f"team:{t}" for t in sorted(self.teams)]


def call_agents(ix: Interaction) -> set[int | None]:
    """Every agent the call was offered to or handled by."""
    agents: set[int | None] = {ix.agent_id}
    agents.update(leg.agent_id for leg in ix.legs.values() if leg.role is not LegRole.SUPERVISOR)
    agents.update(offer.agent_id for offer in ix.offers)
    return agents - {None}


def sees(scope: Scope, ix: Interaction) -> bool:
    return scope.sees_call(ix.queue, call_agents(ix))


# --- which action applies to a call ----------------------------------------------------


def monitored_leg(ix: Interaction) -> Leg | None:
    """The leg a monitoring session eavesdrops on: the one serving the customer (the
    agent, or a colleague or number the call was transferred to), if it is up."""
    leg = ix.legs.get(ix.serving_leg) if ix.serving_leg else None
    if leg is None or not leg.up or leg.role not in _SERVING_ROLES:
        return None
    return leg


def customer_leg(ix: Interaction) -> Leg | None:
    leg = ix.customer
    return leg if leg is not None and leg.up else None


def refusal(action: Action, ix: Interaction) -> str | None:
    """Why ``action`` cannot apply to the call now (a sentence for the supervisor), or
    None when it can."""
    if ix.state not in LIVE:
        return "the call has already ended"
    if action is Action.HANGUP:
        return None
    if action is Action.INTERCEPT:
        if ix.state not in INTERCEPTABLE or customer_leg(ix) is None:
            return f"the call is {_described(ix.state)}; a call can be taken while it waits, rings or is with an agent"
        return None
    if ix.state not in MONITORABLE or monitored_leg(ix) is None:
        return f"the call is {_described(ix.state)}; listen, whisper and barge need an agent on the call"
    return None


def available(ix: Interaction) -> dict[str, str | None]:
    """Every action with its refusal (None = allowed): what the wallboard's buttons show."""
    return {action.value: refusal(action, ix) for action in Action}


def _described(state: CallState) -> str:
    return {
        S.DIALING: "still being dialled", S.IVR: "in the IVR", S.QUEUED: "waiting in a queue",
        S.OFFERING: "ringing an agent", S.CONNECTED: "with an agent", S.ON_HOLD: "on hold",
        S.CONSULTING: "on hold while the agent consults", S.CLEARING: "ending",
    }.get(state, state.value)


# --- one supervisor session --------------------------------------------------------------


class SessionKind(Enum):
    MONITOR = "monitor"        # eavesdrop: listen, whisper or barge
    INTERCEPT = "intercept"    # the supervisor took the customer over


class SessionState(Enum):
    RINGING = "ringing"        # originated; the supervisor's phone rings
    ACTIVE = "active"          # eavesdrop or intercept runs on the leg
    ENDED = "ended"


class SessionEvent(Enum):
    JOINED = "joined"          # CHANNEL_EXECUTE eavesdrop / intercept on the supervisor leg
    SWITCH = "switch"          # the supervisor asked for another monitoring mode
    TAKE_OVER = "take_over"    # the supervisor asked to intercept the call they monitor
    LEFT = "left"              # the supervisor leg hung up, or the originate failed


#: (state, event) -> next state. Anything missing is illegal.
TRANSITIONS: dict[tuple[SessionState, SessionEvent], SessionState] = {
    (SessionState.RINGING, SessionEvent.JOINED): SessionState.ACTIVE,
    (SessionState.ACTIVE, SessionEvent.JOINED): SessionState.ACTIVE,
    (SessionState.RINGING, SessionEvent.SWITCH): SessionState.RINGING,
    (SessionState.ACTIVE, SessionEvent.SWITCH): SessionState.ACTIVE,
    (SessionState.ACTIVE, SessionEvent.TAKE_OVER): SessionState.ACTIVE,
    (SessionState.RINGING, SessionEvent.LEFT): SessionState.ENDED,
    (SessionState.ACTIVE, SessionEvent.LEFT): SessionState.ENDED,
}

_HINTS: Mapping[tuple[SessionState, SessionEvent], str] = {
    (SessionState.RINGING, SessionEvent.TAKE_OVER): "answer your phone first, then take the call",
}


class IllegalSessionTransition(Exception):
    """An event the session's state (or kind) does not allow; the message says why."""

    def __init__(self, session: Session, event: SessionEvent, why: str = "") -> None:
        hint = why or _HINTS.get((session.state, event), f"the session is {session.state.value}")
        super().__init__(f"supervisor session {session.leg_uuid}: cannot {event.value}: {hint}")
        self.session = session
        self.event = event


@dataclass(frozen=True, slots=True)
class Session:
    """One supervisor leg on one interaction."""

    leg_uuid: str
    interaction_id: str
    node: str
    user_id: int
    extension: str
    target_uuid: str
    kind: SessionKind
    mode: SupervisorMode
    state: SessionState = SessionState.RINGING
    started_at: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {
            "leg_uuid": self.leg_uuid, "interaction_id": self.interaction_id, "user_id": self.user_id,
            "extension": self.extension, "target_uuid": self.target_uuid, "kind": self.kind.value,
            "mode": self.mode.value, "state": self.state.value, "started_at": self.started_at,
        }


@dataclass(frozen=True, slots=True)
class SendKey:
    """Queue ``key`` on the supervisor leg as received DTMF (``uuid_recv_dtmf``)."""

    leg_uuid: str
    key: str


@dataclass(frozen=True, slots=True)
class SetMode:
    """Record the mode on the leg (``uuid_setvar cti_supervisor_mode``), so a restarted
    middleware reading the channel sees the current mode."""

    leg_uuid: str
    mode: SupervisorMode


@dataclass(frozen=True, slots=True)
class TakeOver:
    """Move the supervisor leg from eavesdrop into ``intercept`` of the customer leg."""

    leg_uuid: str
    customer_uuid: str


Effect = SendKey | SetMode | TakeOver


def new_session(
    *, leg_uuid: str, interaction_id: str, node: str, user_id: int, extension: str, target_uuid: str,
    action: Action, at: float,
) -> Session:
    """The session an action starts (ringing the supervisor's phone)."""
    if action is Action.HANGUP:
        raise ValueError("a force hangup starts no session")
    kind = SessionKind.INTERCEPT if action is Action.INTERCEPT else SessionKind.MONITOR
    mode = M.INTERCEPT if kind is SessionKind.INTERCEPT else ACTION_MODES[action]
    return Session(leg_uuid, interaction_id, node, user_id, extension, target_uuid, kind, mode, started_at=at)


def transition(
    session: Session, event: SessionEvent, *, mode: SupervisorMode | None = None, customer_uuid: str = "",
) -> tuple[Session, list[Effect]]:
    """Apply ``event``; return the new session and the effects for the shell to run.

    Args:
        mode: the requested mode, for :attr:`SessionEvent.SWITCH`.
        customer_uuid: the customer leg, for :attr:`SessionEvent.TAKE_OVER`.
    Raises:
        IllegalSessionTransition: the event is not allowed now (nothing changed).
    """
    state = TRANSITIONS.get((session.state, event))
    if state is None:
        raise IllegalSessionTransition(session, event)
    if session.kind is SessionKind.INTERCEPT and event in (SessionEvent.SWITCH, SessionEvent.TAKE_OVER):
        raise IllegalSessionTransition(session, event, "you have taken this call over; there is nothing to switch")
    moved = replace(session, state=state)
    if event is SessionEvent.JOINED:
        joined_now = session.state is SessionState.RINGING and session.kind is SessionKind.MONITOR
        return moved, [SendKey(session.leg_uuid, MODE_KEYS[session.mode])] if joined_now and session.mode is not M.LISTEN else []
    if event is SessionEvent.SWITCH:
        return _switch(moved, mode)
    if event is SessionEvent.TAKE_OVER:
        if not customer_uuid:
            raise IllegalSessionTransition(session, event, "the customer has left the call")
        taken = replace(moved, kind=SessionKind.INTERCEPT, mode=M.INTERCEPT, target_uuid=customer_uuid)
        return taken, [SetMode(session.leg_uuid, M.INTERCEPT), TakeOver(session.leg_uuid, customer_uuid)]
    return moved, []


def _switch(session: Session, mode: SupervisorMode | None) -> tuple[Session, list[Effect]]:
    if mode is None or mode not in MODE_KEYS:
        raise ValueError(f"switch to listen, whisper or barge, not {mode}")
    if mode is session.mode:
        return session, []
    switched = replace(session, mode=mode)
    if session.state is SessionState.RINGING:   # the key goes out when the eavesdrop starts
        return switched, [SetMode(session.leg_uuid, mode)]
    return switched, [SendKey(session.leg_uuid, MODE_KEYS[mode]), SetMode(session.leg_uuid, mode)]
