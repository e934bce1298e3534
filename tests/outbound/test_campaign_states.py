"""The campaign and contact state machines: table-driven, every other pair illegal."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outbound.campaign_states import (
    CAMPAIGN_TRANSITIONS,
    CONTACT_TRANSITIONS,
    FINAL_CONTACT_STATES,
    CampaignEffect,
    CampaignEvent,
    CampaignState,
    ContactEffect,
    ContactEvent,
    ContactState,
    campaign_transition,
    contact_transition,
)
from outbound.errors import IllegalTransition

C, CE, CF = CampaignState, CampaignEvent, CampaignEffect
K, KE, KF = ContactState, ContactEvent, ContactEffect


@pytest.mark.parametrize(
    ("state", "event", "new_state", "effects"),
    [
        (C.DRAFT, CE.START, C.RUNNING, {CF.START_DIALING, CF.PUBLISH_CHANGED}),
        (C.DRAFT, CE.SCHEDULE, C.SCHEDULED, {CF.ARM_START_TIMER, CF.PUBLISH_CHANGED}),
        (C.SCHEDULED, CE.START_TIME, C.RUNNING, {CF.START_DIALING, CF.PUBLISH_CHANGED}),
        (C.SCHEDULED, CE.STOP, C.STOPPED, {CF.CANCEL_START_TIMER, CF.PUBLISH_CHANGED}),
        (C.RUNNING, CE.PAUSE, C.PAUSED, {CF.STOP_DIALING, CF.PUBLISH_CHANGED}),
        (C.PAUSED, CE.RESUME, C.RUNNING, {CF.START_DIALING, CF.PUBLISH_CHANGED}),
        (C.RUNNING, CE.EXHAUSTED, C.FINISHED, {CF.STOP_DIALING, CF.PUBLISH_CHANGED, CF.PUBLISH_FINISHED}),
        (C.RUNNING, CE.END_TIME, C.FINISHED, {CF.STOP_DIALING, CF.PUBLISH_CHANGED, CF.PUBLISH_FINISHED}),
        (C.RUNNING, CE.STOP, C.STOPPED, {CF.STOP_DIALING, CF.PUBLISH_CHANGED}),
        (C.STOPPED, CE.REOPEN, C.DRAFT, {CF.PUBLISH_CHANGED}),
    ],
)
def test_campaign_transitions(state: CampaignState, event: CampaignEvent, new_state: CampaignState,
                              effects: set[CampaignEffect]) -> None:
    reached, done = campaign_transition(state, event)
    assert reached is new_state
    assert set(done) == effects


@pytest.mark.parametrize(
    ("state", "event"),
    [(C.DRAFT, CE.PAUSE), (C.RUNNING, CE.START), (C.PAUSED, CE.PAUSE), (C.FINISHED, CE.START),
     (C.STOPPED, CE.RESUME), (C.DRAFT, CE.EXHAUSTED)],
)
def test_illegal_campaign_events_raise_one_clear_error(state: CampaignState, event: CampaignEvent) -> None:
    with pytest.raises(IllegalTransition) as info:
        campaign_transition(state, event)
    assert info.value.status == 409
    assert f"'{event.value}' is not allowed in state '{state.value}'" in info.value.message


def test_a_typical_contact_life() -> None:
    state = K.NEW
    seen = []
    for event in (KE.DIAL_REFUSED, KE.DIAL, KE.RETRY, KE.DIAL, KE.ANSWERED, KE.DONE):
        state, effects = contact_transition(state, event)
        seen.append((state, effects))
    assert [s for s, _ in seen] == [K.SCHEDULED_RETRY, K.DIALING, K.SCHEDULED_RETRY, K.DIALING, K.CONNECTED, K.DONE]
    assert seen[1][1] == (KF.RECORD_ATTEMPT,)
    assert seen[-1][1] == (KF.CLOSE_ATTEMPT, KF.CHECK_EXHAUSTED)


def test_asking_not_to_be_called_adds_to_the_campaign_dnc() -> None:
    assert contact_transition(K.CONNECTED, KE.DNC) == (
        K.DNC, (KF.CLOSE_ATTEMPT, KF.ADD_TO_CAMPAIGN_DNC, KF.CHECK_EXHAUSTED))
    assert contact_transition(K.NEW, KE.DNC) == (K.DNC, (KF.CHECK_EXHAUSTED,))


def test_final_states_only_leave_by_recycling() -> None:
    for state, event in itertools.product(FINAL_CONTACT_STATES, ContactEvent):
        if event is KE.RECYCLE:
            assert contact_transition(state, event) == (K.NEW, ())
        else:
            with pytest.raises(IllegalTransition):
                contact_transition(state, event)


def test_every_state_is_reachable_and_every_table_entry_is_distinct() -> None:
    assert {s for s, _ in CAMPAIGN_TRANSITIONS.values()} | {C.DRAFT} == set(CampaignState)
    assert {s for s, _ in CONTACT_TRANSITIONS.values()} | {K.NEW} == set(ContactState)


@given(st.sampled_from(CampaignState), st.sampled_from(CampaignEvent))
def test_campaign_machine_is_exactly_its_table(state: CampaignState, event: CampaignEvent) -> None:
    if (state, event) in CAMPAIGN_TRANSITIONS:
        assert campaign_transition(state, event) == CAMPAIGN_TRANSITIONS[(state, event)]
    else:
        with pytest.raises(IllegalTransition):
            campaign_transition(state, event)


@given(st.lists(st.sampled_from(ContactEvent), max_size=30))
def test_random_contact_event_sequences_stay_in_known_states(events: list[ContactEvent]) -> None:
    state = K.NEW
    for event in events:
        try:
            state, effects = contact_transition(state, event)
        except IllegalTransition as exc:
            assert (state, event) not in CONTACT_TRANSITIONS
            assert exc.machine == "contact"
            continue
        assert isinstance(state, ContactState)
        assert all(isinstance(e, ContactEffect) for e in effects)
