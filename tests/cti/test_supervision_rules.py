"""The supervisor rules as data: which action applies to a call in which state, who may
act on what, the session's transition table and its effects, and eavesdrop's mode keys."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.call_states import CallState
from cti.interaction import Direction, Interaction, Leg, LegRole, Offer, SupervisorMode, frozen_map
from cti.legs import intercept_target, mode_after_digit
from cti.supervision_rules import (
    MODE_KEYS,
    TRANSITIONS,
    Action,
    IllegalSessionTransition,
    Scope,
    SendKey,
    SessionEvent,
    SessionKind,
    SessionState,
    SetMode,
    TakeOver,
    available,
    new_session,
    refusal,
    sees,
    transition,
)

S = CallState
M = SupervisorMode
CUSTOMER = "c0000000-0000-4000-8000-000000000001"
AGENT = "a0000000-0000-4000-8000-000000000002"
SUPERVISOR = "50000000-0000-4000-8000-000000000003"


def call(state: CallState, *, serving: LegRole | None = LegRole.AGENT, customer_up: bool = True,
         queue: str = "sales", agent_id: int | None = 7) -> Interaction:
    legs = {CUSTOMER: Leg(CUSTOMER, LegRole.CUSTOMER, hangup_at=None if customer_up else 1.0)}
    if serving is not None:
        legs[AGENT] = Leg(AGENT, serving, agent_id=agent_id, number="1007")
    return Interaction("ix-1", Direction.INBOUND, state, queue=queue, customer_leg=CUSTOMER,
                       serving_leg=AGENT if serving is not None else None, legs=frozen_map(legs),
                       agent_id=agent_id)


# --- which action applies ---------------------------------------------------------------

MONITOR = (Action.LISTEN, Action.WHISPER, Action.BARGE)


@pytest.mark.parametrize(("state", "serving", "allowed"), [
    (S.IVR, None, {Action.HANGUP}),
    (S.DIALING, None, {Action.HANGUP}),
    (S.QUEUED, None, {Action.HANGUP, Action.INTERCEPT}),
    (S.OFFERING, None, {Action.HANGUP, Action.INTERCEPT}),
    (S.CONNECTED, LegRole.AGENT, {Action.HANGUP, Action.INTERCEPT, *MONITOR}),
    (S.ON_HOLD, LegRole.AGENT, {Action.HANGUP, Action.INTERCEPT, *MONITOR}),
    (S.CONSULTING, LegRole.AGENT, {Action.HANGUP, Action.INTERCEPT, *MONITOR}),
    (S.CONNECTED, LegRole.TRANSFER, {Action.HANGUP, Action.INTERCEPT, *MONITOR}),
    (S.CONNECTED, LegRole.SUPERVISOR, {Action.HANGUP, Action.INTERCEPT}),   # taken over: nobody to coach
    (S.CLEARING, None, set()),
    (S.ENDED, None, set()),
    (S.WRAPUP_DONE, None, set()),
])
def test_actions_by_call_state(state: CallState, serving: LegRole | None, allowed: set[Action]) -> None:
    ix = call(state, serving=serving)
    assert {a for a in Action if refusal(a, ix) is None} == allowed
    for action in set(Action) - allowed:
        assert refusal(action, ix)   # a sentence, shown on the disabled button


def test_refusals_say_what_the_call_is_doing() -> None:
    assert refusal(Action.LISTEN, call(S.QUEUED, serving=None)) == (
        "the call is waiting in a queue; listen, whisper and barge need an agent on the call")
    assert refusal(Action.INTERCEPT, call(S.IVR, serving=None)).startswith("the call is in the IVR;")
    assert refusal(Action.HANGUP, call(S.ENDED, serving=None)) == "the call has already ended"
    assert available(call(S.CONNECTED))["listen"] is None


def test_no_monitoring_once_the_agent_leg_is_gone_and_no_intercept_without_customer() -> None:
    ix = call(S.CONNECTED)
    gone = replace(ix, legs=frozen_map({**ix.legs, AGENT: replace(ix.legs[AGENT], hangup_at=5.0)}))
    assert refusal(Action.LISTEN, gone) is not None
    assert refusal(Action.INTERCEPT, call(S.CONNECTED, customer_up=False)) is not None


# --- who may act on what -------------------------------------------------------------------

RED = Scope(5, queues=frozenset({"sales"}), teams=frozenset({1}), agents=frozenset({7, 8}))


@pytest.mark.parametrize(("scope", "queue", "agent", "seen"), [
    (RED, "sales", None, True),             # their queue
    (RED, "support", 7, True),              # their agent, in another queue
    (RED, "support", 9, False),             # neither
    (RED, "support", None, False),
    (Scope(5, admin=True), "support", 9, True),
    (Scope(5), "sales", 7, False),          # a plain user supervises nothing
])
def test_scope(scope: Scope, queue: str, agent: int | None, seen: bool) -> None:
    ix = call(S.CONNECTED, queue=queue, agent_id=agent)
    assert sees(scope, ix) is seen


def test_a_ringing_agent_brings_the_call_into_scope() -> None:
    ix = replace(call(S.OFFERING, serving=None, queue="support", agent_id=None),
                 offers=(Offer("ring-1", 8, "support", 1.0),))
    assert sees(RED, ix)


def test_scope_rooms_follow_the_room_contract() -> None:
    assert RED.rooms() == ["queue:sales", "team:1"]
    assert Scope(1, admin=True).rooms() == ["site"]


# --- the session ----------------------------------------------------------------------------


def session(action: Action = Action.LISTEN, state: SessionState = SessionState.RINGING):
    fresh = new_session(leg_uuid=SUPERVISOR, interaction_id="ix-1", node="fs1", user_id=5, extension="3001",
                        target_uuid=AGENT, action=action, at=1.0)
    return replace(fresh, state=state)


@pytest.mark.parametrize(("action", "effects"), [
    (Action.LISTEN, []),                                # eavesdrop starts listening
    (Action.WHISPER, [SendKey(SUPERVISOR, "2")]),       # 2: only the target (the agent) hears
    (Action.BARGE, [SendKey(SUPERVISOR, "3")]),         # 3: both hear
    (Action.INTERCEPT, []),
])
def test_joining_sends_the_requested_modes_key(action: Action, effects: list) -> None:
    joined, out = transition(session(action), SessionEvent.JOINED)
    assert (joined.state, out) == (SessionState.ACTIVE, effects)
    assert transition(joined, SessionEvent.JOINED) == (joined, [])   # a repeated event is harmless


@pytest.mark.parametrize(("start", "to", "effects"), [
    (Action.LISTEN, M.WHISPER, [SendKey(SUPERVISOR, "2"), SetMode(SUPERVISOR, M.WHISPER)]),
    (Action.WHISPER, M.BARGE, [SendKey(SUPERVISOR, "3"), SetMode(SUPERVISOR, M.BARGE)]),
    (Action.BARGE, M.LISTEN, [SendKey(SUPERVISOR, "0"), SetMode(SUPERVISOR, M.LISTEN)]),
    (Action.WHISPER, M.WHISPER, []),
])
def test_switching_an_active_session(start: Action, to: SupervisorMode, effects: list) -> None:
    switched, out = transition(session(start, SessionState.ACTIVE), SessionEvent.SWITCH, mode=to)
    assert (switched.mode, out) == (to, effects)


def test_switching_while_the_phone_rings_only_records_the_mode_and_the_join_sends_it() -> None:
    ringing, out = transition(session(Action.LISTEN), SessionEvent.SWITCH, mode=M.BARGE)
    assert out == [SetMode(SUPERVISOR, M.BARGE)]
    assert transition(ringing, SessionEvent.JOINED)[1] == [SendKey(SUPERVISOR, "3")]


def test_taking_over_moves_the_leg_into_intercept() -> None:
    taken, out = transition(session(Action.LISTEN, SessionState.ACTIVE), SessionEvent.TAKE_OVER, customer_uuid=CUSTOMER)
    assert (taken.kind, taken.mode, taken.target_uuid) == (SessionKind.INTERCEPT, M.INTERCEPT, CUSTOMER)
    assert out == [SetMode(SUPERVISOR, M.INTERCEPT), TakeOver(SUPERVISOR, CUSTOMER)]


@pytest.mark.parametrize(("action", "state", "event", "message"), [
    (Action.LISTEN, SessionState.RINGING, SessionEvent.TAKE_OVER, "answer your phone first"),
    (Action.INTERCEPT, SessionState.ACTIVE, SessionEvent.SWITCH, "taken this call over"),
    (Action.INTERCEPT, SessionState.ACTIVE, SessionEvent.TAKE_OVER, "taken this call over"),
    (Action.LISTEN, SessionState.ENDED, SessionEvent.SWITCH, "the session is ended"),
    (Action.LISTEN, SessionState.ENDED, SessionEvent.JOINED, "the session is ended"),
])
def test_illegal_session_events(action: Action, state: SessionState, event: SessionEvent, message: str) -> None:
    with pytest.raises(IllegalSessionTransition, match=message):
        transition(session(action, state), event, mode=M.WHISPER, customer_uuid=CUSTOMER)


def test_the_table_covers_every_pair_the_machine_accepts() -> None:
    for state in SessionState:
        for event in SessionEvent:
            legal = (state, event) in TRANSITIONS
            try:
                transition(session(Action.LISTEN, state), event, mode=M.WHISPER, customer_uuid=CUSTOMER)
            except IllegalSessionTransition:
                assert not legal
            else:
                assert legal


@given(st.lists(st.tuples(st.sampled_from(list(SessionEvent)), st.sampled_from([M.LISTEN, M.WHISPER, M.BARGE])),
                max_size=12))
def test_any_event_sequence_keeps_the_session_consistent(steps: list[tuple[SessionEvent, SupervisorMode]]) -> None:
    """Keys only go out for an eavesdrop that runs; the mode is the last one asked for;
    an ended session stays ended; an intercept never switches."""
    current = session(Action.LISTEN)
    asked = M.LISTEN
    for event, mode in steps:
        try:
            moved, effects = transition(current, event, mode=mode, customer_uuid=CUSTOMER)
        except IllegalSessionTransition:
            assert current.state is SessionState.ENDED or current.kind is SessionKind.INTERCEPT or (
                event is SessionEvent.TAKE_OVER and current.state is SessionState.RINGING)
            continue
        keys = [e for e in effects if isinstance(e, SendKey)]
        assert not keys or moved.state is SessionState.ACTIVE
        if event is SessionEvent.SWITCH:
            asked = mode
        if moved.kind is SessionKind.MONITOR:
            assert moved.mode is asked
        current = moved


# --- eavesdrop's keys as the core reads them ---------------------------------------------------


@pytest.mark.parametrize(("digit", "target_is_customer", "mode"), [
    ("0", False, M.LISTEN), ("2", False, M.WHISPER), ("3", False, M.BARGE), ("1", False, None),
    ("0", True, M.LISTEN), ("1", True, M.WHISPER), ("3", True, M.BARGE), ("2", True, None),
    ("5", False, None), ("*", False, None), ("#", True, None),
])
def test_eavesdrop_keys(digit: str, target_is_customer: bool, mode: SupervisorMode | None) -> None:
    assert mode_after_digit(digit, target_is_customer) is mode


def test_our_mode_keys_agree_with_the_core_for_an_agent_target() -> None:
    for mode, key in MODE_KEYS.items():
        assert mode_after_digit(key, target_is_customer=False) is mode


@pytest.mark.parametrize(("data", "target"), [(CUSTOMER, CUSTOMER), (f"-bleg {CUSTOMER}", CUSTOMER), ("", "")])
def test_intercept_target(data: str, target: str) -> None:
    assert intercept_target(data) == target
