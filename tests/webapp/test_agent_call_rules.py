"""Which call-control action an agent may take (cti/call_rules.py), table-driven over
interactions built as the call model builds them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.call_rules import Action, Session, availability, my_leg, refusal, view_of
from cti.call_states import CallState
from cti.interaction import Direction, Interaction, Leg, LegRole, Recording, frozen_map
from cti.transfer_states import SessionKind, SessionState

ME, OTHER = 7, 8
C, A, B = "c" * 8, "a" * 8, "b" * 8


def call(state=CallState.CONNECTED, *, answered=True, bridged=True, held=False, customer_up=True,
         colleague=False, recording=False, serving=A) -> Interaction:
    legs = {
        C: Leg(C, LegRole.CUSTOMER, answered_at=1.0, hangup_at=None if customer_up else 9.0),
        A: Leg(A, LegRole.AGENT, agent_id=ME, answered_at=2.0 if answered else None),
    }
    if colleague:
        legs[B] = Leg(B, LegRole.CONSULT, agent_id=OTHER, answered_at=3.0)
    recordings = (Recording("r1", C, "/rec/x.wav", 2.0),) if recording else ()
    return Interaction(
        "ix", Direction.INBOUND, state, customer_leg=C, serving_leg=serving if answered else None,
        bridged=bridged and answered, held=held, legs=frozen_map(legs), recordings=recordings,
    )


def allowed(ix, agent=ME, session=None, paused=False) -> set[str]:
    view = view_of(ix, agent, session, recording_paused=paused)
    return {name for name, why in availability(view).items() if why is None}


def session(state, kind=SessionKind.CONSULT, by=ME) -> Session:
    return Session(kind, state, by, "Bob (1011)")


TALKING = {"hangup", "hold", "transfer", "consult", "dtmf", "record_start"}
PARKED = {"hangup", "resume", "transfer", "consult", "dtmf", "record_start"}

CASES = [
    ("ringing", call(CallState.OFFERING, answered=False), None, {"hangup"}),
    ("talking", call(), None, TALKING),
    ("held", call(CallState.ON_HOLD, held=True), None, PARKED),
    ("customer parked", call(CallState.ON_HOLD, bridged=False), None, PARKED),
    ("recorded", call(recording=True), None, TALKING - {"record_start"} | {"record_pause", "record_stop"}),
    ("customer gone", call(CallState.CLEARING, customer_up=False), None, {"hangup"}),
    ("ended", call(CallState.ENDED, customer_up=False), None, {"hangup"}),
    ("consult ringing", call(CallState.ON_HOLD, bridged=False), session(SessionState.RINGING),
     {"consult_cancel", "dtmf", "record_start"}),
    ("consult talking", call(CallState.CONSULTING, bridged=False, colleague=True), session(SessionState.TALKING),
     {"consult_swap", "conference", "consult_complete", "consult_cancel", "dtmf", "record_start"}),
    ("consult swapped", call(CallState.CONNECTED, colleague=True), session(SessionState.SWAPPED),
     {"consult_swap", "conference", "consult_complete", "consult_cancel", "dtmf", "record_start"}),
    ("conference", call(CallState.CONNECTED, colleague=True), session(SessionState.CONFERENCE),
     {"consult_complete", "consult_cancel", "dtmf", "record_start"}),
    ("blind ringing", call(CallState.ON_HOLD, bridged=False), session(SessionState.RINGING, SessionKind.BLIND),
     {"consult_cancel", "dtmf", "record_start"}),
]


@pytest.mark.parametrize(("name", "ix", "sess", "expected"), CASES, ids=[c[0] for c in CASES])
def test_allowed_actions(name, ix, sess, expected) -> None:
    assert allowed(ix, session=sess) == expected


def test_paused_recording_offers_resume_only() -> None:
    ix = call(recording=True)
    assert "record_resume" in allowed(ix, paused=True) and "record_pause" not in allowed(ix, paused=True)


@pytest.mark.parametrize("policy", ["always", "never"])
def test_only_agent_choice_queues_let_agents_start_and_stop_recording(policy) -> None:
    view = view_of(call(recording=policy == "always"), ME, recording_policy=policy)
    assert refusal(view, Action.RECORD_START).code == "recording-policy"
    assert refusal(view, Action.RECORD_STOP).code == "recording-policy"
    if policy == "always":
        assert refusal(view, Action.RECORD_PAUSE) is None


def test_an_agent_not_on_the_call_can_do_nothing() -> None:
    view = view_of(call(), OTHER)
    assert view.my_leg is None
    assert all(refusal(view, action).code == "not-on-this-call" for action in Action)


def test_the_consulted_colleague_may_only_hang_up_their_own_leg() -> None:
    ix = call(CallState.CONSULTING, bridged=False, colleague=True)
    assert my_leg(ix, OTHER).uuid == B
    assert allowed(ix, OTHER) == {"hangup"}
    assert refusal(view_of(ix, OTHER), Action.HOLD).code == "not-your-call"


@pytest.mark.parametrize(("ix", "action", "code", "words"), [
    (call(CallState.ON_HOLD, held=True), Action.HOLD, "already-on-hold", "already on hold"),
    (call(), Action.RESUME, "not-on-hold", "not on hold"),
    (call(), Action.RECORD_PAUSE, "not-recording", "not being recorded"),
    (call(recording=True), Action.RECORD_START, "already-recording", "already being recorded"),
    (call(CallState.OFFERING, answered=False), Action.HOLD, "still-ringing", "Answer the call"),
    (call(), Action.COMPLETE, "no-consultation", "no consultation"),
    (call(CallState.CLEARING, customer_up=False), Action.TRANSFER, "customer-gone", "hung up"),
])
def test_refusals_say_what_is_wrong(ix, action, code, words) -> None:
    refused = refusal(view_of(ix, ME), action)
    assert refused is not None and refused.code == code and words in refused.message


def test_no_hangup_while_a_consultation_holds_the_customer() -> None:
    ix = call(CallState.CONSULTING, bridged=False, colleague=True)
    refused = refusal(view_of(ix, ME, session(SessionState.TALKING)), Action.HANGUP)
    assert refused is not None and "Complete or cancel" in refused.message


def test_ringing_target_names_who_rings() -> None:
    refused = refusal(view_of(call(CallState.ON_HOLD, bridged=False), ME, session(SessionState.RINGING)), Action.COMPLETE)
    assert refused is not None and "Bob (1011) is still ringing" in refused.message


@given(
    state=st.sampled_from(list(CallState)), answered=st.booleans(), bridged=st.booleans(), held=st.booleans(),
    customer_up=st.booleans(), recording=st.booleans(), paused=st.booleans(),
    sess=st.none() | st.builds(session, st.sampled_from([s for s in SessionState if s is not SessionState.ENDED]),
                               st.sampled_from(list(SessionKind))),
)
def test_availability_and_refusal_always_agree(state, answered, bridged, held, customer_up, recording, paused, sess) -> None:
    ix = call(state, answered=answered, bridged=bridged, held=held, customer_up=customer_up, recording=recording)
    view = view_of(ix, ME, sess, recording_paused=paused)
    table = availability(view)
    for action in Action:
        refused = refusal(view, action)
        assert (table[action.value] is None) == (refused is None)
    if not answered:
        assert {k for k, v in table.items() if v is None} == {"hangup"}
    if table["hold"] is None:
        assert table["resume"] is not None
