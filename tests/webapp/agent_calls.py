"""Helpers for the agent tests: a fast stack and calls set up the way agents make them.

Calls are placed with click-to-dial (the agent's phone first, then the customer through
the gateway), so they need no routing and behave the same whether or not the routing
engine is part of the services.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

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


#: What the preview campaigns of the agent tests tell the agent to say.
PREVIEW_SCRIPT = "您好，这里是呼叫中心。Hello, this is the renewals team."


def preview_campaign(stack: Stack, numbers: tuple[str, ...], queue: str = "vip", zone: str = "Asia/Shanghai") -> int:
    """A running preview campaign of ``queue`` over ``numbers`` (contacts named and with
    custom fields), its calling window open now in the contacts' ``zone``."""
    from outbound.campaign_states import CampaignEvent

    local = datetime.now(ZoneInfo(zone))
    window = {"start": (local - timedelta(hours=3)).strftime("%H:%M"), "end": (local + timedelta(hours=3)).strftime("%H:%M")}
    settings = {"timezone": zone, "window": window, "ring_seconds": 15, "script": PREVIEW_SCRIPT}
    row = stack.db.fetchone(
        "INSERT INTO outbound_campaigns (name, display_name, mode, queue_name, caller_id_number, settings) "
        "VALUES (%s, 'Renewals 续约', 'preview', %s, '+442071234567', %s::jsonb) RETURNING id",
        (f"renewals-{queue}-{numbers[0][-4:]}", queue, json.dumps(settings)))
    assert row is not None
    listed = stack.db.fetchone(
        "INSERT INTO outbound_contact_lists (name, campaign_id) VALUES ('renewals', %s) RETURNING id", (row["id"],))
    assert listed is not None
    for n, number in enumerate(numbers):
        stack.db.execute(
            "INSERT INTO outbound_contacts (list_id, e164, name, timezone, fields) VALUES (%s, %s, %s, %s, %s)",
            (listed["id"], number, f"客户 {n}", zone, json.dumps({"plan": "gold", "renewal": f"2027-0{n + 1}-01"})))
    stack.services.dialer.control(int(row["id"]), CampaignEvent.START, actor="test")
    return int(row["id"])
