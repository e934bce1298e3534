"""Every agent state and every legal agent transition, in one table.

This module is the single place that says what an agent may do in which state (the
h11 ``_state.py`` idea). :mod:`cti.agents` turns requests and call facts into a
trigger, looks the pair up in :data:`TRANSITIONS` and raises
:class:`IllegalAgentTransition` (with a sentence a person can act on) for anything
missing.

A :class:`Move` says where the trigger leads and which reason the new state carries:
a fixed system reason (``missed`` after a ring with no answer), the reason given with
the request (``FROM_REQUEST``: break, lunch ...), the reason the agent already has
(``KEEP``), or none. A move to the state the agent
is already in with the same reason changes nothing and publishes nothing; the table
uses such moves on purpose for call facts that reach an agent a supervisor has already
forced out of the call flow (the call goes on, the agent stays where the supervisor
put them).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class AgentState(Enum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    NOT_READY = "not_ready"
    RESERVED = "reserved"        # a call rings on the agent's phone
    ON_CALL = "on_call"
    ON_HOLD = "on_hold"          # on_call, the customer is held
    IN_CONSULT = "in_consult"    # on_call, talking to a colleague
    WRAP_UP = "wrap_up"          # after-call work


class AgentTrigger(Enum):
    LOGIN_AVAILABLE = "login_available"
    LOGIN_NOT_READY = "login_not_ready"
    LOGOUT = "logout"
    GO_AVAILABLE = "go_available"
    GO_NOT_READY = "go_not_ready"
    OFFER = "offer"
    RING_ANSWERED = "ring_answered"
    RING_NO_ANSWER = "ring_no_answer"        # no answer or rejected: RONA
    RING_UNREACHABLE = "ring_unreachable"    # phone not registered or the call failed
    RING_CANCELLED = "ring_cancelled"        # caller gone or the offer was withdrawn
    HOLD = "hold"
    UNHOLD = "unhold"
    CONSULT_START = "consult_start"
    CONSULT_END = "consult_end"
    CONSULT_END_HELD = "consult_end_held"
    CALL_ENDED = "call_ended"                # the agent's leg ended: wrap-up follows
    CALL_ENDED_NO_WRAPUP = "call_ended_no_wrapup"
    ADOPT_CALL = "adopt_call"                # resync found the agent already on a call
    WRAPUP_DONE = "wrapup_done"
    WRAPUP_TIMEOUT = "wrapup_timeout"
    FORCE_NOT_READY = "force_not_ready"
    FORCE_LOGOUT = "force_logout"


#: System reasons the machine sets itself; agents choose from the configured codes.
MISSED = "missed"
UNREACHABLE = "unreachable"
LOGIN = "login"
RESTORED = "restored"        # logged in again by the middleware after a restart
FORCED = "forced"
SYSTEM_REASONS = frozenset({MISSED, UNREACHABLE, LOGIN, RESTORED, FORCED})

#: Marker for "the reason given with the request".
FROM_REQUEST = "<from request>"
#: Marker for "keep the reason the agent already has".
KEEP = "<keep>"


@dataclass(frozen=True, slots=True)
class Move:
    target: AgentState
    reason: str = ""


class IllegalAgentTransition(Exception):
    """The agent cannot do this now; the message says why, for logs and for the agent."""

    def __init__(self, agent_id: int, state: AgentState, trigger: AgentTrigger, message: str = "") -> None:
        super().__init__(message or describe(agent_id, state, trigger))
        self.agent_id = agent_id
        self.state = state
        self.trigger = trigger


A = AgentState
T = AgentTrigger
_ON_CALL = (A.ON_CALL, A.ON_HOLD, A.IN_CONSULT)
#: States a supervisor may have forced an agent into while a leg of theirs is up.
_FORCED_AWAY = (A.NOT_READY, A.LOGGED_OUT)


def _stay(trigger: AgentTrigger, *states: AgentState) -> dict[tuple[AgentState, AgentTrigger], Move]:
    return {(state, trigger): Move(state, KEEP) for state in states}


def _all(trigger: AgentTrigger, states: tuple[AgentState, ...], move: Move) -> dict[tuple[AgentState, AgentTrigger], Move]:
    return {(state, trigger): move for state in states}


#: (state, trigger) -> move. Anything missing is illegal. ``_stay`` entries keep the
#: state and the reason the agent already has.
TRANSITIONS: dict[tuple[AgentState, AgentTrigger], Move] = {
    (A.LOGGED_OUT, T.LOGIN_AVAILABLE): Move(A.AVAILABLE),
    (A.LOGGED_OUT, T.LOGIN_NOT_READY): Move(A.NOT_READY, FROM_REQUEST),
    **_all(T.LOGOUT, (A.AVAILABLE, A.NOT_READY, A.WRAP_UP), Move(A.LOGGED_OUT)),
    **_all(T.GO_AVAILABLE, (A.NOT_READY, A.WRAP_UP), Move(A.AVAILABLE)),
    **_all(T.GO_NOT_READY, (A.AVAILABLE, A.NOT_READY, A.WRAP_UP), Move(A.NOT_READY, FROM_REQUEST)),
    (A.AVAILABLE, T.OFFER): Move(A.RESERVED),
    (A.RESERVED, T.RING_ANSWERED): Move(A.ON_CALL),
    **_stay(T.RING_ANSWERED, *_FORCED_AWAY),
    (A.RESERVED, T.RING_NO_ANSWER): Move(A.NOT_READY, MISSED),
    **_stay(T.RING_NO_ANSWER, *_FORCED_AWAY),
    (A.RESERVED, T.RING_UNREACHABLE): Move(A.NOT_READY, UNREACHABLE),
    **_stay(T.RING_UNREACHABLE, *_FORCED_AWAY),
    (A.RESERVED, T.RING_CANCELLED): Move(A.AVAILABLE),
    **_stay(T.RING_CANCELLED, *_FORCED_AWAY),
    (A.ON_CALL, T.HOLD): Move(A.ON_HOLD),
    **_stay(T.HOLD, A.ON_HOLD, A.IN_CONSULT, *_FORCED_AWAY),
    (A.ON_HOLD, T.UNHOLD): Move(A.ON_CALL),
    **_stay(T.UNHOLD, A.ON_CALL, A.IN_CONSULT, *_FORCED_AWAY),
    **_all(T.CONSULT_START, (A.ON_CALL, A.ON_HOLD), Move(A.IN_CONSULT)),
    **_stay(T.CONSULT_START, A.IN_CONSULT, *_FORCED_AWAY),
    (A.IN_CONSULT, T.CONSULT_END): Move(A.ON_CALL),
    **_stay(T.CONSULT_END, *_FORCED_AWAY),
    (A.IN_CONSULT, T.CONSULT_END_HELD): Move(A.ON_HOLD),
    **_stay(T.CONSULT_END_HELD, *_FORCED_AWAY),
    **_all(T.CALL_ENDED, _ON_CALL, Move(A.WRAP_UP)),
    **_stay(T.CALL_ENDED, *_FORCED_AWAY),
    **_all(T.CALL_ENDED_NO_WRAPUP, _ON_CALL, Move(A.AVAILABLE)),
    **_stay(T.CALL_ENDED_NO_WRAPUP, *_FORCED_AWAY),
    **_all(T.ADOPT_CALL, (A.AVAILABLE, A.NOT_READY, A.RESERVED, A.WRAP_UP), Move(A.ON_CALL)),
    **_stay(T.ADOPT_CALL, *_ON_CALL),
    (A.WRAP_UP, T.WRAPUP_DONE): Move(A.AVAILABLE),
    (A.WRAP_UP, T.WRAPUP_TIMEOUT): Move(A.AVAILABLE),
    **_all(T.FORCE_NOT_READY, tuple(s for s in A if s is not A.LOGGED_OUT), Move(A.NOT_READY, FROM_REQUEST)),
    **_all(T.FORCE_LOGOUT, tuple(s for s in A if s is not A.LOGGED_OUT), Move(A.LOGGED_OUT)),
    **_stay(T.FORCE_LOGOUT, A.LOGGED_OUT),
}

_WANTS = {
    T.LOGIN_AVAILABLE: "log in",
    T.LOGIN_NOT_READY: "log in",
    T.LOGOUT: "log out",
    T.GO_AVAILABLE: "go available",
    T.GO_NOT_READY: "go not_ready",
    T.OFFER: "be offered a call",
    T.WRAPUP_DONE: "finish wrap-up",
    T.WRAPUP_TIMEOUT: "time out of wrap-up",
    T.FORCE_NOT_READY: "be forced not_ready",
    T.ADOPT_CALL: "be put on a call",
}


def describe(agent_id: int, state: AgentState, trigger: AgentTrigger) -> str:
    """The sentence an illegal transition carries, e.g. ``agent 7 cannot go available while on_call``."""
    wants = _WANTS.get(trigger, trigger.value.replace("_", " "))
    return f"agent {agent_id} cannot {wants} while {state.value}"


def move_for(agent_id: int, state: AgentState, trigger: AgentTrigger) -> Move:
    """The table's move, or :class:`IllegalAgentTransition`."""
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise IllegalAgentTransition(agent_id, state, trigger) from None


def allows(state: AgentState, trigger: AgentTrigger) -> bool:
    return (state, trigger) in TRANSITIONS
