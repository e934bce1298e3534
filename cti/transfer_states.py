"""Consultations and transfers driven by an agent: every state, every transition and
the switch operations each one needs, in one table (the h11 ``_state.py`` idea).

A *session* starts when an agent consults a colleague or transfers the customer to
another agent or a number. Three parties take part: ``customer`` (the caller's leg),
``agent`` (the leg of the agent who started it) and ``target`` (the colleague's or the
number's leg, originated by :mod:`cti.call_control`). The shell sends the
:data:`START` operations, then feeds :class:`SessionEvent` s in and runs the operations
:func:`step` returns; a pair missing from :data:`TRANSITIONS` raises
:class:`IllegalSessionStep` with a sentence for the agent.

Why the operations look like this (FreeSWITCH 1.10/1.11, ``switch_ivr_bridge.c``):

* When a ``uuid_bridge`` moves one leg of a bridge elsewhere, the leg left behind
  hangs up (the customer because our dialplan sets ``hangup_after_bridge``, a peer leg
  always) unless it has ``park_after_bridge=true``, which parks it instead. So every
  leg that must survive a move is marked first (:class:`SetVar`), and the marks are
  removed when the session ends (:data:`RESTORE`), or a later hangup would park a
  caller instead of ending the call.
* ``uuid_transfer <customer> park inline`` takes the customer out of the bridge and
  parks it (the tracker notes "parked", not a transfer); music on hold is then a
  ``uuid_broadcast`` on the parked leg (:class:`Music`), stopped by the next bridge.
* The target is originated with ``park_after_bridge=true`` (:data:`TARGET_VARIABLES`):
  an agent who hangs up in the middle of a consultation hands the customer over to the
  colleague (as PBXs do) instead of dropping the colleague and stranding the customer.
* A three-party conference uses ``three_way`` (mod_dptools, loaded by our
  ``freeswitch-conf``; mod_conference is not): the target leg, parked, joins the
  customer's bridge with the agent.
* A transfer is only recorded as one by the call model while the agent's leg is still
  up when the customer is bridged to the target, so the agent's leg is hung up after
  that bridge (:class:`AwaitBridge`, then :class:`Kill`), never before.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

Party = Literal["customer", "agent", "target"]


class SessionKind(Enum):
    CONSULT = "consult"    # the agent talks to the target before deciding
    BLIND = "blind"        # the customer goes to the target as soon as it answers


class SessionState(Enum):
    RINGING = "ringing"        # the target's phone rings; customer and agent parked
    HANDOVER = "handover"      # the agent left while it rang: the customer goes to the target
    TALKING = "talking"        # the agent talks to the target; the customer waits
    SWAPPED = "swapped"        # the agent talks to the customer; the target waits
    CONFERENCE = "conference"  # all three talk
    ENDED = "ended"


class SessionEvent(Enum):
    ANSWERED = "answered"            # the target answered
    FAILED = "failed"                # the target never answered (or could not be called)
    SWAP = "swap"
    CONFERENCE = "conference"
    COMPLETE = "complete"            # hand the customer to the target, the agent leaves
    CANCEL = "cancel"                # drop the target, back to the customer
    TARGET_GONE = "target_gone"      # the target hung up
    CUSTOMER_GONE = "customer_gone"  # the customer hung up
    AGENT_GONE = "agent_gone"        # the agent's phone hung up


# --- operations (run by the shell, in order) -------------------------------------------


@dataclass(frozen=True, slots=True)
class SetVar:
    """``uuid_setvar``; an empty value unsets the variable."""

    party: Party
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Park:
    """``uuid_transfer <party> park inline``: out of its bridge, parked."""

    party: Party


@dataclass(frozen=True, slots=True)
class AwaitPark:
    """Wait (bounded) for the party's ``CHANNEL_PARK`` before going on."""

    party: Party


@dataclass(frozen=True, slots=True)
class Music:
    """Music on hold (``local_stream://moh``) or ringback on a parked party."""

    party: Party
    ringback: bool = False


@dataclass(frozen=True, slots=True)
class Bridge:
    """``uuid_bridge a b`` (``a`` is the originator: it fires CHANNEL_BRIDGE)."""

    a: Party
    b: Party


@dataclass(frozen=True, slots=True)
class AwaitBridge:
    """Wait (bounded) for ``party``'s ``CHANNEL_BRIDGE`` before going on."""

    party: Party


@dataclass(frozen=True, slots=True)
class Kill:
    """``uuid_kill``; a leg already gone is not an error."""

    party: Party
    cause: str = "NORMAL_CLEARING"


@dataclass(frozen=True, slots=True)
class Unhold:
    """``uuid_hold off`` (the agent's leg may be held when a session starts)."""

    party: Party


@dataclass(frozen=True, slots=True)
class Break:
    """``uuid_break all``: stop the music on a waiting party."""

    party: Party


@dataclass(frozen=True, slots=True)
class ThreeWay:
    """``sendmsg <party> execute three_way <target's uuid>``."""

    party: Party
    target: Party


Operation = SetVar | Park | AwaitPark | Music | Bridge | AwaitBridge | Kill | Unhold | Break | ThreeWay

PARK_AFTER_BRIDGE = "park_after_bridge"

#: Channel variables the target leg is originated with (see the module docstring).
TARGET_VARIABLES: dict[str, str] = {PARK_AFTER_BRIDGE: "true"}


def _bridge(a: Party, b: Party) -> tuple[Operation, ...]:
    """Bridge and wait until the switch did it (``a`` fires CHANNEL_BRIDGE): the next
    step must start from a settled call, or two moves of one leg could cross."""
    return (Bridge(a, b), AwaitBridge(a))


def _survive(*parties: Party) -> tuple[Operation, ...]:
    return tuple(SetVar(p, PARK_AFTER_BRIDGE, "true") for p in parties)


#: Before the target is originated: both customer and agent survive the moves to come,
#: the customer leaves the bridge and hears music. ``Unhold`` is added by the shell
#: when the agent's leg is held.
START: tuple[Operation, ...] = (
    *_survive("customer", "agent"),
    Park("customer"),
    AwaitPark("customer"),
    Music("customer"),
)

#: Once the agent's leg is parked: ringback while the target rings.
START_RINGBACK: tuple[Operation, ...] = (AwaitPark("agent"), Music("agent", ringback=True))

#: When a session ends with the customer still talking to someone: normal hangup rules
#: again (a caller whose agent hangs up is hung up, not parked). Sent right after the
#: last bridge; a hangup in that instant is caught by the shell (a leg that parks after
#: the customer left is hung up).
RESTORE: tuple[Operation, ...] = (
    SetVar("customer", PARK_AFTER_BRIDGE, ""),
    SetVar("agent", PARK_AFTER_BRIDGE, ""),
    SetVar("target", PARK_AFTER_BRIDGE, ""),
)

#: Hand the customer to the target; the agent's leg, left parked by the move (it still
#: has park_after_bridge), is hung up once the new bridge is seen.
_COMPLETE: tuple[Operation, ...] = (
    *_bridge("customer", "target"),
    *RESTORE,
    Kill("agent"),
)

#: Back to the customer: the target goes, the customer and the agent are bridged again.
_RECALL: tuple[Operation, ...] = (*_bridge("customer", "agent"), *RESTORE)
_DROP_TARGET: tuple[Operation, ...] = (Kill("target"), AwaitPark("agent"), *_RECALL)
_CUSTOMER_GONE_WAITING: tuple[Operation, ...] = (Kill("target", "ORIGINATOR_CANCEL"), Kill("agent"))
#: The agent left: the customer goes to the target (already answered).
_HAND_OVER: tuple[Operation, ...] = (*_bridge("customer", "target"), *RESTORE)

S = SessionState
E = SessionEvent
K = SessionKind

Key = tuple[SessionKind, SessionState, SessionEvent]


def _both(state: SessionState, event: SessionEvent, target: SessionState, ops: tuple[Operation, ...]) -> dict[Key, tuple[SessionState, tuple[Operation, ...]]]:
    return {(kind, state, event): (target, ops) for kind in SessionKind}


#: (kind, state, event) -> (next state, operations). Anything missing is illegal.
TRANSITIONS: dict[Key, tuple[SessionState, tuple[Operation, ...]]] = {
    (K.CONSULT, S.RINGING, E.ANSWERED): (S.TALKING, _bridge("agent", "target")),
    (K.BLIND, S.RINGING, E.ANSWERED): (S.ENDED, _COMPLETE),
    **_both(S.RINGING, E.FAILED, S.ENDED, _RECALL),
    **_both(S.RINGING, E.TARGET_GONE, S.ENDED, _RECALL),
    **_both(S.RINGING, E.CANCEL, S.ENDED, (Kill("target", "ORIGINATOR_CANCEL"), *_RECALL)),
    **_both(S.RINGING, E.CUSTOMER_GONE, S.ENDED, _CUSTOMER_GONE_WAITING),
    **_both(S.RINGING, E.AGENT_GONE, S.HANDOVER, ()),
    **_both(S.HANDOVER, E.ANSWERED, S.ENDED, _HAND_OVER),
    # nobody is left to take the customer: end the call rather than leave it parked
    **_both(S.HANDOVER, E.FAILED, S.ENDED, (Kill("customer"),)),
    **_both(S.HANDOVER, E.TARGET_GONE, S.ENDED, (Kill("customer"),)),
    **_both(S.HANDOVER, E.CUSTOMER_GONE, S.ENDED, (Kill("target", "ORIGINATOR_CANCEL"),)),
    (K.CONSULT, S.TALKING, E.SWAP): (
        S.SWAPPED, (*_bridge("agent", "customer"), AwaitPark("target"), Music("target")),
    ),
    (K.CONSULT, S.SWAPPED, E.SWAP): (
        S.TALKING, (Break("target"), *_bridge("agent", "target"), AwaitPark("customer"), Music("customer")),
    ),
    (K.CONSULT, S.TALKING, E.CONFERENCE): (
        S.CONFERENCE, (*_bridge("agent", "customer"), AwaitPark("target"), ThreeWay("target", "customer")),
    ),
    (K.CONSULT, S.SWAPPED, E.CONFERENCE): (S.CONFERENCE, (Break("target"), ThreeWay("target", "customer"))),
    (K.CONSULT, S.TALKING, E.COMPLETE): (S.ENDED, _COMPLETE),
    (K.CONSULT, S.SWAPPED, E.COMPLETE): (S.ENDED, (Break("target"), *_COMPLETE)),
    (K.CONSULT, S.CONFERENCE, E.COMPLETE): (S.ENDED, _COMPLETE),
    (K.CONSULT, S.TALKING, E.CANCEL): (S.ENDED, _DROP_TARGET),
    (K.CONSULT, S.SWAPPED, E.CANCEL): (S.ENDED, (Kill("target"), *RESTORE)),
    (K.CONSULT, S.CONFERENCE, E.CANCEL): (S.ENDED, (Kill("target"), *RESTORE)),
    (K.CONSULT, S.TALKING, E.TARGET_GONE): (S.ENDED, (AwaitPark("agent"), *_RECALL)),
    (K.CONSULT, S.SWAPPED, E.TARGET_GONE): (S.ENDED, RESTORE),
    (K.CONSULT, S.CONFERENCE, E.TARGET_GONE): (S.ENDED, RESTORE),
    (K.CONSULT, S.TALKING, E.CUSTOMER_GONE): (S.ENDED, RESTORE),
    (K.CONSULT, S.SWAPPED, E.CUSTOMER_GONE): (S.ENDED, (Kill("target"), Kill("agent"))),
    (K.CONSULT, S.CONFERENCE, E.CUSTOMER_GONE): (S.ENDED, (Kill("target"), Kill("agent"))),
    (K.CONSULT, S.TALKING, E.AGENT_GONE): (S.ENDED, (AwaitPark("target"), *_HAND_OVER)),
    (K.CONSULT, S.SWAPPED, E.AGENT_GONE): (S.ENDED, (AwaitPark("customer"), Break("target"), *_HAND_OVER)),
    (K.CONSULT, S.CONFERENCE, E.AGENT_GONE): (S.ENDED, (AwaitPark("customer"), *_HAND_OVER)),
}

_WHAT = {
    E.ANSWERED: "connect the target",
    E.FAILED: "give up on the target",
    E.SWAP: "swap between the customer and the colleague",
    E.CONFERENCE: "start a conference",
    E.COMPLETE: "complete the transfer",
    E.CANCEL: "cancel",
    E.TARGET_GONE: "lose the target",
    E.CUSTOMER_GONE: "lose the customer",
    E.AGENT_GONE: "lose the agent",
}

_WHILE = {
    S.RINGING: "while the target is still ringing",
    S.HANDOVER: "after you left the call",
    S.TALKING: "while you talk to the colleague",
    S.SWAPPED: "while the colleague waits",
    S.CONFERENCE: "during the conference",
    S.ENDED: "after the transfer ended",
}


class IllegalSessionStep(Exception):
    """The session's state does not allow the event; the message is for the agent."""

    def __init__(self, kind: SessionKind, state: SessionState, event: SessionEvent) -> None:
        noun = "a consultation" if kind is K.CONSULT else "a transfer"
        super().__init__(f"cannot {_WHAT[event]} {_WHILE[state]} in {noun}")
        self.kind = kind
        self.state = state
        self.event = event


def step(kind: SessionKind, state: SessionState, event: SessionEvent) -> tuple[SessionState, tuple[Operation, ...]]:
    """The next state and the operations to run, or :class:`IllegalSessionStep`."""
    try:
        return TRANSITIONS[(kind, state, event)]
    except KeyError:
        raise IllegalSessionStep(kind, state, event) from None


def allows(kind: SessionKind, state: SessionState, event: SessionEvent) -> bool:
    return (kind, state, event) in TRANSITIONS


def start_operations(*, agent_held: bool) -> tuple[Operation, ...]:
    """What to run before the target is originated (the agent's leg may be held)."""
    unhold: tuple[Operation, ...] = (Unhold("agent"),) if agent_held else ()
    return (*START, *unhold, *START_RINGBACK)


__all__ = [
    "AwaitBridge", "AwaitPark", "Break", "Bridge", "IllegalSessionStep", "Kill", "Music", "Operation", "Park",
    "Party", "RESTORE", "TARGET_VARIABLES", "SessionEvent", "SessionKind", "SessionState", "SetVar", "TRANSITIONS", "ThreeWay",
    "Unhold", "allows", "start_operations", "step",
]
