"""The agent desktop in a real headless Chromium, over the whole stack.

An agent signs in, confirms the phone for the shift and goes available; a caller of
the demo site dials its main DID, answers the IVR with DTMF (English, then billing) and
is queued; routing offers the call to the agent, whose page shows the customer's name
and the IVR path; the agent transfers the call to a colleague, wraps up with a
disposition, and the stored interaction carries it. A second agent, signed in on
another browser, never receives a single frame about that call.

The site is the demo site on the simulated switch (tests/webapp/agent_calls.py), served
by gevent's WSGI server in this process (Socket.IO over WebSocket via simple-websocket);
Playwright drives Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from esl.simulator.endpoints import CallerBehaviour
from tests.webapp.agent_calls import KNOWN_CUSTOMER, agent_state, fast_stack
from tests.webapp.agent_web import password

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAIN_DID = "4008001000"
TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def stack(site_db_url, tmp_path_factory):
    yield from fast_stack(site_db_url, tmp_path_factory.mktemp("browser-desktop"))


def open_desktop(chromium: Any, base_url: str, username: str) -> tuple[Any, list[str]]:
    """A browser of its own (own cookies) signed in as ``username`` on the desktop; the
    list collects every WebSocket frame the page receives."""
    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    frames: list[str] = []
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    context.errors = errors
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password(username))
    page.click("main button.primary")
    page.wait_for_url(f"{base_url}/")
    page.goto(f"{base_url}/agent/")
    page.wait_for_selector("#ag-live[data-live=true]")
    return page, frames


def sign_in_phone(page: Any, extension: str) -> None:
    page.wait_for_selector("#ag-login:not([hidden])")
    assert page.input_value("#ag-extension") == extension, "the default extension is offered"
    page.click("#ag-login button[type=submit]")
    page.wait_for_selector("#ag-state[data-state=not_ready]")


def test_an_agent_takes_a_call_transfers_it_and_wraps_up(stack, base_url, chromium) -> None:
    agent, agent_frames = open_desktop(chromium, base_url, "agent1010")
    other, other_frames = open_desktop(chromium, base_url, "agent1011")
    sign_in_phone(agent, "1010")
    agent.click("#ag-available")
    agent.wait_for_selector("#ag-state[data-state=available]")
    sign_in_phone(other, "1011")                      # signed in, not ready: routing passes them by
    colleague = stack.login("1012", ready=False)       # the transfer target, not ready until needed

    caller = stack.switch.place_inbound_call(
        did=MAIN_DID, caller_number=KNOWN_CUSTOMER, caller_name="Li Lei",
        behaviour=CallerBehaviour(prompt_digits=("2", "3"), think_time=0.5),
    )
    agent.wait_for_selector("#ag-pop:not([hidden])")
    agent.wait_for_function("document.getElementById('ag-name').textContent.includes('李雷')")
    assert agent.inner_text("#ag-number") == KNOWN_CUSTOMER
    ivr = agent.inner_text("#ag-ivr")
    assert "choose_language" in ivr and "main_menu" in ivr and "to_billing" in ivr
    assert "billing" in agent.inner_text("#ag-queue").lower()
    assert agent.inner_text("#ag-cust-company") == "个人客户"

    created = stack.wait_event("call.created", caller_number=KNOWN_CUSTOMER)
    iid = created.interaction_id
    stack.wait_event("call.answered", interaction_id=iid, timeout=20)
    agent.wait_for_selector("#ag-state[data-state=on_call]")
    agent.wait_for_selector("#ag-controls:not([hidden]) [data-action=hold]:not([disabled])")
    assert agent.is_disabled("[data-action=resume]"), "resume only applies to a held call"

    stack.core.command(stack.core.state.agent_set_state, colleague, "available", now=0)
    agent.fill("#ag-target", f"agent:{colleague}")
    agent.click("[data-action=transfer]")
    moved = stack.wait_event("call.transferred", interaction_id=iid, timeout=20)
    assert moved.data["to_agent_id"] == colleague

    agent.wait_for_selector("#ag-wrapup:not([hidden])")
    assert agent.is_visible("#ag-disposition")
    agent.select_option("#ag-disposition", "resolved")
    agent.fill("#ag-notes", "Refund explained; transferred to billing specialist")
    agent.click("#ag-wrapup button[type=submit]")
    agent.wait_for_selector("#ag-state[data-state=available]")
    assert agent_state(stack, stack.agent_id("1010")) == "available"

    stack.switch.hangup(caller)
    stack.wait_event("call.ended", interaction_id=iid, timeout=20)
    stored = stack.wait_for(lambda: stack.db.fetchone(
        "SELECT disposition, notes, outcome, transfers FROM interactions WHERE id = %s AND ended_at IS NOT NULL", (iid,)),
        timeout=20, what="the interaction stored")
    assert stored["disposition"] == "resolved" and "billing specialist" in stored["notes"]
    assert stored["outcome"] == "answered" and stored["transfers"] == 1

    assert any(iid in frame for frame in agent_frames), "the agent's page was pushed the call"
    assert not [frame for frame in other_frames if iid in frame or KNOWN_CUSTOMER in frame], \
        "another agent's browser received the call"
    assert other.is_hidden("#ag-pop")
    assert agent.context.errors == [] and other.context.errors == [], "no script errors on either page"
    hello = [json.loads(f[2:]) for f in other_frames if f.startswith('42["hello"')]
    assert hello and hello[0][1]["call"] is None
