"""Helpers for the agent tests: a fast stack and calls set up the way agents make them.

Calls are placed with click-to-dial (the agent's phone first, then the customer through
the gateway), so they need no routing and behave the same whether or not the routing
engine is part of the services.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from cti.call_control import CallControl
from esl.simulator.endpoints import CustomerProfile
from tests.stack import Stack, start_stack

#: Simulated seconds per real second: phones answer after 1 s simulated.
SPEED = 5.0
#: Numbers the simulated carrier answers (and stays on the line with) at once.
CUSTOMERS = tuple(f"+86138001380{n:02d}" for n in range(1, 40))
#: A customer of examples/site.yaml (李雷, company 个人客户, tag billing).
KNOWN_CUSTOMER = "+8613911112222"
NO_ANSWER = "+8613800139999"


def fast_stack(site_db_url: str, data_dir: Path) -> Iterator[Stack]:
    site = start_stack(site_db_url, data_dir, provisioned=True, speed=SPEED,
                       environ={"CTI_ROUTING_SPEED": str(SPEED)})
    scripted = {number: "human" for number in (*CUSTOMERS, KNOWN_CUSTOMER)} | {NO_ANSWER: "no_answer"}
    site.switch.set_customer_profile(CustomerProfile(
        answer_probability=1.0, busy_probability=0.0, machine_probability=0.0,
        ring_time=(0.5, 0.5), talk_time=(3600.0, 3600.0), scripted=scripted,
    ))
    try:
        yield site
    finally:
        site.close()


def control(stack: Stack) -> CallControl:
    return CallControl.for_services(stack.services)


def ready(stack: Stack, code: str) -> int:
    """Agent ``code`` logged in and available (whatever state an earlier test left)."""
    agent_id = stack.agent_id(code)
    state = stack.core.state
    current = state.agent(agent_id).state.value if agent_id in {a["id"] for a in state.agents()} else "logged_out"
    now = time.time()
    if current == "logged_out":
        stack.login(code)
    elif current in ("not_ready", "wrap_up"):
        stack.core.command(state.agent_set_state, agent_id, "available", now=now)
    stack.wait_for(lambda: state.agent(agent_id).state.value == "available", what=f"agent {code} available")
    return agent_id


def agent_state(stack: Stack, agent_id: int) -> str:
    return stack.core.state.agent(agent_id).state.value


def dial_and_connect(stack: Stack, code: str, number: str, queue: str = "") -> tuple[int, str]:
    """Agent ``code`` calls ``number``; returns (agent id, interaction id) once talking."""
    agent_id = ready(stack, code)
    interaction_id = control(stack).dial(agent_id, number, queue=queue)
    stack.wait_event("call.answered", interaction_id=interaction_id)
    stack.wait_for(lambda: agent_state(stack, agent_id) == "on_call", what=f"agent {code} on the call")
    return agent_id, interaction_id


def serving_agent(stack: Stack, interaction_id: str) -> int | None:
    ix = stack.core.state.interaction(interaction_id)
    leg = ix.legs.get(ix.serving_leg) if ix.serving_leg else None
    return leg.agent_id if leg is not None and ix.bridged else None


def end(stack: Stack, interaction_id: str) -> None:
    """Hang the customer up and wait for the interaction to end."""
    ix = stack.core.state.interaction(interaction_id)
    if ix.customer_leg:
        stack.switch.hangup(ix.customer_leg)
    stack.wait_event("call.ended", interaction_id=interaction_id)
