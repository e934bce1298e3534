"""Not ready after this call: the rules (table-driven) and the desktop's endpoints and
pushes over the whole stack (Flask and Socket.IO test clients, the simulated switch,
a real PostgreSQL)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cti.agent_states import AgentState
from cti.call_errors import BadRequest
from tests.webapp.agent_calls import CUSTOMERS, agent_state, end, fast_stack, ready
from tests.webapp.agent_web import Inbox, sign_in, socket_for
from webapp import create_app
from webapp.after_call import (
    QUEUED_IN,
    STEPS,
    AfterCall,
    Step,
    check_reason,
    is_queued_in,
    step_for,
)

# -- the rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(("state", "step"), [
    ("reserved", Step.WAIT), ("on_call", Step.WAIT), ("on_hold", Step.WAIT), ("in_consult", Step.WAIT),
    ("wrap_up", Step.WAIT), ("available", Step.APPLY), ("not_ready", Step.DROP), ("logged_out", Step.DROP),
    ("no_such_state", Step.DROP),
])
def test_what_a_queued_request_does_in_each_state(state: str, step: Step) -> None:
    assert step_for(state) is step


def test_the_table_covers_every_agent_state() -> None:
    assert set(STEPS) == set(AgentState)


@given(st.sampled_from(list(AgentState)))
def test_a_request_is_queued_exactly_where_the_call_keeps_it_waiting(state: AgentState) -> None:
    """Queued only while a call rings or is up; there it waits (never applied nor dropped)."""
    assert is_queued_in(state.value) == (state in QUEUED_IN)
    if is_queued_in(state.value):
        assert step_for(state.value) is Step.WAIT


def test_the_reason_must_be_one_agents_may_choose() -> None:
    assert check_reason(" lunch ", ["break", "lunch"]) == "lunch"
    with pytest.raises(BadRequest) as refused:
        check_reason("nap", ["break", "lunch"])
    assert refused.value.field == "reason" and "break, lunch" in refused.value.message
    assert AfterCall("lunch", 5.0).to_dict() == {"state": "not_ready", "reason": "lunch", "asked_at": 5.0}


# -- over the stack -------------------------------------------------------------------------

slow = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(site_db_url, tmp_path_factory):
    yield from fast_stack(site_db_url, tmp_path_factory.mktemp("after-call"))


@pytest.fixture(scope="module")
def web(stack):
    return create_app(stack.services, {"TESTING": True})


def on_a_call(stack, agent, code: str, number: str, queue: str = "billing") -> tuple[int, str]:
    agent_id = ready(stack, code)
    dialled = agent.post("/agent/api/dial", {"number": number, "queue": queue})
    assert dialled.status_code == 200, dialled.get_json()
    iid = dialled.get_json()["interaction_id"]
    stack.wait_event("call.answered", interaction_id=iid)
    stack.wait_for(lambda: agent_state(stack, agent_id) == "on_call", what="on the call")
    return agent_id, iid


@slow
def test_not_ready_during_a_call_waits_for_the_wrap_up_to_be_saved(web, stack) -> None:
    app, socketio = web
    agent = sign_in(app, "agent1010")
    inbox = Inbox(socket_for(socketio, app, agent))
    agent_id, iid = on_a_call(stack, agent, "1010", CUSTOMERS[20])

    queued = agent.post("/agent/api/state", {"state": "not_ready", "reason": "lunch"})
    assert queued.status_code == 200, queued.get_json()
    body = queued.get_json()
    assert body["agent"]["state"] == "on_call" and body["after_call"]["reason"] == "lunch"
    assert inbox.named("after_call")[-1]["after_call"]["reason"] == "lunch"
    assert agent.get("/agent/api/state").get_json()["after_call"]["reason"] == "lunch"

    end(stack, iid)
    stack.wait_for(lambda: agent_state(stack, agent_id) == "wrap_up", what="wrap-up")
    assert agent.get("/agent/api/state").get_json()["after_call"]["reason"] == "lunch", "kept through wrap-up"
    done = agent.post("/agent/api/wrapup", {"interaction_id": iid, "disposition": "resolved"})
    assert done.status_code == 200, done.get_json()
    after = done.get_json()
    assert (after["agent"]["state"], after["agent"]["reason"]) == ("not_ready", "lunch")
    assert after["after_call"] is None
    stack.wait_for(lambda: (stack.db.fetchone("SELECT disposition FROM interactions WHERE id = %s", (iid,))
                            or {}).get("disposition") == "resolved", what="the disposition stored")
    assert inbox.named("after_call")[-1] == {"after_call": None}


@slow
def test_a_wrap_up_that_times_out_ends_not_ready(web, stack) -> None:
    """The vip queue's wrap-up lasts 5 s: the request is carried out when it ends."""
    app, _ = web
    agent = sign_in(app, "agent1015")
    agent_id, iid = on_a_call(stack, agent, "1015", CUSTOMERS[21], queue="vip")
    assert agent.post("/agent/api/state", {"state": "not_ready", "reason": "break"}).status_code == 200
    end(stack, iid)
    stack.wait_for(lambda: agent_state(stack, agent_id) == "not_ready", timeout=20, what="not ready after wrap-up")
    assert stack.core.state.agent(agent_id).reason == "break"
    assert agent.get("/agent/api/state").get_json()["after_call"] is None


@slow
def test_a_cancelled_request_leaves_the_agent_ready(web, stack) -> None:
    app, _ = web
    agent = sign_in(app, "agent1011")
    agent_id, iid = on_a_call(stack, agent, "1011", CUSTOMERS[22])
    agent.post("/agent/api/state", {"state": "not_ready", "reason": "break"})
    cancelled = agent.client.delete("/agent/api/after-call", headers={"Accept": "application/json",
                                                                      "X-CSRFToken": agent.token})
    assert cancelled.status_code == 200 and cancelled.get_json()["after_call"] is None
    end(stack, iid)
    stack.wait_for(lambda: agent_state(stack, agent_id) == "wrap_up", what="wrap-up")
    done = agent.post("/agent/api/wrapup", {"interaction_id": iid, "disposition": "resolved"}).get_json()
    assert done["agent"]["state"] == "available"


@slow
def test_a_bad_reason_is_refused_at_once_and_nothing_is_queued(web, stack) -> None:
    app, _ = web
    agent = sign_in(app, "agent1012")
    _agent_id, iid = on_a_call(stack, agent, "1012", CUSTOMERS[23])
    refused = agent.post("/agent/api/state", {"state": "not_ready", "reason": "nap"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["field"] == "reason" and "lunch" in refused.get_json()["error"]["message"]
    assert agent.get("/agent/api/state").get_json()["after_call"] is None
    end(stack, iid)


@slow
def test_a_supervisor_forcing_not_ready_makes_the_request_moot(web, stack) -> None:
    app, socketio = web
    agent = sign_in(app, "agent1013")
    inbox = Inbox(socket_for(socketio, app, agent))
    agent_id, iid = on_a_call(stack, agent, "1013", CUSTOMERS[24])
    agent.post("/agent/api/state", {"state": "not_ready", "reason": "lunch"})
    stack.core.command(stack.core.state.force_not_ready, agent_id, by="supervisor:test", now=time.time())
    stack.wait_for(lambda: inbox.named("after_call") and inbox.named("after_call")[-1] == {"after_call": None},
                   what="the request dropped")
    assert agent.get("/agent/api/state").get_json()["after_call"] is None
    end(stack, iid)
    assert stack.core.state.agent(agent_id).reason == "forced", "the supervisor's reason stands"


@slow
def test_only_this_agent_hears_about_the_request(web, stack) -> None:
    app, socketio = web
    agent, other = sign_in(app, "agent1014"), sign_in(app, "agent1009")
    supervisor = sign_in(app, "super2")
    boxes = [Inbox(socket_for(socketio, app, b)) for b in (other, supervisor)]
    _agent_id, iid = on_a_call(stack, agent, "1014", CUSTOMERS[25])
    agent.post("/agent/api/state", {"state": "not_ready", "reason": "lunch"})
    agent.client.delete("/agent/api/after-call", headers={"Accept": "application/json", "X-CSRFToken": agent.token})
    end(stack, iid)
    assert all(box.named("after_call") == [] for box in boxes)
