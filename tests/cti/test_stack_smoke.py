"""The shared end-to-end stack comes up: the middleware connects to the simulator over
real TCP, the live core follows a real inbound call, and agents log in."""

from __future__ import annotations


def test_inbound_call_is_tracked_through_the_stack(stack) -> None:
    agent_id = stack.login("1010")
    assert stack.core.state.agent(agent_id).state.value == "available"
    uuid = stack.switch.place_inbound_call(did="4008002000", caller_number="+15550001", hangup_after=0.5)
    created = stack.wait_event("call.created")
    assert created.interaction_id
    stack.wait_for(lambda: not any(c["id"] == created.interaction_id for c in stack.core.state.live_calls()),
                   timeout=10, what="call to end")
    ended = stack.wait_event("call.ended", interaction_id=created.interaction_id)
    assert ended.data["caller_number"].endswith("15550001")
    assert uuid
