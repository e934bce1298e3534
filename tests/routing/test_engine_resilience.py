"""The routing engine after an event-socket drop: real TCP to the simulated switch, the
real services and a real PostgreSQL. Each test breaks the link at a chosen moment
(``stall_replies`` keeps it down for a second, so what the switch does meanwhile is
never reported) and checks that the engine lines itself up with the switch after the
resync instead of waiting for events that will never come:

* an agent who answers while the link is down is bridged to the waiting caller;
* a caller who leaves while the link is down has the answered agent leg hung up;
* a ring that ends while the link is down fails the offer without blame: next agent;
* an IVR prompt whose end was lost is played again, and the flow goes on;
* a waiting caller whose announcement ended unseen gets the music back;
* an application whose end never comes is given up once its bound passes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import gevent
import pytest

from esl.simulator import CallerBehaviour
from routing.sessions import Phase
from tests.routing.engine_site import engine_stack, interaction_of
from tests.stack import Stack

pytestmark = pytest.mark.slow

OUTAGE = 1.0   # real seconds the switch answers nothing after the drop (its events are lost)


def _queue(name: str, **settings: Any) -> dict[str, Any]:
    return {"name": name, "ring_timeout": 20, "wrapup": 0, **settings}


def _agent(code: str, queue: str) -> dict[str, Any]:
    return {"username": f"res{code}", "password": f"pw{code}pw", "code": code, "extension": code, "queues": [queue]}


def _flow(name: str, queue: str, *, prompt: str | None = None) -> dict[str, Any]:
    nodes: dict[str, Any] = {"q": {"type": "queue", "queue": queue}}
    if prompt is None:
        return {"name": name, "start": "q", "nodes": nodes}
    nodes["intro"] = {"type": "play", "prompt": prompt, "next": "q"}
    return {"name": name, "start": "intro", "nodes": nodes}


SITE: dict[str, Any] = {
    "queues": [
        _queue("r_bridge"), _queue("r_gone"), _queue("r_vanish", ring_timeout=5), _queue("r_prompt"),
        _queue("r_announce", announce={"every": 60, "position": True, "position_prompt": "r_position.wav"}),
        _queue("r_bound"),
    ],
    "flows": [
        _flow("f_bridge", "r_bridge"), _flow("f_gone", "r_gone"), _flow("f_vanish", "r_vanish"),
        _flow("f_prompt", "r_prompt", prompt="r_intro.wav"), _flow("f_announce", "r_announce"),
        _flow("f_bound", "r_bound", prompt="silence_stream://600000"),
    ],
    "dids": [
        {"number": "5552001", "flow": "f_bridge"}, {"number": "5552002", "flow": "f_gone"},
        {"number": "5552003", "flow": "f_vanish"}, {"number": "5552004", "flow": "f_prompt"},
        {"number": "5552005", "flow": "f_announce"}, {"number": "5552006", "flow": "f_bound"},
    ],
    "agents": [
        _agent("3001", "r_bridge"), _agent("3002", "r_gone"), _agent("3003", "r_vanish"), _agent("3004", "r_vanish"),
        _agent("3005", "r_prompt"), _agent("3006", "r_bound"),
    ],
}


@pytest.fixture(scope="module")
def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = engine_stack(database_url, tmp_path_factory.mktemp("engine-resilience"), SITE)
    stack.use_switch_clock()
    stack.record_channel_events()
    yield stack
    stack.close()


def _outage(site: Stack) -> None:
    """Drop the event socket and keep the switch silent for :data:`OUTAGE` seconds;
    returns once the middleware has reconnected and resynced."""
    client = next(iter(site.core.switches))
    before = client.stats.resyncs
    site.switch.stall_replies(OUTAGE)
    site.switch.drop_connections()
    site.wait_for(lambda: not client.connected, timeout=5, what="the link to drop")
    site.wait_for(lambda: client.connected and client.stats.resyncs > before, timeout=15, what="the resync")


def _on_switch(site: Stack, uuid: str) -> bool:
    return any(c["uuid"] == uuid for c in site.switch.channels())


def _of(site: Stack, type_: str, iid: str) -> list[Any]:
    return [e for e in site.events if e.type == type_ and e.interaction_id == iid]


def _playbacks(site: Stack, leg: str) -> list[str]:
    return [e.get("Playback-File-Path") for e in site.raw if e.name == "PLAYBACK_START" and e.uuid == leg]


def _ringing_leg(site: Stack, iid: str) -> str:
    offered = site.wait_event("call.offered", interaction_id=iid)
    leg = str(offered.data["leg_uuid"])
    site.wait_for(lambda: _on_switch(site, leg), what="the agent's phone to ring")
    return leg


def test_an_agent_who_answers_while_the_link_is_down_is_bridged_after_the_resync(site: Stack) -> None:
    site.switch.register_phone("3001", answer_after=3.0)   # answers 0.3 s (real) into the outage
    agent = site.login("3001")
    leg = site.switch.place_inbound_call(did="5552001", caller_number="+15552001",
                                         behaviour=CallerBehaviour(talk_time=5.0))
    iid = interaction_of(site, leg)
    agent_leg = _ringing_leg(site, iid)

    _outage(site)

    answered = site.wait_event("call.answered", interaction_id=iid, timeout=10)
    assert answered.agent_id == agent and answered.data["leg_uuid"] == agent_leg
    assert [c["bridged_to"] for c in site.switch.channels() if c["uuid"] == leg] == [agent_leg]
    ended = site.wait_event("call.ended", interaction_id=iid, timeout=15)
    assert ended.data["outcome"] == "answered"
    assert len(_of(site, "call.offered", iid)) == 1 and not _of(site, "call.offer_failed", iid)
    site.wait_for(lambda: site.core.state.agent(agent).state.value == "available", what="the agent free again")
    assert site.services.routing.stats.resyncs >= 1


def test_a_caller_who_leaves_while_the_link_is_down_has_the_answered_agent_leg_hung_up(site: Stack) -> None:
    site.switch.register_phone("3002", answer_after=3.0)
    agent = site.login("3002")
    leg = site.switch.place_inbound_call(did="5552002", caller_number="+15552002")
    iid = interaction_of(site, leg)
    agent_leg = _ringing_leg(site, iid)

    gevent.spawn_later(0.6, site.switch.hangup, leg)   # after the agent answered, still in the outage
    _outage(site)

    site.wait_for(lambda: not _on_switch(site, agent_leg), timeout=10, what="the agent leg to be hung up")
    ended = site.wait_event("call.ended", interaction_id=iid, timeout=10)
    assert ended.data["outcome"] == "abandoned"
    site.wait_for(lambda: site.core.state.agent(agent).state.value == "available", what="the agent free again")
    assert site.services.routing.sessions.get(iid) is None


def test_a_ring_that_ends_while_the_link_is_down_goes_to_the_next_agent_without_blame(site: Stack) -> None:
    site.switch.register_phone("3003", behaviour="no_answer")   # rings out (5 s = 0.5 s real) in the outage
    site.switch.register_phone("3004", answer_after=1.0)
    missing = site.login("3003")
    gevent.sleep(0.05)
    backup = site.login("3004")
    leg = site.switch.place_inbound_call(did="5552003", caller_number="+15552003",
                                         behaviour=CallerBehaviour(talk_time=2.0))
    iid = interaction_of(site, leg)
    first = site.wait_event("call.offered", interaction_id=iid)
    assert first.agent_id == missing
    _ringing_leg(site, iid)

    _outage(site)

    answered = site.wait_event("call.answered", interaction_id=iid, timeout=10)
    assert answered.agent_id == backup
    vanished = _of(site, "call.offer_failed", iid)[0]
    assert (vanished.agent_id, vanished.data["outcome"], vanished.data["hangup_cause"]) == (
        missing, "failed", "CTI_RESYNC_GONE")
    after = [e.data for e in site.events if e.type == "agent.state_changed" and e.agent_id == missing
             and e.at >= vanished.at]
    assert after[0]["state"] == "available", "blamed for a ring nobody saw end"
    site.wait_event("call.ended", interaction_id=iid, timeout=15)


def test_an_ivr_prompt_whose_end_was_lost_is_played_again(site: Stack) -> None:
    site.switch.register_phone("3005", answer_after=0.5)
    agent = site.login("3005")
    leg = site.switch.place_inbound_call(did="5552004", caller_number="+15552004",
                                         behaviour=CallerBehaviour(talk_time=2.0))
    iid = interaction_of(site, leg)
    site.wait_for(lambda: "r_intro.wav" in _playbacks(site, leg), what="the prompt to start")

    _outage(site)   # the 2 s (0.2 s real) prompt ends while nobody listens

    answered = site.wait_event("call.answered", interaction_id=iid, timeout=10)
    assert answered.agent_id == agent
    assert _playbacks(site, leg).count("r_intro.wav") == 2
    assert [s["node"] for s in site.core.state.interaction_snapshot(iid)["ivr_path"]] == ["intro", "q"]
    site.wait_event("call.ended", interaction_id=iid, timeout=15)


def test_a_waiting_caller_whose_announcement_ended_unseen_gets_the_music_back(site: Stack) -> None:
    leg = site.switch.place_inbound_call(did="5552005", caller_number="+15552005")
    iid = interaction_of(site, leg)
    site.wait_for(lambda: "r_position.wav" in _playbacks(site, leg), what="the position announcement")
    assert "local_stream://moh" not in _playbacks(site, leg)  # the music comes after the announcement

    _outage(site)

    site.wait_for(lambda: "local_stream://moh" in _playbacks(site, leg), timeout=10, what="the music again")
    s = site.services.routing.sessions[iid]
    assert (s.phase, s.media, s.pending) == (Phase.QUEUED, "", {})
    site.switch.hangup(leg)
    site.wait_event("call.abandoned", interaction_id=iid)


def test_an_application_whose_end_never_comes_is_given_up_at_its_bound(site: Stack) -> None:
    site.switch.register_phone("3006", answer_after=0.5)
    agent = site.login("3006")
    leg = site.switch.place_inbound_call(did="5552006", caller_number="+15552006",
                                         behaviour=CallerBehaviour(talk_time=2.0))
    iid = interaction_of(site, leg)
    engine = site.services.routing
    site.wait_for(lambda: engine.sessions.get(iid) is not None and engine.sessions[iid].pending,
                  what="the 10-minute prompt to be waited for")
    s = engine.sessions[iid]
    # the switch never says it ended: let its bound pass (as ten minutes would)
    engine.post(lambda: s.pending.update({k: dataclasses.replace(p, deadline=0.0) for k, p in s.pending.items()}))

    answered = site.wait_event("call.answered", interaction_id=iid, timeout=15)
    assert answered.agent_id == agent
    assert engine.stats.overdue >= 1
    assert [step["node"] for step in site.core.state.interaction_snapshot(iid)["ivr_path"]] == ["intro", "q"]
    site.wait_event("call.ended", interaction_id=iid, timeout=15)
