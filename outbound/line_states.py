"""The life of one dialled line, from originate to hangup. Every transition lives in
:data:`LINE_TRANSITIONS` and nowhere else.

The dialer (the shell, :mod:`outbound.lines`) turns what the switch and routing
report into a :class:`LineInput`, calls :func:`line_transition` and runs the
:class:`LineEffect` s that come back: queue the customer for an agent, arm the abandon
deadline, play a message, hang up, count an abandon. Choices that depend on the
campaign are made before the table: the shell sends ``ANSWERED_AGENTLESS`` rather than
``ANSWERED_LIVE`` for an agentless campaign, and turns an AMD "machine" verdict into
``MACHINE_HANG_UP`` / ``MACHINE_MESSAGE`` / ``MACHINE_PASS`` with
:func:`outbound.compliance.on_answer`. An input the phase does not accept raises
:class:`outbound.errors.IllegalTransition`; the shell logs and counts it.

::

    CALLING_AGENT ──reserved_agent_answered──▶ RINGING ──answered_reserved──▶ CONNECTED
    RINGING ──answered_live──▶ WAITING ──agent_ringing──▶ OFFERED ──agent_connected──▶ CONNECTED
       │                         │  ▲                        │
       │                         │  └──agent_ring_failed─────┘ (before the deadline)
       │                         └──deadline──▶ ABANDON_MESSAGE ◀──agent_ring_failed_late── OFFERED
       ├──answered_agentless──▶ AGENTLESS
       └──hangup──▶ ENDED        WAITING / OFFERED / AGENTLESS ──machine_*──▶ MACHINE_MESSAGE / MACHINE_HANGUP
    any live phase ──hangup──▶ ENDED

A line with a *reserved agent* (preview mode, where the agent clicks dial, and a UK
redial that the rules allow only with an agent held for it) calls the agent first
(``CALLING_AGENT``) and, once the agent answered, bridges the agent's leg out to the
customer: the customer's answer finds the agent already on the line.

AMD with mod_avmd answers late: it reports a *beep*, at the end of the machine's
greeting, seconds after the answer -- so every answer first goes the person's way
(``on_answer`` treats an unknown result as a person: dropping a person is the worst
outcome), and a beep that comes while the call still waits for an agent takes it
out of the queue. A beep after an agent answered changes nothing: the agent hears
the machine and says so in the disposition.

What the call was (:func:`outcome_of`) follows from the phase in which it ended. A
person who answered and hung up before an agent was connected is counted as an
abandoned call even when that happened inside the 2-second deadline: the abandon
figures then never under-report, which is the side the rules (FTC TSR, Ofcom) care
about.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from outbound.errors import IllegalTransition
from outbound.retries import CallOutcome


class LinePhase(enum.Enum):
    CALLING_AGENT = "calling_agent"      # a reserved agent's phone rings; the customer is not dialled yet
    RINGING = "ringing"                  # originated, not answered
    WAITING = "waiting"                  # a person answered; queued for an agent
    OFFERED = "offered"                  # an agent's phone rings for it
    CONNECTED = "connected"              # talking to an agent
    ABANDON_MESSAGE = "abandon_message"  # no agent in time: the message plays, then hangup
    AGENTLESS = "agentless"              # the agentless message (and digit) plays
    MACHINE_MESSAGE = "machine_message"  # the message for answering machines plays
    MACHINE_HANGUP = "machine_hangup"    # a machine: hung up by us
    ENDED = "ended"


class LineInput(enum.Enum):
    RESERVED_AGENT_ANSWERED = "reserved_agent_answered"
    RESERVED_AGENT_GONE = "reserved_agent_gone"         # the reserved agent's leg failed or hung up
    ANSWERED_RESERVED = "answered_reserved"
    ANSWERED_LIVE = "answered_live"
    ANSWERED_AGENTLESS = "answered_agentless"
    AGENT_RINGING = "agent_ringing"
    AGENT_RING_FAILED = "agent_ring_failed"
    AGENT_RING_FAILED_LATE = "agent_ring_failed_late"   # ... after the deadline passed
    AGENT_CONNECTED = "agent_connected"
    DEADLINE = "deadline"
    MACHINE_HANG_UP = "machine_hang_up"
    MACHINE_MESSAGE = "machine_message"
    MACHINE_PASS = "machine_pass"
    HANGUP = "hangup"


class LineEffect(enum.Enum):
    DIAL_CUSTOMER = "dial_customer"          # the reserved agent is on the line: bridge out to the customer
    QUEUE_FOR_AGENT = "queue_for_agent"      # routing: the campaign's queue, top priority
    ARM_DEADLINE = "arm_deadline"            # compliance.abandon_deadline from the answer
    CANCEL_DEADLINE = "cancel_deadline"
    LEAVE_QUEUE = "leave_queue"              # routing must stop looking for an agent
    PLAY_ABANDON_MESSAGE = "play_abandon_message"
    PLAY_AGENTLESS = "play_agentless"
    PLAY_MACHINE_MESSAGE = "play_machine_message"
    HANG_UP = "hang_up"
    COUNT_ABANDONED = "count_abandoned"      # the daily counter and the pacing governor
    COUNT_LATE_MESSAGE = "count_late_message"
    COUNT_CONNECTED = "count_connected"


P = LinePhase
I = LineInput  # noqa: E741 -- the table reads better with one-letter aliases
F = LineEffect

_LIVE_WAITING = (P.WAITING, P.OFFERED)

LINE_TRANSITIONS: Mapping[tuple[LinePhase, LineInput], tuple[LinePhase, tuple[LineEffect, ...]]] = {
    (P.CALLING_AGENT, I.RESERVED_AGENT_ANSWERED): (P.RINGING, (F.DIAL_CUSTOMER,)),
    (P.CALLING_AGENT, I.RESERVED_AGENT_GONE): (P.ENDED, ()),
    (P.RINGING, I.RESERVED_AGENT_GONE): (P.ENDED, (F.HANG_UP,)),
    (P.RINGING, I.ANSWERED_RESERVED): (P.CONNECTED, (F.COUNT_CONNECTED,)),
    (P.CONNECTED, I.RESERVED_AGENT_GONE): (P.CONNECTED, ()),
    (P.RINGING, I.ANSWERED_LIVE): (P.WAITING, (F.QUEUE_FOR_AGENT, F.ARM_DEADLINE)),
    (P.RINGING, I.ANSWERED_AGENTLESS): (P.AGENTLESS, (F.PLAY_AGENTLESS,)),
    (P.WAITING, I.AGENT_RINGING): (P.OFFERED, ()),
    (P.OFFERED, I.AGENT_RINGING): (P.OFFERED, ()),
    (P.OFFERED, I.AGENT_RING_FAILED): (P.WAITING, ()),
    (P.WAITING, I.AGENT_RING_FAILED): (P.WAITING, ()),
    (P.OFFERED, I.AGENT_RING_FAILED_LATE): (
        P.ABANDON_MESSAGE,
        (F.LEAVE_QUEUE, F.PLAY_ABANDON_MESSAGE, F.COUNT_ABANDONED, F.COUNT_LATE_MESSAGE),
    ),
    (P.WAITING, I.AGENT_RING_FAILED_LATE): (
        P.ABANDON_MESSAGE,
        (F.LEAVE_QUEUE, F.PLAY_ABANDON_MESSAGE, F.COUNT_ABANDONED, F.COUNT_LATE_MESSAGE),
    ),
    (P.WAITING, I.AGENT_CONNECTED): (P.CONNECTED, (F.CANCEL_DEADLINE, F.COUNT_CONNECTED)),
    (P.OFFERED, I.AGENT_CONNECTED): (P.CONNECTED, (F.CANCEL_DEADLINE, F.COUNT_CONNECTED)),
    (P.CONNECTED, I.AGENT_CONNECTED): (P.CONNECTED, ()),   # the bridge after the agent's answer
    (P.WAITING, I.DEADLINE): (P.ABANDON_MESSAGE, (F.LEAVE_QUEUE, F.PLAY_ABANDON_MESSAGE, F.COUNT_ABANDONED)),
    # An agent's phone rings for the call: let the ring finish (RONA arrives late).
    (P.OFFERED, I.DEADLINE): (P.OFFERED, ()),
    **{(phase, I.MACHINE_HANG_UP): (P.MACHINE_HANGUP, (F.CANCEL_DEADLINE, F.LEAVE_QUEUE, F.HANG_UP))
       for phase in _LIVE_WAITING},
    **{(phase, I.MACHINE_MESSAGE): (P.MACHINE_MESSAGE, (F.CANCEL_DEADLINE, F.LEAVE_QUEUE, F.PLAY_MACHINE_MESSAGE))
       for phase in _LIVE_WAITING},
    **{(phase, I.MACHINE_PASS): (phase, ()) for phase in (*_LIVE_WAITING, P.CONNECTED, P.AGENTLESS)},
    (P.CONNECTED, I.MACHINE_HANG_UP): (P.CONNECTED, ()),
    (P.CONNECTED, I.MACHINE_MESSAGE): (P.CONNECTED, ()),
    (P.AGENTLESS, I.MACHINE_HANG_UP): (P.MACHINE_HANGUP, (F.HANG_UP,)),
    (P.AGENTLESS, I.MACHINE_MESSAGE): (P.MACHINE_MESSAGE, (F.PLAY_MACHINE_MESSAGE,)),
    **{(phase, I.HANGUP): (P.ENDED, (F.CANCEL_DEADLINE,))
       for phase in (P.RINGING, P.WAITING, P.OFFERED, P.CONNECTED, P.ABANDON_MESSAGE, P.AGENTLESS,
                     P.MACHINE_MESSAGE, P.MACHINE_HANGUP)},
}

#: Phases in which the line holds (or is about to hold) an agent.
NEEDS_AGENT = frozenset({P.WAITING, P.OFFERED})


def line_transition(phase: LinePhase, event: LineInput) -> tuple[LinePhase, tuple[LineEffect, ...]]:
    try:
        return LINE_TRANSITIONS[(phase, event)]
    except KeyError:
        raise IllegalTransition("line", phase.value, event.value) from None


# -- what the call was ---------------------------------------------------------------

#: Hangup causes (FreeSWITCH's cause names) of a call that was never answered.
_BUSY = frozenset({"USER_BUSY", "CALL_REJECTED", "BUSY_EVERYWHERE", "DECLINE"})
_NO_ANSWER = frozenset({"NO_ANSWER", "NO_USER_RESPONSE", "ORIGINATOR_CANCEL", "ALLOTTED_TIMEOUT",
                        "PROGRESS_TIMEOUT", "SUBSCRIBER_ABSENT", "RECOVERY_ON_TIMER_EXPIRE"})
_INVALID = frozenset({"UNALLOCATED_NUMBER", "INVALID_NUMBER_FORMAT", "NUMBER_CHANGED", "DOES_NOT_EXIST_ANYWHERE"})

_BY_PHASE: Mapping[LinePhase, CallOutcome] = {
    P.WAITING: CallOutcome.ABANDONED,
    P.OFFERED: CallOutcome.ABANDONED,
    P.ABANDON_MESSAGE: CallOutcome.ABANDONED,
    P.CONNECTED: CallOutcome.CONNECTED,
    P.AGENTLESS: CallOutcome.AGENTLESS_DONE,
    P.MACHINE_MESSAGE: CallOutcome.MACHINE,
    P.MACHINE_HANGUP: CallOutcome.MACHINE,
}


def unanswered_outcome(cause: str) -> CallOutcome:
    """The outcome of a dial that never answered, from its hangup cause."""
    text = cause.strip().upper()
    if text in _BUSY:
        return CallOutcome.BUSY
    if text in _NO_ANSWER:
        return CallOutcome.NO_ANSWER
    if text in _INVALID:
        return CallOutcome.INVALID_NUMBER
    return CallOutcome.FAILED


def outcome_of(phase: LinePhase, cause: str) -> CallOutcome:
    """What the call was, given the phase it was in when the line hung up (a line whose
    reserved agent never answered is ``failed``: the customer was not called)."""
    if phase is P.CALLING_AGENT:
        return CallOutcome.FAILED
    if phase is P.RINGING:
        return unanswered_outcome(cause)
    try:
        return _BY_PHASE[phase]
    except KeyError:
        raise ValueError(f"a line in phase {phase.value} has no outcome yet") from None
