"""Call control against the simulated switch over real TCP (cti/call_control.py): every
action checks the live state first, is carried out with real ESL commands, and the
call model (fed only by the switch's events) shows the result."""

from __future__ import annotations

import gevent.event
import pytest

from cti.call_errors import ActionRefused, BadRequest, NotFound
from cti.transfer_states import PARK_AFTER_BRIDGE
from tests.webapp.agent_calls import (
    CUSTOMERS,
    NO_ANSWER,
    agent_state,
    control,
    dial_and_connect,
    end,
    fast_stack,
    ready,
    serving_agent,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(site_db_url, tmp_path_factory):
    yield from fast_stack(site_db_url, tmp_path_factory.mktemp("control"))


@pytest.fixture
def notices(stack):
    seen: list[tuple[int, dict]] = []
    control(stack).subscribe(lambda agent, notice: seen.append((agent, notice)))
    return seen


def test_click_to_dial_hold_resume_dtmf_hangup(stack) -> None:
    agent, ix_id = dial_and_connect(stack, "1010", CUSTOMERS[0])
    calls = control(stack)
    ix = stack.core.state.interaction(ix_id)
    assert ix.direction.value == "outbound" and ix.callee_number == CUSTOMERS[0]
    assert serving_agent(stack, ix_id) == agent

    with pytest.raises(ActionRefused, match="not on hold"):
        calls.resume(agent, ix_id)
    calls.hold(agent, ix_id)
    stack.wait_event("call.held", interaction_id=ix_id)
    stack.wait_for(lambda: agent_state(stack, agent) == "on_hold", what="agent on hold")
    with pytest.raises(ActionRefused, match="already on hold"):
        calls.hold(agent, ix_id)
    calls.resume(agent, ix_id)
    stack.wait_event("call.resumed", interaction_id=ix_id)
    stack.wait_for(lambda: agent_state(stack, agent) == "on_call", what="agent back on the call")

    calls.send_dtmf(agent, ix_id, "12#")
    with pytest.raises(BadRequest, match="0-9"):
        calls.send_dtmf(agent, ix_id, "12;hangup")

    calls.hangup(agent, ix_id)
    ended = stack.wait_event("call.ended", interaction_id=ix_id)
    assert ended.data["outcome"] == "answered"
    stack.wait_for(lambda: agent_state(stack, agent) == "wrap_up", what="agent in wrap-up")


def test_other_agents_and_unknown_calls_are_refused(stack) -> None:
    agent, ix_id = dial_and_connect(stack, "1011", CUSTOMERS[1])
    other = ready(stack, "1012")
    calls = control(stack)
    with pytest.raises(ActionRefused, match="not on this call"):
        calls.hangup(other, ix_id)
    with pytest.raises(NotFound, match="No live call"):
        calls.hold(agent, "5c0ffee0-0000-4000-8000-000000000000")
    with pytest.raises(BadRequest, match="yourself"):
        calls.transfer(agent, ix_id, f"agent:{agent}")
    with pytest.raises(BadRequest, match="not a phone number"):
        calls.transfer(agent, ix_id, "12ab")
    end(stack, ix_id)


def test_consult_then_complete_is_an_attended_transfer(stack, notices) -> None:
    agent, ix_id = dial_and_connect(stack, "1013", CUSTOMERS[2])
    colleague = ready(stack, "1014")
    calls = control(stack)
    session = calls.consult(agent, ix_id, f"agent:{colleague}")
    assert session.state.value == "ringing"
    stack.wait_event("call.consult_started", interaction_id=ix_id)
    stack.wait_for(lambda: calls.session(ix_id) is not None and calls.session(ix_id).state.value == "talking",
                   what="colleague answered")
    assert agent_state(stack, agent) == "in_consult"
    with pytest.raises(ActionRefused, match="Complete or cancel"):
        calls.hangup(agent, ix_id)

    calls.complete(agent, ix_id)
    moved = stack.wait_event("call.transferred", interaction_id=ix_id)
    assert moved.data["kind"] == "attended" and moved.data["to_agent_id"] == colleague
    stack.wait_for(lambda: serving_agent(stack, ix_id) == colleague, what="colleague serving")
    stack.wait_for(lambda: agent_state(stack, agent) == "wrap_up", what="first agent in wrap-up")
    assert calls.session(ix_id) is None
    assert any(n["code"] == "session" and n["state"] == "ended" for a, n in notices if a == agent)
    end(stack, ix_id)
    stack.wait_for(lambda: agent_state(stack, colleague) == "wrap_up", what="colleague in wrap-up")


def test_consult_swap_conference_then_cancel(stack) -> None:
    agent, ix_id = dial_and_connect(stack, "1015", CUSTOMERS[3])
    colleague = ready(stack, "1016")
    calls = control(stack)
    calls.consult(agent, ix_id, f"agent:{colleague}")
    stack.wait_for(lambda: getattr(calls.session(ix_id), "state", None) is not None
                   and calls.session(ix_id).state.value == "talking", what="talking to the colleague")

    calls.swap(agent, ix_id)
    assert calls.session(ix_id).state.value == "swapped"
    stack.wait_for(lambda: serving_agent(stack, ix_id) == agent, what="back with the customer")
    calls.swap(agent, ix_id)
    assert calls.session(ix_id).state.value == "talking"
    stack.wait_for(lambda: serving_agent(stack, ix_id) is None, what="customer waiting again")

    calls.conference(agent, ix_id)
    assert calls.session(ix_id).state.value == "conference"
    stack.wait_for(lambda: serving_agent(stack, ix_id) == agent, what="customer bridged for the conference")
    colleague_leg = calls.session(ix_id).target_leg
    stack.wait_for(lambda: any(c["uuid"] == colleague_leg and c.get("application") == "three_way"
                               for c in stack.switch.channels()), what="colleague joined with three_way")

    calls.cancel(agent, ix_id)
    stack.wait_for(lambda: colleague_leg not in {c["uuid"] for c in stack.switch.channels()}, what="colleague dropped")
    assert serving_agent(stack, ix_id) == agent and calls.session(ix_id) is None
    stack.wait_for(lambda: agent_state(stack, agent) == "on_call", what="agent talking again")
    end(stack, ix_id)


def test_blind_transfer_to_an_agent(stack, notices) -> None:
    agent, ix_id = dial_and_connect(stack, "1017", CUSTOMERS[4])
    colleague = ready(stack, "1018")
    calls = control(stack)
    calls.transfer(agent, ix_id, f"agent:{colleague}")
    offered = stack.wait_event("call.offered", interaction_id=ix_id, agent_id=colleague)
    assert offered.data["screen_pop"]["callee_number"] == CUSTOMERS[4]
    moved = stack.wait_event("call.transferred", interaction_id=ix_id, to_agent_id=colleague)
    assert moved.data["kind"] == "blind"
    stack.wait_for(lambda: serving_agent(stack, ix_id) == colleague, what="colleague serving")
    stack.wait_for(lambda: agent_state(stack, agent) == "wrap_up", what="agent released")
    stack.wait_for(lambda: any(n["code"] == "transferred" for a, n in notices if a == agent), what="notice")
    end(stack, ix_id)


def test_a_transfer_nobody_answers_comes_back_to_the_agent(stack, notices) -> None:
    agent, ix_id = dial_and_connect(stack, "1019", CUSTOMERS[5])
    colleague = ready(stack, "1009")
    stack.switch.unregister_phone("1009")
    try:
        calls = control(stack)
        calls.transfer(agent, ix_id, f"agent:{colleague}")
        stack.wait_for(lambda: any(n["code"] == "target-failed" for a, n in notices if a == agent), what="failure notice")
        failed = next(n for a, n in notices if a == agent and n["code"] == "target-failed")
        assert "not registered" in failed["message"]
        stack.wait_for(lambda: serving_agent(stack, ix_id) == agent and calls.session(ix_id) is None,
                       what="customer back with the agent")
        assert stack.core.state.interaction(ix_id).transfers == ()
    finally:
        stack.switch.register_phone("1009")
    end(stack, ix_id)


def test_transfer_to_a_number_through_the_gateway(stack) -> None:
    agent, ix_id = dial_and_connect(stack, "1008", CUSTOMERS[6])
    calls = control(stack)
    calls.transfer(agent, ix_id, CUSTOMERS[7])
    moved = stack.wait_event("call.transferred", interaction_id=ix_id)
    assert moved.data["target"] == CUSTOMERS[7]
    stack.wait_for(lambda: agent_state(stack, agent) == "wrap_up", what="agent released")
    end(stack, ix_id)


def test_click_to_dial_that_nobody_answers_ends_cleanly(stack) -> None:
    agent = ready(stack, "1007")
    ix_id = control(stack).dial(agent, NO_ANSWER)
    ended = stack.wait_event("call.ended", interaction_id=ix_id, timeout=30)
    assert ended.data["outcome"] in ("no_answer", "failed")
    stack.wait_for(lambda: agent_state(stack, agent) in ("wrap_up", "available"), what="agent free again")


def test_dial_checks_the_number_and_the_agent(stack) -> None:
    agent = ready(stack, "1006")
    with pytest.raises(BadRequest, match="country code"):
        control(stack).dial(agent, "call me")
    stack.core.command(stack.core.state.agent_set_state, agent, "logged_out", now=0)
    # Logged out is "log in first" (the desktop's label for it says so), not "busy".
    with pytest.raises(ActionRefused, match="Log in with your phone") as refused:
        control(stack).dial(agent, CUSTOMERS[8])
    assert refused.value.error_id == "not-logged-in"


def test_an_agent_who_hangs_up_mid_consultation_hands_the_customer_over(stack, monkeypatch) -> None:
    agent, ix_id = dial_and_connect(stack, "1005", CUSTOMERS[9])
    colleague = ready(stack, "1004")
    calls = control(stack)
    calls.consult(agent, ix_id, f"agent:{colleague}")
    with pytest.raises(ActionRefused, match="still ringing"):
        calls.complete(agent, ix_id)
    stack.wait_for(lambda: getattr(calls.session(ix_id), "state", None) is not None
                   and calls.session(ix_id).state.value == "talking", what="talking to the colleague")
    # After the hand-over bridge the session's clean-up (unsetting park_after_bridge)
    # still goes to the switch; hold its replies, as a loaded switch would.
    released, held = gevent.event.Event(), []
    best_effort = calls.link.best_effort

    def slow_clean_up(node: str, command: str) -> bool:
        if command.startswith("uuid_setvar") and command.endswith(PARK_AFTER_BRIDGE):
            held.append(command)
            released.wait(10)
        return best_effort(node, command)

    monkeypatch.setattr(calls.link, "best_effort", slow_clean_up)
    agent_leg = calls.session(ix_id).agent_leg
    stack.switch.hangup(agent_leg)           # the agent's phone hangs up
    try:
        moved = stack.wait_event("call.transferred", interaction_id=ix_id)
        assert moved.data["kind"] == "attended" and moved.data["to_agent_id"] == colleague
        stack.wait_for(lambda: serving_agent(stack, ix_id) == colleague and held, what="customer with the colleague")
        # The call is the colleague's in the step that ended the session, clean-up or not.
        assert calls.session(ix_id) is None
        assert calls.availability(colleague, ix_id)["hold"] is None
    finally:
        released.set()
    stack.wait_for(lambda: calls.transfers.get(ix_id) is None, what="the session's clean-up done")
    end(stack, ix_id)
    stack.wait_for(lambda: agent_state(stack, colleague) == "wrap_up", what="colleague in wrap-up")
