"""Every state an interaction can be in and every transition between them, in one table.

This module is the single place that says which call transitions are legal (as h11's
``_state.py`` does for HTTP). :mod:`cti.calls` decides *which* trigger a fact is (for
instance a ring that ended while other agents still ring is ``RING_ENDED``, the last
one is ``RING_ENDED_REQUEUE``) and asks :func:`next_state` for the new state; a pair
that is not in :data:`TRANSITIONS` raises :class:`IllegalTransition`, which the shell
logs and counts. Nothing here knows about legs, ESL or time.

Life of an inbound call: ``IVR -> QUEUED -> OFFERING -> CONNECTED`` (with the
``ON_HOLD`` and ``CONSULTING`` sub-states) ``-> CLEARING`` (the customer hung up, the
other legs are going) ``-> ENDED`` (every leg gone; ``call.ended`` is published)
``-> WRAPUP_DONE`` (the agents finished after-call work). An outbound call starts in
``DIALING``. Abandonment is an outcome (:class:`cti.calls.Outcome`), not a state.
"""

from __future__ import annotations

from enum import Enum


class CallState(Enum):
    DIALING = "dialing"          # outbound: the customer's phone is being called
    IVR = "ivr"                  # answered, in self-service or parked by the middleware
    QUEUED = "queued"            # waiting in a queue for an agent
    OFFERING = "offering"        # an agent's phone rings for it
    CONNECTED = "connected"      # talking with an agent
    ON_HOLD = "on_hold"          # the serving agent holds the customer (or is unbridged)
    CONSULTING = "consulting"    # the serving agent consults a colleague
    CLEARING = "clearing"        # the customer hung up; other legs are still going
    ENDED = "ended"              # every leg gone; after-call work may still run
    WRAPUP_DONE = "wrapup_done"  # every agent finished after-call work


class CallTrigger(Enum):
    CUSTOMER_ANSWERED = "customer_answered"
    IVR_STEP = "ivr_step"
    QUEUE = "queue"
    QUEUE_LEFT = "queue_left"
    OFFER = "offer"
    AGENT_ANSWERED = "agent_answered"
    RING_ENDED = "ring_ended"                  # a ring ended; nothing else changes
    RING_ENDED_REQUEUE = "ring_ended_requeue"  # the last ring ended; back to the queue
    RING_ENDED_TO_IVR = "ring_ended_to_ivr"    # the last ring of a direct offer ended
    BRIDGED = "bridged"
    BRIDGED_HELD = "bridged_held"              # re-bridged while the customer stays held
    UNBRIDGED = "unbridged"
    HOLD = "hold"
    UNHOLD = "unhold"                          # back to talking
    UNHOLD_WAITING = "unhold_waiting"          # unheld but still not bridged
    CONSULT_START = "consult_start"
    CONSULT_END = "consult_end"
    CONSULT_END_HELD = "consult_end_held"
    AGENT_LEFT = "agent_left"                  # the serving agent hung up, customer stays
    CUSTOMER_HUNGUP = "customer_hungup"
    ALL_LEGS_GONE = "all_legs_gone"
    TIMELINE = "timeline"                      # a fact recorded without a state change
    WRAPUP_RECORDED = "wrapup_recorded"        # an agent started or ended after-call work
    WRAPUP_FINISHED = "wrapup_finished"        # the last pending after-call work ended


class IllegalTransition(Exception):
    """A call trigger that the table does not allow in the interaction's state."""

    def __init__(self, interaction_id: str, state: CallState, trigger: CallTrigger) -> None:
        super().__init__(
            f"interaction {interaction_id}: {trigger.value} is not allowed in state {state.value}"
        )
        self.interaction_id = interaction_id
        self.state = state
        self.trigger = trigger


S = CallState
T = CallTrigger

#: Live states: the customer (or the dialled party) may still be on the line.
LIVE = frozenset({S.DIALING, S.IVR, S.QUEUED, S.OFFERING, S.CONNECTED, S.ON_HOLD, S.CONSULTING})
#: States where the talk with an agent goes on.
TALKING = frozenset({S.CONNECTED, S.ON_HOLD, S.CONSULTING})
#: States after every leg is gone.
FINAL = frozenset({S.ENDED, S.WRAPUP_DONE})


def _same(trigger: CallTrigger, states: frozenset[CallState]) -> dict[tuple[CallState, CallTrigger], CallState]:
    return {(state, trigger): state for state in states}


def _to(trigger: CallTrigger, states: frozenset[CallState], target: CallState) -> dict[tuple[CallState, CallTrigger], CallState]:
    return {(state, trigger): target for state in states}


#: (state, trigger) -> next state. Anything missing is illegal.
TRANSITIONS: dict[tuple[CallState, CallTrigger], CallState] = {
    (S.DIALING, T.CUSTOMER_ANSWERED): S.IVR,
    **_same(T.CUSTOMER_ANSWERED, frozenset({S.IVR, S.QUEUED, S.OFFERING}) | TALKING),
    **_same(T.IVR_STEP, frozenset({S.IVR, S.QUEUED, S.OFFERING, S.CLEARING})),
    **_to(T.QUEUE, frozenset({S.IVR, S.QUEUED, S.CONNECTED, S.ON_HOLD}), S.QUEUED),
    (S.OFFERING, T.QUEUE): S.OFFERING,
    (S.QUEUED, T.QUEUE_LEFT): S.IVR,
    **_to(T.OFFER, frozenset({S.IVR, S.QUEUED, S.OFFERING}), S.OFFERING),
    (S.DIALING, T.OFFER): S.DIALING,
    **_same(T.AGENT_ANSWERED, frozenset({S.DIALING, S.OFFERING, S.CONNECTED, S.ON_HOLD, S.CONSULTING, S.CLEARING})),
    **_same(T.RING_ENDED, LIVE | {S.CLEARING}),
    (S.OFFERING, T.RING_ENDED_REQUEUE): S.QUEUED,
    (S.OFFERING, T.RING_ENDED_TO_IVR): S.IVR,
    **_to(T.BRIDGED, frozenset({S.DIALING, S.IVR, S.QUEUED, S.OFFERING}) | TALKING, S.CONNECTED),
    **_to(T.BRIDGED_HELD, TALKING, S.ON_HOLD),
    (S.CONNECTED, T.UNBRIDGED): S.ON_HOLD,
    (S.ON_HOLD, T.UNBRIDGED): S.ON_HOLD,
    (S.CONSULTING, T.UNBRIDGED): S.CONSULTING,
    (S.CONNECTED, T.HOLD): S.ON_HOLD,
    (S.ON_HOLD, T.HOLD): S.ON_HOLD,
    (S.CONSULTING, T.HOLD): S.CONSULTING,
    (S.ON_HOLD, T.UNHOLD): S.CONNECTED,
    (S.CONNECTED, T.UNHOLD): S.CONNECTED,
    (S.ON_HOLD, T.UNHOLD_WAITING): S.ON_HOLD,
    (S.CONSULTING, T.UNHOLD_WAITING): S.CONSULTING,
    (S.CONNECTED, T.CONSULT_START): S.CONSULTING,
    (S.ON_HOLD, T.CONSULT_START): S.CONSULTING,
    (S.CONSULTING, T.CONSULT_END): S.CONNECTED,
    (S.CONSULTING, T.CONSULT_END_HELD): S.ON_HOLD,
    **_to(T.AGENT_LEFT, TALKING, S.IVR),
    **_to(T.CUSTOMER_HUNGUP, LIVE, S.CLEARING),
    **_to(T.ALL_LEGS_GONE, LIVE | {S.CLEARING}, S.ENDED),
    **_same(T.TIMELINE, LIVE | {S.CLEARING}),
    **_same(T.WRAPUP_RECORDED, LIVE | {S.CLEARING, S.ENDED}),
    (S.ENDED, T.WRAPUP_FINISHED): S.WRAPUP_DONE,
}


def next_state(interaction_id: str, state: CallState, trigger: CallTrigger) -> CallState:
    """The state after ``trigger``, or :class:`IllegalTransition` if the table forbids it."""
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise IllegalTransition(interaction_id, state, trigger) from None
