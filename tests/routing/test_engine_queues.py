"""The routing engine's queues end to end: real TCP to the simulated switch, the real
services and a real PostgreSQL (tests/routing/engine_site.py describes the site).

RONA, unregistered phones, overflow after max wait, abandon while waiting and while
an agent rings, the callback offer, and the supervisor API (move, priority, skills).
"""

from __future__ import annotations

import copy

import pytest

from cti.provision import provision
from esl.simulator import CallerBehaviour, CustomerProfile
from routing.engine import EngineRequestError
from tests.routing.engine_site import interaction_of, module_stack

pytestmark = pytest.mark.slow


site = module_stack("engine-queues")


def _events(site, type_, **match):
    out = []
    for event in site.events:
        record = {**event.data, "interaction_id": event.interaction_id, "agent_id": event.agent_id}
        if event.type == type_ and all(record.get(k) == v for k, v in match.items()):
            out.append(event)
    return out


def _agent_state(site, agent_id):
    agent = site.core.state.agent(agent_id)
    return agent.state.value, agent.reason


def test_rona_puts_the_agent_in_not_ready_and_the_next_agent_gets_the_call(site) -> None:
    site.switch.register_phone("1002", behaviour="no_answer")
    missing = site.login("1002")        # longest idle: offered first
    backup = site.login("1003")
    leg = site.switch.place_inbound_call(did="5551002", caller_number="+15550002",
                                         behaviour=CallerBehaviour(talk_time=2))
    iid = interaction_of(site, leg)

    failed = site.wait_event("call.offer_failed", interaction_id=iid, agent_id=missing)
    assert failed.data["outcome"] == "no_answer"
    answered = site.wait_event("call.answered", interaction_id=iid)
    assert answered.agent_id == backup
    assert _agent_state(site, missing) == ("not_ready", "missed")
    offers = [e.agent_id for e in _events(site, "call.offered", interaction_id=iid)]
    assert offers == [missing, backup]


def test_an_unregistered_phone_is_skipped_at_once(site) -> None:
    site.switch.unregister_phone("1004")
    unreachable = site.login("1004")
    backup = site.login("1005")
    leg = site.switch.place_inbound_call(did="5551003", caller_number="+15550003",
                                         behaviour=CallerBehaviour(talk_time=2))
    iid = interaction_of(site, leg)

    failed = site.wait_event("call.offer_failed", interaction_id=iid, agent_id=unreachable)
    assert failed.data["outcome"] == "unregistered"
    assert site.wait_event("call.answered", interaction_id=iid).agent_id == backup
    assert _agent_state(site, unreachable) == ("not_ready", "unreachable")


def test_a_call_overflows_to_the_next_queue_after_max_wait(site) -> None:
    agent = site.login("1006")
    leg = site.switch.place_inbound_call(did="5551004", caller_number="+15550004",
                                         behaviour=CallerBehaviour(talk_time=2))
    iid = interaction_of(site, leg)

    answered = site.wait_event("call.answered", interaction_id=iid)
    assert answered.agent_id == agent
    visits = site.core.state.interaction_snapshot(iid)["queue_visits"]
    assert [(v["queue"], v["outcome"]) for v in visits] == [("overflow_src", "overflowed"), ("overflow_dst", "answered")]
    first = visits[0]
    assert first["left_at"] > first["entered_at"]


def test_a_caller_who_hangs_up_while_waiting_leaves_the_queue(site) -> None:
    leg = site.switch.place_inbound_call(did="5551005", caller_number="+15550005", hangup_after=3)
    iid = interaction_of(site, leg)
    site.wait_for(lambda: site.services.routing.waiting_calls("nobody"), what="the call to wait")

    abandoned = site.wait_event("call.abandoned", interaction_id=iid)
    assert abandoned.queue == "nobody"
    site.wait_for(lambda: not site.services.routing.waiting_calls("nobody"), what="the queue to empty")
    assert site.services.routing.router.queue_status("nobody", site.services.routing.clock.now()).waiting == 0


def test_a_caller_who_hangs_up_while_an_agent_rings_cancels_the_ring(site) -> None:
    site.switch.register_phone("1007", behaviour="no_answer")
    agent = site.login("1007")
    leg = site.switch.place_inbound_call(did="5551006", caller_number="+15550006")
    iid = interaction_of(site, leg)
    offered = site.wait_event("call.offered", interaction_id=iid, agent_id=agent)
    site.wait_for(lambda: any(c["uuid"] == offered.data["leg_uuid"] for c in site.switch.channels()),
                  what="the agent's phone to ring")

    site.switch.hangup(leg)
    failed = site.wait_event("call.offer_failed", interaction_id=iid, agent_id=agent)
    assert failed.data["outcome"] == "caller_gone"
    assert failed.data["hangup_cause"] == "ORIGINATOR_CANCEL"
    site.wait_for(lambda: _agent_state(site, agent)[0] == "available", what="the agent to be free again")
    site.wait_for(lambda: not any(c["uuid"] == offered.data["leg_uuid"] for c in site.switch.channels()),
                  what="the agent leg to be gone")


def test_a_callback_keeps_the_place_and_calls_the_customer_when_an_agent_is_free(site) -> None:
    site.switch.set_customer_profile(CustomerProfile(scripted={"+15550007": "human"}, ring_time=(1, 2),
                                                     talk_time=(30, 30)))
    leg = site.switch.place_inbound_call(did="5551007", caller_number="+15550007",
                                         behaviour=CallerBehaviour(prompt_digits=("1",), think_time=0.5))
    iid = interaction_of(site, leg)
    ended = site.wait_event("call.ended", interaction_id=iid, timeout=15)
    assert [v["outcome"] for v in ended.data["queue_visits"]] == ["callback"]
    row = site.wait_for(lambda: site.db.fetchone("SELECT * FROM callbacks WHERE interaction_id = %s", (iid,)),
                        what="the callback row")
    assert row["status"] == "waiting" and row["number"] == "+15550007"
    waiting = site.services.routing.waiting_calls("cb")
    assert [(c["interaction_id"], c["state"]) for c in waiting] == [(iid, "callback")]

    agent = site.login("1008")
    outbound = site.wait_event("call.created", direction="outbound", callee_number="+15550007", timeout=15)
    answered = site.wait_event("call.answered", interaction_id=outbound.interaction_id, timeout=20)
    assert answered.agent_id == agent
    site.wait_for(lambda: site.db.fetchone("SELECT status FROM callbacks WHERE interaction_id = %s AND status = "
                                           "'connected'", (iid,)), what="the callback to be connected")


def test_supervisor_moves_a_waiting_call_and_changes_its_priority(site) -> None:
    engine = site.services.routing
    leg = site.switch.place_inbound_call(did="5551005", caller_number="+15550008")
    iid = interaction_of(site, leg)
    site.wait_for(lambda: engine.waiting_calls("nobody"), what="the call to wait")

    engine.set_priority(iid, 40)
    assert engine.waiting_calls("nobody")[0]["priority"] == 40
    engine.move_call(iid, "vm")
    assert [c["interaction_id"] for c in engine.waiting_calls("vm")] == [iid]
    assert engine.waiting_calls("nobody") == []
    with pytest.raises(EngineRequestError, match="no queue 'nope'"):
        engine.move_call(iid, "nope")
    with pytest.raises(EngineRequestError, match="from 0 to 100"):
        engine.set_priority(iid, 500)
    status = engine.queue_status("vm")
    assert status["waiting"] == 1 and status["queue"] == "vm"
    site.switch.hangup(leg)
    site.wait_event("call.abandoned", interaction_id=iid)


def test_changed_skills_apply_at_once(site) -> None:
    engine = site.services.routing
    agent = site.login("1000")  # French 3: the sales option asks for 5
    leg = site.switch.place_inbound_call(did="5551000", caller_number="+15550009",
                                         behaviour=CallerBehaviour(prompt_digits=("1",), talk_time=2))
    iid = interaction_of(site, leg)
    site.wait_for(lambda: engine.waiting_calls("ivr_sales"), what="the call to wait for a French speaker")
    with pytest.raises(EngineRequestError, match="unknown skill"):
        engine.set_agent_skills(agent, {"juggling": 3})
    with pytest.raises(EngineRequestError, match="from 1 to 10"):
        engine.set_agent_skills(agent, {"french": 11})

    engine.set_agent_skills(agent, {"french": 9})
    assert site.wait_event("call.answered", interaction_id=iid).agent_id == agent
    rows = site.db.fetchall("SELECT skill, level FROM agent_skills WHERE agent_id = %s", (agent,))
    assert [(r["skill"], r["level"]) for r in rows] == [("french", 9)]


def test_reload_adopts_a_queue_flow_and_number_added_to_the_site(site) -> None:
    engine = site.services.routing
    changed = copy.deepcopy(site.site)
    changed["queues"].append({"name": "late", "wrapup": 0})
    changed["flows"].append({"name": "to_late", "start": "q", "nodes": {"q": {"type": "queue", "queue": "late"}}})
    changed["dids"].append({"number": "5551011", "flow": "to_late"})
    provision(site.db, changed)

    summary = engine.reload()
    assert "late" in summary["queues"] and summary["flows"]["to_late"] == 1 and summary["problems"] == []
    leg = site.switch.place_inbound_call(did="5551011", caller_number="+15550061")
    iid = interaction_of(site, leg)
    site.wait_for(lambda: [c["interaction_id"] for c in engine.waiting_calls("late")] == [iid], what="a call in 'late'")
    site.switch.hangup(leg)
    site.wait_event("call.abandoned", interaction_id=iid)
