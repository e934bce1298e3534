"""An agent's blind transfer to a queue, end to end: the agent desktop's call control
(``transfer(agent, call, "queue:<name>")``) over the routing engine, the simulated
switch over real TCP and a real PostgreSQL.

The customer leaves the agent's bridge and is parked again through our inbound
extension, hears the queue's music, and is offered to that queue's agents; the
agent's leg ends and the agent goes to wrap-up; the record shows one blind transfer
to the queue and two queue visits. Refusals say what to change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cti.call_control import CallControl
from cti.call_errors import BadRequest
from esl.simulator import CallerBehaviour
from routing.engine import EngineRequestError
from tests.routing.engine_site import engine_stack, interaction_of
from tests.stack import Stack

pytestmark = pytest.mark.slow

SITE: dict[str, Any] = {
    "queues": [
        {"name": "t_first", "ring_timeout": 20, "wrapup": 3},
        {"name": "t_second", "ring_timeout": 20, "wrapup": 0},
        {"name": "t_new", "ring_timeout": 20, "wrapup": 0, "transfers_keep_wait": False},
    ],
    "flows": [{"name": "f_first", "start": "q", "nodes": {"q": {"type": "queue", "queue": "t_first"}}}],
    "dids": [{"number": "5553001", "flow": "f_first"}],
    "agents": [
        {"username": f"tr{code}", "password": f"pw{code}pw", "code": code, "extension": code, "queues": [queue]}
        for code, queue in (("4001", "t_first"), ("4002", "t_second"), ("4003", "t_first"), ("4004", "t_new"))
    ],
}


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = engine_stack(database_url, tmp_path_factory.mktemp("engine-transfer"), SITE)
    stack.use_switch_clock()
    stack.record_channel_events()
    for code in ("4001", "4002", "4003", "4004"):
        stack.switch.register_phone(code, answer_after=0.5)
    yield stack
    stack.close()


def _control(site: Stack) -> CallControl:
    return CallControl.for_services(site.services)


def _connected(site: Stack, code: str, caller: str) -> tuple[str, str, int]:
    """A call to t_first answered by agent ``code`` (the only one of t_first available)."""
    agent = site.agent_id(code)
    if site.core.state.agent(agent).state.value == "logged_out":
        site.login(code)
    site.wait_for(lambda: site.core.state.agent(agent).state.value == "available", what=f"agent {code} available")
    for other in ("4001", "4003"):
        other_id = site.agent_id(other)
        if other != code and site.core.state.agent(other_id).state.value == "available":
            site.core.command(site.core.state.agent_set_state, other_id, "not_ready", "break", now=site.core.clock())
    leg = site.switch.place_inbound_call(did="5553001", caller_number=caller,
                                         behaviour=CallerBehaviour(talk_time=600.0))
    iid = interaction_of(site, leg)
    site.wait_event("call.answered", interaction_id=iid, agent_id=agent)
    site.wait_for(lambda: site.services.routing.sessions[iid].phase.value == "connected", what="the bridge")
    return leg, iid, agent


def test_a_transfer_to_a_queue_puts_the_caller_back_in_line_for_that_queue(site: Stack) -> None:
    engine = site.services.routing
    second = site.login("4002", ready=False)
    leg, iid, first = _connected(site, "4001", "+15553001")
    agent_leg = site.core.state.interaction(iid).serving_leg
    first_arrival = site.core.state.interaction(iid).queue_entered_at

    _control(site).transfer(first, iid, "queue:t_second")

    site.wait_for(lambda: engine.waiting_calls("t_second"), what="the caller waiting in t_second")
    site.wait_for(lambda: any(e.name == "PLAYBACK_START" and e.uuid == leg and e.get("Playback-File-Path")
                              == "local_stream://moh" for e in site.raw), what="the queue's music")
    site.wait_for(lambda: not any(c["uuid"] == agent_leg for c in site.switch.channels()), what="the agent leg to end")
    site.wait_for(lambda: site.core.state.agent(first).state.value in ("wrap_up", "available"), what="the agent freed")
    states = [e.data["state"] for e in site.events if e.type == "agent.state_changed" and e.agent_id == first]
    assert states[states.index("on_call") + 1] == "wrap_up"
    assert engine.sessions[iid].waiting.arrived_at == first_arrival  # t_second keeps the caller's first arrival

    site.core.command(site.core.state.agent_set_state, second, "available", now=site.core.clock())
    answered = site.wait_event("call.answered", interaction_id=iid, agent_id=second)
    assert answered.data["wait_seconds"] is not None
    site.switch.hangup(leg)
    ended = site.wait_event("call.ended", interaction_id=iid)
    assert [(t["kind"], t["target"], t["from_agent_id"]) for t in ended.data["transfer_history"]] == [
        ("blind", "queue:t_second", first)]
    assert [(v["queue"], v["outcome"], v["agent_id"]) for v in ended.data["queue_visits"]] == [
        ("t_first", "answered", first), ("t_second", "answered", second)]
    assert ended.data["outcome"] == "answered" and ended.data["agent_id"] == second
    transfers = [e for e in site.events if e.type == "call.transferred" and e.interaction_id == iid]
    assert [e.data["target"] for e in transfers] == ["queue:t_second"]


def test_a_queue_that_does_not_keep_the_wait_ranks_the_call_as_new(site: Stack) -> None:
    engine = site.services.routing
    site.login("4004", ready=False)
    leg, iid, agent = _connected(site, "4003", "+15553002")
    _control(site).transfer(agent, iid, "queue:t_new")
    site.wait_for(lambda: engine.waiting_calls("t_new"), what="the caller waiting in t_new")
    assert engine.sessions[iid].waiting.arrived_at is None
    site.switch.hangup(leg)
    site.wait_event("call.abandoned", interaction_id=iid)


def test_transfers_to_a_queue_that_cannot_be_done_say_what_to_change(site: Stack) -> None:
    leg, iid, agent = _connected(site, "4001", "+15553003")
    control = _control(site)
    with pytest.raises(BadRequest, match="no queue 'nowhere'") as bad:
        control.transfer(agent, iid, "queue:nowhere")
    assert bad.value.error_id == "bad-queue"
    with pytest.raises(EngineRequestError, match="not yours") as refused:
        site.services.routing.transfer_to_queue(iid, "t_second", from_agent=agent + 1000)
    assert refused.value.reason == "refused"
    assert site.core.state.interaction(iid).state.value == "connected"  # nothing changed
    site.switch.hangup(leg)
    site.wait_event("call.ended", interaction_id=iid)
