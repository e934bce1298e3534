"""A resync that finds an agent in wrap-up already on another call (its offer and answer
were lost with the link): the agent is on that call, and the wrap-up of the first one
is over -- nothing of it is left on the agent to confuse the next call's end.
"""

from __future__ import annotations

from tests.cti.test_tracker_flows import World
from tests.cti.test_tracker_support import Channel


def test_a_call_adopted_during_wrap_up_ends_that_wrap_up() -> None:
    w = World(7)
    cust, leg = w.connected(7)
    w.tick(5)
    w.feed(*cust.end(disposition="recv_bye"), *leg.end(disposition="send_bye"))
    assert w.state(7) == "wrap_up" and w.live.agent(7).wrapup_interaction == "cust-1"

    w.tick(2)
    row = {"Unique-ID": "cust-2", "variable_uuid": "cust-2", "variable_cti_managed": "true", "variable_cti_did": "8000",
           "Call-Direction": "inbound", "Answer-State": "answered", "variable_bridge_to": "agent-7b"}
    agent_row = {"Unique-ID": "agent-7b", "variable_uuid": "agent-7b", "variable_cti_interaction_id": "cust-2",
                 "variable_cti_role": "agent", "variable_cti_agent_id": "7", "Answer-State": "answered",
                 "variable_bridge_to": "cust-2"}
    w.do(w.live.reconcile("fs1", [row, agent_row], w.tick()))

    agent = w.live.agent(7)
    assert (agent.state.value, agent.interaction_id, agent.wrapup_interaction, agent.wrapup_ends_at) == (
        "on_call", "cust-2", None, None)
    wrapups = [e.data for e in w.out if e.type == "call.wrapup_ended" and e.interaction_id == "cust-1"]
    assert [d["agent_id"] for d in wrapups] == [7]
    adopted = Channel(w.clock, "agent-7b", variables={"cti_interaction_id": "cust-2", "cti_role": "agent",
                                                      "cti_agent_id": "7"})
    w.tick(30)
    w.feed(*adopted.end())
    assert w.live.agent(7).wrapup_interaction == "cust-2"
