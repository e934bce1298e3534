"""The call transition table and the pure apply() on interaction values."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from cti.call_facts import (
    IvrStep,
    LegAdded,
    LegAnswered,
    LegBridged,
    LegGone,
    LegHeld,
    LegHungUp,
    OfferStarted,
    QueueEntered,
    WrapupEnded,
    WrapupStarted,
)
from cti.call_states import (
    FINAL,
    LIVE,
    TRANSITIONS,
    CallState,
    CallTrigger,
    IllegalTransition,
    next_state,
)
from cti.calls import apply, ring_outcome
from cti.interaction import Direction, Interaction, Leg, LegRole, Offer, OfferOutcome

S = CallState
T = CallTrigger
T0 = 1_800_000_000.0


@pytest.mark.parametrize(("state", "trigger"), list(itertools.product(CallState, CallTrigger)))
def test_every_state_and_trigger_is_in_the_table_or_raises(state: CallState, trigger: CallTrigger) -> None:
    if (state, trigger) in TRANSITIONS:
        assert next_state("ix-1", state, trigger) is TRANSITIONS[(state, trigger)]
    else:
        with pytest.raises(IllegalTransition, match=f"^interaction ix-1: {trigger.value} is not allowed in state {state.value}$"):
            next_state("ix-1", state, trigger)


def test_table_shape() -> None:
    # once every leg is gone only after-call work can happen
    for (state, trigger), target in TRANSITIONS.items():
        if state in FINAL:
            assert trigger in (T.WRAPUP_RECORDED, T.WRAPUP_FINISHED)
        if trigger is T.ALL_LEGS_GONE:
            assert target is S.ENDED
    assert (S.WRAPUP_DONE, T.WRAPUP_RECORDED) not in TRANSITIONS
    # every live state can end, whatever happened
    assert all((state, T.ALL_LEGS_GONE) in TRANSITIONS for state in LIVE | {S.CLEARING})
    assert all((state, T.CUSTOMER_HUNGUP) in TRANSITIONS for state in LIVE)


def inbound(state: CallState = CallState.IVR) -> Interaction:
    ix = Interaction("ix-1", Direction.INBOUND, CallState.IVR, node="fs1", started_at=T0)
    ix, _ = apply(ix, LegAdded(Leg("cust", LegRole.CUSTOMER, node="fs1", created_at=T0, answered_at=T0), T0))
    return replace(ix, state=state)


def test_apply_returns_the_same_value_for_a_fact_already_reflected() -> None:
    ix = inbound()
    again, events = apply(ix, LegAnswered("cust", T0 + 5))
    assert again is ix and events == []
    gone, _ = apply(ix, LegHungUp("cust", T0 + 9, "NORMAL_CLEARING"))
    assert apply(gone, LegHungUp("cust", T0 + 10, "NORMAL_CLEARING")) == (gone, [])


def test_values_are_never_changed_in_place() -> None:
    ix = inbound()
    snapshot = (ix.state, dict(ix.legs), ix.offers)
    apply(ix, QueueEntered("sales", 1, T0 + 1))
    assert (ix.state, dict(ix.legs), ix.offers) == snapshot


def test_offer_in_a_wrong_state_raises_and_names_the_interaction() -> None:
    ix = inbound(CallState.CONNECTED)
    with pytest.raises(IllegalTransition, match="interaction ix-1: offer is not allowed in state connected"):
        apply(ix, OfferStarted(7, "a1", T0 + 1))


def test_full_flow_on_values() -> None:
    ix = inbound()
    ix, events = apply(ix, IvrStep("main", "menu", T0 + 1, "2"))
    assert events[0].data == {"flow": "main", "node": "menu", "digits": "2"} and ix.flow_name == "main"
    ix, _ = apply(ix, QueueEntered("sales", 1, T0 + 2))
    ix, events = apply(ix, OfferStarted(7, "a1", T0 + 3, extension="1007"))
    assert ix.state is S.OFFERING and events[0].data["screen_pop"]["ivr_path"] == ["menu"]
    ix, _ = apply(ix, LegAdded(Leg("a1", LegRole.AGENT, agent_id=7, created_at=T0 + 3), T0 + 3))
    ix, _ = apply(ix, LegAnswered("a1", T0 + 5))
    ix, events = apply(ix, LegBridged("cust", "a1", T0 + 5))
    assert ix.state is S.CONNECTED and events[0].data["wait_seconds"] == 3.0
    ix, _ = apply(ix, LegHeld("cust", True, T0 + 15))
    ix, _ = apply(ix, LegHeld("cust", False, T0 + 20))
    ix, _ = apply(ix, LegHungUp("a1", T0 + 30, "NORMAL_CLEARING", 10, "recv_bye"))
    assert ix.state is S.IVR  # the agent left; the customer is still there
    ix, _ = apply(ix, WrapupStarted(7, T0 + 30))
    ix, _ = apply(ix, LegHungUp("cust", T0 + 31, "NORMAL_CLEARING", 11, "send_bye"))
    ix, _ = apply(ix, LegGone("a1", T0 + 31))
    ix, events = apply(ix, LegGone("cust", T0 + 31))
    assert ix.state is S.ENDED and not ix.finished
    record = events[-1].data
    assert (record["talk_seconds"], record["hold_seconds"]) == (20.0, 5.0)
    assert record["hangup_by"] == "agent"  # the agent's phone sent BYE to the bridged customer
    ix, events = apply(ix, WrapupEnded(7, T0 + 50, "resolved"))
    assert ix.state is S.WRAPUP_DONE and ix.finished and events[0].data["wrapup_seconds"] == 20.0


@pytest.mark.parametrize(("cause", "customer_up", "answered_elsewhere", "outcome"), [
    ("NO_ANSWER", True, False, OfferOutcome.NO_ANSWER),
    ("NO_USER_RESPONSE", True, False, OfferOutcome.NO_ANSWER),
    ("USER_BUSY", True, False, OfferOutcome.REJECTED),
    ("CALL_REJECTED", True, False, OfferOutcome.REJECTED),
    ("USER_NOT_REGISTERED", True, False, OfferOutcome.UNREGISTERED),
    ("SUBSCRIBER_ABSENT", True, False, OfferOutcome.UNREGISTERED),
    ("ORIGINATOR_CANCEL", True, False, OfferOutcome.WITHDRAWN),
    ("LOSE_RACE", True, True, OfferOutcome.WITHDRAWN),
    ("NORMAL_CLEARING", True, True, OfferOutcome.WITHDRAWN),
    ("NORMAL_CLEARING", True, False, OfferOutcome.FAILED),
    ("DESTINATION_OUT_OF_ORDER", True, False, OfferOutcome.FAILED),
    ("NO_ANSWER", False, False, OfferOutcome.CALLER_GONE),
    ("ORIGINATOR_CANCEL", False, False, OfferOutcome.CALLER_GONE),
])
def test_ring_outcome(cause: str, customer_up: bool, answered_elsewhere: bool, outcome: OfferOutcome) -> None:
    ix = inbound(CallState.OFFERING)
    if not customer_up:
        ix, _ = apply(ix, LegHungUp("cust", T0 + 1, "NORMAL_CLEARING"))
    if answered_elsewhere:
        ix = replace(ix, offers=(Offer("x", 9, "", T0, outcome=OfferOutcome.ANSWERED),))
    assert ring_outcome(ix, cause) is outcome
