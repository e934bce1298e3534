"""The agent state machine: every (state, trigger) pair, then the details of apply()."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti import agents as ag
from cti.agent_states import (
    FROM_REQUEST,
    KEEP,
    TRANSITIONS,
    AgentState,
    AgentTrigger,
    IllegalAgentTransition,
    move_for,
)
from cti.bus import DomainEvent

A = AgentState
T = AgentTrigger
AT = 1_800_000_000.0


def changes(effects: list[ag.AgentEffect]) -> list[DomainEvent]:
    return [e for e in effects if isinstance(e, DomainEvent)]


def agent_in(state: AgentState) -> ag.Agent:
    """An agent in ``state`` that follows leg L1 of interaction I1 (so leg facts apply)."""
    return ag.Agent(
        id=7, state=state, reason="break" if state is A.NOT_READY else "", extension="1001",
        dial_string="user/1001", since=AT - 60, interaction_id="I1", leg_uuid="L1", direction="inbound",
        wrapup_interaction="I1" if state is A.WRAP_UP else None,
        wrapup_ends_at=AT + 10 if state is A.WRAP_UP else None,
    )


INPUTS: dict[AgentTrigger, ag.AgentInput] = {
    T.LOGIN_AVAILABLE: ag.Login(AT, "1002", ready=True),
    T.LOGIN_NOT_READY: ag.Login(AT, "1002"),
    T.LOGOUT: ag.Logout(AT),
    T.GO_AVAILABLE: ag.SetAvailable(AT),
    T.GO_NOT_READY: ag.SetNotReady(AT, "lunch"),
    T.OFFER: ag.Offered(AT, "I2", "L2", "inbound"),
    T.RING_ANSWERED: ag.RingAnswered(AT, "L1"),
    T.RING_NO_ANSWER: ag.RingEnded(AT, "L1", "no_answer"),
    T.RING_UNREACHABLE: ag.RingEnded(AT, "L1", "unregistered"),
    T.RING_CANCELLED: ag.RingEnded(AT, "L1", "caller_gone"),
    T.HOLD: ag.Hold(AT, "L1"),
    T.UNHOLD: ag.Unhold(AT, "L1"),
    T.CONSULT_START: ag.ConsultStarted(AT, "L1"),
    T.CONSULT_END: ag.ConsultEnded(AT, "L1", held=False),
    T.CONSULT_END_HELD: ag.ConsultEnded(AT, "L1", held=True),
    T.CALL_ENDED: ag.CallEnded(AT, "L1", 30.0),
    T.CALL_ENDED_NO_WRAPUP: ag.CallEnded(AT, "L1", 0),
    T.ADOPT_CALL: ag.CallAdopted(AT, "I1", "L1", "outbound"),
    T.WRAPUP_DONE: ag.WrapupDone(AT),
    T.WRAPUP_TIMEOUT: ag.WrapupTimeout(AT, "I1"),
    T.FORCE_NOT_READY: ag.ForceNotReady(AT, "supervisor 3"),
    T.FORCE_LOGOUT: ag.ForceLogout(AT, "supervisor 3"),
}


def test_every_trigger_has_an_input() -> None:
    assert set(INPUTS) == set(AgentTrigger)
    assert all(ag.trigger_of(event) is trigger for trigger, event in INPUTS.items())


@pytest.mark.parametrize(("state", "trigger"), list(itertools.product(AgentState, AgentTrigger)))
def test_every_state_and_trigger_is_in_the_table_or_raises(state: AgentState, trigger: AgentTrigger) -> None:
    agent = agent_in(state)
    event = INPUTS[trigger]
    if trigger is T.WRAPUP_TIMEOUT and state is not A.WRAP_UP:
        # a timer that fires after the agent left wrap-up is stale: ignored by design
        assert ag.apply(agent, event) == (agent, [])
        return
    if (state, trigger) not in TRANSITIONS:
        with pytest.raises(IllegalAgentTransition) as info:
            ag.apply(agent, event)
        assert str(info.value).startswith("agent 7 cannot ")
        assert info.value.state is state and info.value.trigger is trigger
        return
    move = TRANSITIONS[(state, trigger)]
    after, effects = ag.apply(agent, event)
    assert after.state is move.target
    expected_reason = {FROM_REQUEST: getattr(event, "reason", ""), KEEP: agent.reason}.get(move.reason, move.reason)
    assert after.reason == expected_reason
    changes = [e for e in effects if isinstance(e, DomainEvent)]
    changed = (after.state, after.reason) != (agent.state, agent.reason)
    assert len(changes) == (1 if changed else 0)
    if changed:
        data = changes[0].data
        assert changes[0].type == "agent.state_changed" and changes[0].agent_id == 7 and changes[0].at == AT
        assert (data["state"], data["previous_state"], data["reason"]) == (after.state.value, state.value, after.reason)
        assert after.since == AT


@pytest.mark.parametrize(("state", "trigger", "message"), [
    (A.ON_CALL, T.GO_AVAILABLE, "agent 7 cannot go available while on_call"),
    (A.ON_CALL, T.LOGOUT, "agent 7 cannot log out while on_call"),
    (A.RESERVED, T.GO_NOT_READY, "agent 7 cannot go not_ready while reserved"),
    (A.NOT_READY, T.OFFER, "agent 7 cannot be offered a call while not_ready"),
    (A.AVAILABLE, T.WRAPUP_DONE, "agent 7 cannot finish wrap-up while available"),
    (A.LOGGED_OUT, T.FORCE_NOT_READY, "agent 7 cannot be forced not_ready while logged_out"),
])
def test_illegal_transitions_say_what_is_wrong(state: AgentState, trigger: AgentTrigger, message: str) -> None:
    with pytest.raises(IllegalAgentTransition, match=f"^{message}$"):
        move_for(7, state, trigger)


def test_login_sets_the_phone_and_logout_clears_it() -> None:
    agent, effects = ag.apply(ag.Agent(7), ag.Login(AT, "2001"))
    assert (agent.state, agent.reason, agent.extension, agent.dial_string) == (A.NOT_READY, "login", "2001", "user/2001")
    assert changes(effects)[0].data["extension"] == "2001"
    agent, _ = ag.apply(agent, ag.SetAvailable(AT + 1))
    agent, effects = ag.apply(agent, ag.Logout(AT + 2))
    assert (agent.state, agent.extension, agent.dial_string) == (A.LOGGED_OUT, "", "")
    assert changes(effects)[0].data["extension"] == "2001"  # the phone that was logged out of
    hot_desk, _ = ag.apply(agent, ag.Login(AT + 3, "3001", ready=True, dial_string="sofia/internal/3001@pbx"))
    assert (hot_desk.extension, hot_desk.dial_string, hot_desk.state) == ("3001", "sofia/internal/3001@pbx", A.AVAILABLE)


@pytest.mark.parametrize("extension", ["", "10 01", "1001\n", "x" * 65, "user/1001"])
def test_bad_extension_is_refused_with_a_message(extension: str) -> None:
    with pytest.raises(ag.AgentRequestError, match="extension"):
        ag.apply(ag.Agent(7), ag.Login(AT, extension))


def test_not_ready_reason_must_be_a_configured_code() -> None:
    agent = agent_in(A.AVAILABLE)
    with pytest.raises(ag.AgentRequestError, match="use one of: break, lunch"):
        ag.apply(agent, ag.SetNotReady(AT, "nap"), reason_codes={"break", "lunch"})
    moved, _ = ag.apply(agent, ag.SetNotReady(AT, "lunch"), reason_codes={"break", "lunch"})
    assert moved.reason == "lunch"
    # a system reason cannot be chosen by the agent
    with pytest.raises(ag.AgentRequestError):
        ag.apply(agent, ag.SetNotReady(AT, "missed"), reason_codes={"break"})


def test_the_middleware_may_log_an_agent_in_again_after_a_restart() -> None:
    agent, _ = ag.apply(ag.Agent(7), ag.Login(AT, "1001", reason="restored"), reason_codes={"break"})
    assert (agent.state, agent.reason) == (A.NOT_READY, "restored")


def test_changing_the_not_ready_reason_publishes_a_change() -> None:
    agent, effects = ag.apply(agent_in(A.NOT_READY), ag.SetNotReady(AT, "meeting"))
    assert agent.reason == "meeting" and changes(effects)[0].data["previous_state"] == "not_ready"
    same, effects = ag.apply(agent, ag.SetNotReady(AT + 1, "meeting"))
    assert same == agent and effects == []


@pytest.mark.parametrize(("outcome", "state", "reason"), [
    ("no_answer", A.NOT_READY, "missed"),      # RONA
    ("rejected", A.NOT_READY, "missed"),
    ("unregistered", A.NOT_READY, "unreachable"),
    ("failed", A.NOT_READY, "unreachable"),
    ("caller_gone", A.AVAILABLE, ""),
    ("withdrawn", A.AVAILABLE, ""),
])
def test_ring_outcomes(outcome: str, state: AgentState, reason: str) -> None:
    agent, _ = ag.apply(agent_in(A.RESERVED), ag.RingEnded(AT, "L1", outcome))
    assert (agent.state, agent.reason, agent.leg_uuid, agent.interaction_id) == (state, reason, None, None)


def test_a_ring_lost_during_resync_does_not_blame_the_agent() -> None:
    agent, _ = ag.apply(agent_in(A.RESERVED), ag.RingEnded(AT, "L1", "failed", agent_at_fault=False))
    assert agent.state is A.AVAILABLE


def test_wrapup_with_a_limit_starts_a_timer_and_times_out() -> None:
    agent, effects = ag.apply(agent_in(A.ON_CALL), ag.CallEnded(AT, "L1", 45.0))
    assert agent.state is A.WRAP_UP and agent.wrapup_interaction == "I1" and agent.leg_uuid is None
    timers = [e for e in effects if isinstance(e, ag.StartWrapupTimer)]
    assert timers == [ag.StartWrapupTimer(7, "I1", 45.0, AT + 45.0)]
    assert changes(effects)[0].data["wrapup"] == {"interaction_id": "I1", "ends_at": AT + 45.0}
    # a timer for another wrap-up is stale
    assert ag.apply(agent, ag.WrapupTimeout(AT + 45, "I0")) == (agent, [])
    done, effects = ag.apply(agent, ag.WrapupTimeout(AT + 45, "I1"))
    assert done.state is A.AVAILABLE and done.wrapup_interaction is None
    assert changes(effects)[0].interaction_id == "I1"


def test_wrapup_without_limit_has_no_timer_and_zero_means_no_wrapup() -> None:
    agent, effects = ag.apply(agent_in(A.ON_HOLD), ag.CallEnded(AT, "L1", None))
    assert agent.state is A.WRAP_UP and agent.wrapup_ends_at is None
    assert not [e for e in effects if isinstance(e, ag.StartWrapupTimer)]
    agent, _ = ag.apply(agent_in(A.IN_CONSULT), ag.CallEnded(AT, "L1", 0))
    assert agent.state is A.AVAILABLE


def test_facts_about_a_leg_the_agent_does_not_follow_change_nothing() -> None:
    agent = agent_in(A.ON_CALL)
    for event in (ag.CallEnded(AT, "L9", 30), ag.Hold(AT, "L9"), ag.RingAnswered(AT, "L9")):
        assert ag.apply(agent, event) == (agent, [])


def test_force_from_a_call_says_who_forced_and_the_call_end_changes_nothing_more() -> None:
    agent, effects = ag.apply(agent_in(A.ON_CALL), ag.ForceNotReady(AT, "supervisor 3", "coaching"),
                              reason_codes={"coaching"})
    assert (agent.state, agent.reason, agent.forced_by) == (A.NOT_READY, "coaching", "supervisor 3")
    assert changes(effects)[0].data["forced_by"] == "supervisor 3"
    assert agent.leg_uuid == "L1"  # the call goes on; the agent still follows it
    after, effects = ag.apply(agent, ag.CallEnded(AT + 5, "L1", 30))
    assert (after.state, after.reason, after.leg_uuid, effects) == (A.NOT_READY, "coaching", None, [])
    out, effects = ag.apply(agent_in(A.RESERVED), ag.ForceLogout(AT, "supervisor 3"))
    assert (out.state, out.extension, out.leg_uuid) == (A.LOGGED_OUT, "", None)
    assert changes(effects)[0].data["forced_by"] == "supervisor 3"


def test_hold_and_consult_substates() -> None:
    agent = agent_in(A.ON_CALL)
    agent, _ = ag.apply(agent, ag.Hold(AT, "L1"))
    assert agent.state is A.ON_HOLD
    agent, _ = ag.apply(agent, ag.ConsultStarted(AT, "L1"))
    assert agent.state is A.IN_CONSULT
    agent, effects = ag.apply(agent, ag.Hold(AT, "L1"))
    assert agent.state is A.IN_CONSULT and effects == []
    held, _ = ag.apply(agent, ag.ConsultEnded(AT, "L1", held=True))
    talking, _ = ag.apply(agent, ag.ConsultEnded(AT, "L1", held=False))
    assert (held.state, talking.state) == (A.ON_HOLD, A.ON_CALL)


def test_unknown_ring_outcome_is_a_request_error() -> None:
    with pytest.raises(ag.AgentRequestError):
        ag.trigger_of(ag.RingEnded(AT, "L1", "weird"))


@given(st.lists(st.sampled_from(sorted(INPUTS, key=lambda t: t.value)), max_size=40))
def test_any_sequence_keeps_the_agent_consistent(triggers: list[AgentTrigger]) -> None:
    """Whatever is thrown at it, an agent is either moved by the table or unchanged, and
    its links always match its state."""
    agent = ag.Agent(7)
    for trigger in triggers:
        event = INPUTS[trigger]
        try:
            agent, _ = ag.apply(agent, event)
        except IllegalAgentTransition:
            continue
        if agent.state is A.LOGGED_OUT:
            assert agent.extension == "" and agent.leg_uuid is None
        else:
            assert agent.extension
        if agent.state in (A.RESERVED, A.ON_CALL, A.ON_HOLD, A.IN_CONSULT):
            assert agent.leg_uuid is not None
        if agent.state is A.WRAP_UP:
            assert agent.wrapup_interaction is not None
        else:
            assert agent.wrapup_interaction is None
