"""The dialled-line state machine (outbound.line_states): the table, the outcomes, and
properties over random sequences of inputs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outbound.errors import IllegalTransition
from outbound.line_states import (
    LINE_TRANSITIONS,
    LineEffect,
    LineInput,
    LinePhase,
    line_transition,
    outcome_of,
    unanswered_outcome,
)
from outbound.retries import CallOutcome

P, I, F = LinePhase, LineInput, LineEffect  # noqa: E741 -- the table reads better this way


@pytest.mark.parametrize(("phase", "event", "after", "effects"), [
    (P.RINGING, I.ANSWERED_LIVE, P.WAITING, {F.QUEUE_FOR_AGENT, F.ARM_DEADLINE}),
    (P.RINGING, I.ANSWERED_AGENTLESS, P.AGENTLESS, {F.PLAY_AGENTLESS}),
    (P.RINGING, I.HANGUP, P.ENDED, {F.CANCEL_DEADLINE}),
    (P.WAITING, I.AGENT_RINGING, P.OFFERED, set()),
    (P.OFFERED, I.AGENT_RING_FAILED, P.WAITING, set()),
    (P.WAITING, I.AGENT_CONNECTED, P.CONNECTED, {F.CANCEL_DEADLINE, F.COUNT_CONNECTED}),
    (P.OFFERED, I.AGENT_CONNECTED, P.CONNECTED, {F.CANCEL_DEADLINE, F.COUNT_CONNECTED}),
    (P.CONNECTED, I.AGENT_CONNECTED, P.CONNECTED, set()),
    (P.WAITING, I.DEADLINE, P.ABANDON_MESSAGE, {F.LEAVE_QUEUE, F.PLAY_ABANDON_MESSAGE, F.COUNT_ABANDONED}),
    (P.OFFERED, I.DEADLINE, P.OFFERED, set()),
    (P.OFFERED, I.AGENT_RING_FAILED_LATE, P.ABANDON_MESSAGE,
     {F.LEAVE_QUEUE, F.PLAY_ABANDON_MESSAGE, F.COUNT_ABANDONED, F.COUNT_LATE_MESSAGE}),
    (P.WAITING, I.MACHINE_HANG_UP, P.MACHINE_HANGUP, {F.CANCEL_DEADLINE, F.LEAVE_QUEUE, F.HANG_UP}),
    (P.OFFERED, I.MACHINE_MESSAGE, P.MACHINE_MESSAGE, {F.CANCEL_DEADLINE, F.LEAVE_QUEUE, F.PLAY_MACHINE_MESSAGE}),
    (P.WAITING, I.MACHINE_PASS, P.WAITING, set()),
    (P.CONNECTED, I.MACHINE_HANG_UP, P.CONNECTED, set()),
    (P.AGENTLESS, I.MACHINE_MESSAGE, P.MACHINE_MESSAGE, {F.PLAY_MACHINE_MESSAGE}),
    (P.AGENTLESS, I.MACHINE_HANG_UP, P.MACHINE_HANGUP, {F.HANG_UP}),
    (P.CALLING_AGENT, I.RESERVED_AGENT_ANSWERED, P.RINGING, {F.DIAL_CUSTOMER}),
    (P.CALLING_AGENT, I.RESERVED_AGENT_GONE, P.ENDED, set()),
    (P.RINGING, I.RESERVED_AGENT_GONE, P.ENDED, {F.HANG_UP}),
    (P.RINGING, I.ANSWERED_RESERVED, P.CONNECTED, {F.COUNT_CONNECTED}),
    (P.ABANDON_MESSAGE, I.HANGUP, P.ENDED, {F.CANCEL_DEADLINE}),
])
def test_transitions(phase: LinePhase, event: LineInput, after: LinePhase, effects: set[LineEffect]) -> None:
    assert line_transition(phase, event)[0] is after
    assert set(line_transition(phase, event)[1]) == effects


@pytest.mark.parametrize(("phase", "event"), [
    (P.RINGING, I.DEADLINE),
    (P.RINGING, I.AGENT_CONNECTED),
    (P.ENDED, I.HANGUP),
    (P.CONNECTED, I.ANSWERED_LIVE),
    (P.ABANDON_MESSAGE, I.AGENT_CONNECTED),
    (P.CALLING_AGENT, I.ANSWERED_LIVE),
])
def test_inputs_a_phase_does_not_accept_raise_one_clear_error(phase: LinePhase, event: LineInput) -> None:
    with pytest.raises(IllegalTransition, match=f"'{event.value}' is not allowed in state '{phase.value}'"):
        line_transition(phase, event)


@pytest.mark.parametrize(("cause", "outcome"), [
    ("USER_BUSY", CallOutcome.BUSY),
    ("CALL_REJECTED", CallOutcome.BUSY),
    ("NO_ANSWER", CallOutcome.NO_ANSWER),
    ("ORIGINATOR_CANCEL", CallOutcome.NO_ANSWER),
    ("RECOVERY_ON_TIMER_EXPIRE", CallOutcome.NO_ANSWER),
    ("UNALLOCATED_NUMBER", CallOutcome.INVALID_NUMBER),
    ("INVALID_NUMBER_FORMAT", CallOutcome.INVALID_NUMBER),
    ("NO_ROUTE_DESTINATION", CallOutcome.FAILED),   # could be our own routing: never final
    ("NORMAL_TEMPORARY_FAILURE", CallOutcome.FAILED),
    ("gateway_down", CallOutcome.FAILED),
    (" user_busy ", CallOutcome.BUSY),
])
def test_unanswered_outcome_from_the_hangup_cause(cause: str, outcome: CallOutcome) -> None:
    assert unanswered_outcome(cause) is outcome


@pytest.mark.parametrize(("phase", "outcome"), [
    (P.CALLING_AGENT, CallOutcome.FAILED),
    (P.WAITING, CallOutcome.ABANDONED),      # a person answered and left before an agent: counted
    (P.OFFERED, CallOutcome.ABANDONED),
    (P.ABANDON_MESSAGE, CallOutcome.ABANDONED),
    (P.CONNECTED, CallOutcome.CONNECTED),
    (P.AGENTLESS, CallOutcome.AGENTLESS_DONE),
    (P.MACHINE_MESSAGE, CallOutcome.MACHINE),
    (P.MACHINE_HANGUP, CallOutcome.MACHINE),
])
def test_outcome_by_the_phase_the_line_ended_in(phase: LinePhase, outcome: CallOutcome) -> None:
    assert outcome_of(phase, "NORMAL_CLEARING") is outcome


def test_an_ended_line_has_no_second_outcome() -> None:
    with pytest.raises(ValueError, match="no outcome"):
        outcome_of(P.ENDED, "")


def test_every_live_phase_ends_on_hangup() -> None:
    for phase in P:
        if phase in (P.ENDED, P.CALLING_AGENT):
            continue
        assert line_transition(phase, I.HANGUP)[0] is P.ENDED


def test_the_table_never_leaves_ended() -> None:
    assert not [key for key in LINE_TRANSITIONS if key[0] is P.ENDED]


@given(st.lists(st.sampled_from(list(I)), max_size=30))
def test_any_input_sequence_keeps_the_line_consistent(events: list[LineInput]) -> None:
    """Applying what the table accepts (skipping refusals, as the shell does): an
    abandon is counted at most once, a connected call is never then abandoned, the
    deadline is armed before it can fire, and HANGUP always ends the line."""
    phase, abandoned, connected, armed = P.RINGING, 0, False, False
    for event in [*events, I.HANGUP]:
        if phase is P.ENDED:
            break
        try:
            phase, effects = line_transition(phase, event)
        except IllegalTransition:
            continue
        armed |= F.ARM_DEADLINE in effects
        if F.PLAY_ABANDON_MESSAGE in effects:
            assert armed
        abandoned += effects.count(F.COUNT_ABANDONED)
        connected |= F.COUNT_CONNECTED in effects
        assert not (connected and F.COUNT_ABANDONED in effects)
    assert phase is P.ENDED
    assert abandoned <= 1
    assert not (abandoned and connected)
