"""The transfer-session table (cti/transfer_states.py): every pair is either in the table
or refused with a sentence, and the operations keep the switch-side rules the module
docstring explains (music only on a parked leg, the agent leaves only after the new
bridge, park_after_bridge never outlives a session)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.transfer_states import (
    PARK_AFTER_BRIDGE,
    RESTORE,
    START,
    TRANSITIONS,
    AwaitBridge,
    AwaitPark,
    Bridge,
    IllegalSessionStep,
    Kill,
    Music,
    SessionEvent,
    SessionKind,
    SessionState,
    SetVar,
    allows,
    start_operations,
    step,
)

K, S, E = SessionKind, SessionState, SessionEvent
ALL = list(itertools.product(SessionKind, SessionState, SessionEvent))


@pytest.mark.parametrize(("kind", "state", "event"), ALL, ids=lambda v: v.value)
def test_every_pair_is_in_the_table_or_refused_with_a_sentence(kind, state, event) -> None:
    if (kind, state, event) in TRANSITIONS:
        new_state, ops = step(kind, state, event)
        assert new_state in SessionState
        assert allows(kind, state, event)
    else:
        with pytest.raises(IllegalSessionStep) as refused:
            step(kind, state, event)
        assert str(refused.value).startswith("cannot ")
        assert not allows(kind, state, event)


@pytest.mark.parametrize(("kind", "event"), list(itertools.product(SessionKind, SessionEvent)))
def test_nothing_moves_an_ended_session(kind, event) -> None:
    assert not allows(kind, S.ENDED, event)


def _all_op_lists():
    yield "start", start_operations(agent_held=False)
    yield "start-held", start_operations(agent_held=True)
    for key, (_state, ops) in TRANSITIONS.items():
        yield "/".join(v.value for v in key), ops


@pytest.mark.parametrize(("name", "ops"), list(_all_op_lists()), ids=lambda v: v if isinstance(v, str) else "")
def test_music_only_after_the_leg_is_known_to_be_parked(name, ops) -> None:
    for index, op in enumerate(ops):
        if isinstance(op, Music):
            assert AwaitPark(op.party) in ops[:index], f"{name}: music on {op.party} before it parked"


@pytest.mark.parametrize(("name", "ops"), list(_all_op_lists()), ids=lambda v: v if isinstance(v, str) else "")
def test_the_agent_leaves_only_after_the_customer_is_bridged_to_the_target(name, ops) -> None:
    """The call model records a transfer only while the agent's leg is still up."""
    for index, op in enumerate(ops):
        if isinstance(op, Kill) and op.party == "agent" and Bridge("customer", "target") in ops:
            before = ops[:index]
            assert Bridge("customer", "target") in before and AwaitBridge("customer") in before, name


@pytest.mark.parametrize(("key", "value"), list(TRANSITIONS.items()), ids=lambda v: "/".join(x.value for x in v) if isinstance(v, tuple) and len(v) == 3 else "")
def test_a_session_that_ends_with_the_customer_alive_restores_normal_hangups(key, value) -> None:
    _kind, _state, event = key
    new_state, ops = value
    if new_state is not S.ENDED or event is E.CUSTOMER_GONE or Kill("customer") in ops:
        return
    assert SetVar("customer", PARK_AFTER_BRIDGE, "") in ops
    for op in RESTORE:
        assert op in ops


def test_start_marks_both_legs_to_survive_before_the_customer_leaves() -> None:
    assert START[:2] == (SetVar("customer", PARK_AFTER_BRIDGE, "true"), SetVar("agent", PARK_AFTER_BRIDGE, "true"))
    held = start_operations(agent_held=True)
    assert any(op.__class__.__name__ == "Unhold" for op in held)
    assert not any(op.__class__.__name__ == "Unhold" for op in start_operations(agent_held=False))


def test_a_blind_transfer_completes_as_soon_as_the_target_answers() -> None:
    state, ops = step(K.BLIND, S.RINGING, E.ANSWERED)
    assert state is S.ENDED
    assert ops.index(Bridge("customer", "target")) < ops.index(Kill("agent"))


def test_a_consultation_connects_agent_and_target_when_answered() -> None:
    assert step(K.CONSULT, S.RINGING, E.ANSWERED) == (S.TALKING, (Bridge("agent", "target"), AwaitBridge("agent")))


def test_an_agent_who_hangs_up_while_the_target_rings_hands_the_customer_over() -> None:
    assert step(K.CONSULT, S.RINGING, E.AGENT_GONE)[0] is S.HANDOVER
    state, ops = step(K.CONSULT, S.HANDOVER, E.ANSWERED)
    assert state is S.ENDED and Bridge("customer", "target") in ops
    assert step(K.BLIND, S.HANDOVER, E.FAILED) == (S.ENDED, (Kill("customer"),))


@pytest.mark.parametrize("event", [E.SWAP, E.CONFERENCE, E.COMPLETE])
def test_nothing_but_cancel_while_the_target_rings(event) -> None:
    with pytest.raises(IllegalSessionStep, match="while the target is still ringing"):
        step(K.CONSULT, S.RINGING, event)


@given(st.sampled_from(list(SessionKind)), st.lists(st.sampled_from(list(SessionEvent)), max_size=12))
def test_any_sequence_of_events_stays_in_the_table(kind, events) -> None:
    state = S.RINGING
    for event in events:
        if allows(kind, state, event):
            state, ops = step(kind, state, event)
            assert all(op.party in ("customer", "agent", "target") for op in ops if hasattr(op, "party"))
        else:
            with pytest.raises(IllegalSessionStep):
                step(kind, state, event)
    if state is S.ENDED:
        assert not any(allows(kind, state, e) for e in SessionEvent)
