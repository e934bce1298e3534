"""The data of one simulated channel, as FreeSWITCH keeps it (no I/O, no gevent).

A FreeSWITCH channel carries two state fields that its events report separately:
``Channel-State`` is the *running* state (what the state machine thread is executing)
and ``Channel-State-Number`` is the *requested* state (``channel->state``); the real
captures show them disagreeing all the time (``CHANNEL_CREATE`` says ``CS_INIT`` / 2).
:class:`Channel` keeps both, plus the call state, the answer state, the caller profile
and the ordered channel variables that every extended event dumps.

Call-state changes are the one transition table of this module
(:data:`CALLSTATE_TRANSITIONS`): :func:`next_callstate` is the pure transition
function the shell uses before it emits ``CHANNEL_CALLSTATE``; an impossible change
(answering a channel that already hung up) raises :class:`IllegalTransition`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace


class IllegalTransition(Exception):
    """A call-state change FreeSWITCH would never make (a bug in the simulator)."""


class CS(enum.Enum):
    """``switch_channel_state_t``; the value is the number FreeSWITCH prints."""

    NEW = 0
    INIT = 1
    ROUTING = 2
    SOFT_EXECUTE = 3
    EXECUTE = 4
    EXCHANGE_MEDIA = 5
    PARK = 6
    CONSUME_MEDIA = 7
    HIBERNATE = 8
    RESET = 9
    HANGUP = 10
    REPORTING = 11
    DESTROY = 12
    NONE = 13

    @property
    def label(self) -> str:
        return f"CS_{self.name}"


class CallState(enum.Enum):
    """``switch_channel_callstate_t`` as printed in ``Channel-Call-State``."""

    DOWN = "DOWN"
    RINGING = "RINGING"
    EARLY = "EARLY"
    ACTIVE = "ACTIVE"
    HELD = "HELD"
    HANGUP = "HANGUP"

    @property
    def number(self) -> int:
        """``Channel-Call-State-Number`` (the enum position in switch_types.h)."""
        return _CALLSTATE_NUMBERS[self]


_CALLSTATE_NUMBERS = {
    CallState.DOWN: 0, CallState.RINGING: 2, CallState.EARLY: 3, CallState.ACTIVE: 4,
    CallState.HELD: 5, CallState.HANGUP: 7,
}


class CallSignal(enum.Enum):
    """What happened to a channel that may change its call state."""

    RING = "ring"
    PRE_ANSWER = "pre_answer"
    ANSWER = "answer"
    HOLD = "hold"
    UNHOLD = "unhold"
    HANGUP = "hangup"


# The one table of call-state transitions (from switch_channel.c's callstate handling
# as the captures show it). Every live state may hang up.
CALLSTATE_TRANSITIONS: dict[tuple[CallState, CallSignal], CallState] = {
    (CallState.DOWN, CallSignal.RING): CallState.RINGING,
    (CallState.DOWN, CallSignal.ANSWER): CallState.ACTIVE,
    (CallState.RINGING, CallSignal.PRE_ANSWER): CallState.EARLY,
    (CallState.RINGING, CallSignal.ANSWER): CallState.ACTIVE,
    (CallState.EARLY, CallSignal.ANSWER): CallState.ACTIVE,
    (CallState.ACTIVE, CallSignal.HOLD): CallState.HELD,
    (CallState.HELD, CallSignal.UNHOLD): CallState.ACTIVE,
    (CallState.DOWN, CallSignal.HANGUP): CallState.HANGUP,
    (CallState.RINGING, CallSignal.HANGUP): CallState.HANGUP,
    (CallState.EARLY, CallSignal.HANGUP): CallState.HANGUP,
    (CallState.ACTIVE, CallSignal.HANGUP): CallState.HANGUP,
    (CallState.HELD, CallSignal.HANGUP): CallState.HANGUP,
}


def next_callstate(state: CallState, signal: CallSignal) -> CallState:
    """The call state after ``signal``; raises :class:`IllegalTransition` if none."""
    try:
        return CALLSTATE_TRANSITIONS[(state, signal)]
    except KeyError:
        raise IllegalTransition(f"call state {state.value} cannot take {signal.value}") from None


@dataclass(slots=True)
class CallerProfile:
    """``switch_caller_profile_t``: the ``Caller-*`` (or ``Other-Leg-*``) block.

    Times are microseconds since the epoch, 0 when the thing has not happened. Empty
    strings are left out of events, as FreeSWITCH does.
    """

    direction: str
    logical_direction: str
    unique_id: str
    channel_name: str
    destination_number: str
    context: str
    source: str
    username: str = ""
    dialplan: str = ""
    caller_id_name: str = ""
    caller_id_number: str = ""
    orig_caller_id_name: str = ""
    orig_caller_id_number: str = ""
    callee_id_name: str = ""
    callee_id_number: str = ""
    network_addr: str = ""
    ani: str = ""
    transfer_source: str = ""
    profile_index: int = 1
    profile_created_us: int = 0
    created_us: int = 0
    answered_us: int = 0
    progress_us: int = 0
    progress_media_us: int = 0
    hangup_us: int = 0
    transfer_us: int = 0
    resurrect_us: int = 0
    bridged_us: int = 0
    last_hold_us: int = 0
    hold_accum_us: int = 0

    def snapshot(self) -> CallerProfile:
        return replace(self)


@dataclass(slots=True)
class OtherLeg:
    """The profile of the partner as the channel saw it when they were joined."""

    kind: str  # "originator" | "originatee"
    profile: CallerProfile


@dataclass(slots=True)
class Channel:
    """Everything a channel event prints about one channel."""

    uuid: str
    name: str
    direction: str  # "inbound" | "outbound"
    profile: CallerProfile | None
    call_uuid: str = ""
    running_state: CS = CS.NEW
    state: CS = CS.NEW
    callstate: CallState = CallState.DOWN
    answer_state: str = "ringing"
    hit_dialplan: bool = False
    presence_id: str = ""
    codec: tuple[str, str, str] | None = None  # (name, rate, bit rate)
    hangup_cause: str = ""
    other: OtherLeg | None = None
    variables: dict[str, str] = field(default_factory=dict)
    created_us: int = 0

    def set_var(self, name: str, value: str | None) -> None:
        """Set (or with ``None``/``""`` unset) a variable; a set moves it to the end,
        as ``switch_event_add_header`` with unique headers does."""
        self.variables.pop(name, None)
        if value:
            self.variables[name] = value

    def var(self, name: str, default: str = "") -> str:
        return self.variables.get(name, default)

    def signal(self, signal: CallSignal) -> CallState:
        """Apply a call-state signal; returns the previous call state."""
        previous = self.callstate
        self.callstate = next_callstate(previous, signal)
        return previous
