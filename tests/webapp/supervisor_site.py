"""The site the supervisor tests run on, and helpers to drive calls on it.

Two teams, two supervisors with different queues, an admin; each scenario has its own
DID and queue so the tests of one module can share one stack. The simulator and the
routing engine run :data:`SPEED` times faster than real time. Supervisors' phones are
extensions 3001 (lead_red), 3002 (lead_blue), 3003 (root); 3009 exists in the
directory but is not registered.

:class:`CommandLog` records what the switch was asked to do: the simulator fires an
``API`` event for every api/bgapi command it runs, as the real switch does (capture g),
so a second Event Socket connection subscribed to ``API`` sees each command.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import gevent

from esl.simulator import CallerBehaviour
from esl.simulator.probe import Probe, ProbeClosed
from tests.stack import ESL_PASSWORD, Stack, start_stack

SPEED = 10.0
ALWAYS = {"timezone": "UTC", "weekly": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
PHONES = {"lead_red": "3001", "lead_blue": "3002", "root": "3003"}
UNREGISTERED_PHONE = "3009"


def _queue(name: str, **settings: Any) -> dict[str, Any]:
    return {"name": name, "display_name": name.replace("_", " ").title(), "ring_timeout": 10, "wrapup": 0,
            "service_level": 20, **settings}


def _agent(code: str, team: str, queues: list[str]) -> dict[str, Any]:
    return {"username": f"agent{code}", "password": f"pw-{code}-pw", "name": f"Agent {code}", "code": code,
            "extension": code, "team": team, "queues": queues, "skills": {}}


QUEUES = ("sup_talk", "sup_wait", "sup_ring", "sup_other")
TALK_AGENTS = ("1001", "1002", "1005")
DIDS = {queue: f"55520{index:02d}" for index, queue in enumerate(QUEUES)}

SITE: dict[str, Any] = {
    "skills": ["sales"],
    "teams": ["Red", "Blue"],
    "calendars": {"always": ALWAYS},
    "reason_codes": {"break": "Break", "coaching": "Coaching"},
    "queues": [_queue("sup_talk"), _queue("sup_wait"), _queue("sup_ring", ring_timeout=300), _queue("sup_other")],
    "flows": [{"name": f"to_{q}", "start": "q", "language": "en", "languages": ["en"],
               "nodes": {"q": {"type": "queue", "queue": q}}} for q in QUEUES],
    "dids": [{"number": number, "flow": f"to_{queue}"} for queue, number in DIDS.items()],
    "agents": [
        _agent("1001", "Red", ["sup_talk"]),
        _agent("1002", "Red", ["sup_talk"]),
        _agent("1003", "Red", ["sup_ring"]),     # its phone rings and rings
        _agent("1004", "Blue", ["sup_other"]),
        _agent("1005", "Blue", ["sup_talk"]),
    ],
    "users": [
        {"username": "root", "password": "root-pw-123", "roles": ["admin"]},
        {"username": "lead_red", "password": "red-pw-123", "roles": ["supervisor"], "teams": ["Red"],
         "queues": ["sup_talk", "sup_wait", "sup_ring"]},
        {"username": "lead_blue", "password": "blue-pw-123", "roles": ["supervisor"], "teams": ["Blue"],
         "queues": ["sup_other"]},
    ],
}


def supervisor_stack(database_url: str, data_dir: Path, speed: float = SPEED) -> Stack:
    """The site on a fresh simulator; ``speed`` 1 keeps the switch's clock on real time
    (what a page comparing waits with its own clock needs)."""
    stack = start_stack(database_url, data_dir, site=copy.deepcopy(SITE), speed=speed,
                        environ={"CTI_ROUTING_SPEED": str(speed), "CTI_REPORTS_WORKERS": "1"})
    for phone in PHONES.values():
        stack.switch.register_phone(phone, answer_after=1.0)
    stack.switch.engine.core.directory.users.add(UNREGISTERED_PHONE)
    stack.switch.register_phone("1003", behaviour="no_answer")
    return stack


def call_into(stack: Stack, queue: str, caller: str) -> tuple[str, str]:
    """A caller who stays on the line dials the queue's DID; returns (caller leg,
    interaction id) once the call waits in the queue."""
    leg = stack.switch.place_inbound_call(did=DIDS[queue], caller_number=caller,
                                          behaviour=CallerBehaviour(talk_time=3600))
    iid = str(stack.wait_for(lambda: stack.core.state.interaction_of_leg(leg), what=f"interaction of {leg}"))
    stack.wait_event("call.queued", interaction_id=iid)
    return leg, iid


def ready(stack: Stack, code: str) -> int:
    """Agent ``code`` logged in and available, whatever an earlier test left."""
    agent_id = stack.agent_id(code)
    state = stack.core.state
    current = state.agent(agent_id).state.value
    if current == "logged_out":
        stack.login(code)
    elif current in ("not_ready", "wrap_up"):
        stack.core.command(state.agent_set_state, agent_id, "available", now=time.time())
    stack.wait_for(lambda: state.agent(agent_id).state.value == "available", what=f"agent {code} available")
    return agent_id


def talking(stack: Stack, code: str, caller: str) -> tuple[int, str]:
    """Agent ``code`` (of sup_talk) talking to a new caller; returns (agent, interaction).
    The queue's other agents are made not ready first, so the call can only go to ``code``."""
    for other in TALK_AGENTS:
        agent = stack.core.state.agent(stack.agent_id(other))
        if other != code and agent.state.value == "available":
            stack.core.command(stack.core.state.agent_set_state, agent.id, "not_ready", "break", now=time.time())
    agent_id = ready(stack, code)
    _, iid = call_into(stack, "sup_talk", caller)
    stack.wait_event("call.answered", interaction_id=iid, agent_id=agent_id)
    stack.wait_for(lambda: stack.core.state.interaction(iid).bridged, what="caller bridged to the agent")
    return agent_id, iid


def logout_all(stack: Stack) -> None:
    for row in stack.db.fetchall("SELECT id FROM agents"):
        agent = stack.core.state.agent(row["id"])
        if agent.state.value in ("available", "not_ready"):
            stack.core.command(stack.core.state.agent_logout, row["id"], now=time.time())


def leg_of(stack: Stack, uuid: str) -> dict[str, Any] | None:
    """The simulator's view of a channel (None once it is gone)."""
    return next((c for c in stack.switch.channels() if c["uuid"] == uuid), None)


class CommandLog:
    """Every api/bgapi command the switch runs, as ``"<command> <arguments>"``."""

    def __init__(self, stack: Stack) -> None:
        self.probe = Probe("127.0.0.1", stack.switch.port)
        self.probe.login(ESL_PASSWORD, events="json API")
        self._reader = gevent.spawn(self._read)

    def _read(self) -> None:
        while True:
            try:
                self.probe.drain(0.2)
            except ProbeClosed:
                return
            gevent.sleep(0)

    def commands(self) -> list[str]:
        return [f"{e.get('API-Command')} {e.get('API-Command-Argument')}".strip()
                for e in self.probe.events if e.name == "API"]

    def matching(self, *words: str) -> list[str]:
        return [c for c in self.commands() if all(w in c for w in words)]

    def close(self) -> None:
        self._reader.kill()
        self.probe.close()


def web_client(app, stack: Stack, username: str):
    """A test client signed in as ``username``, sending the CSRF token with every write."""
    import re

    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = stack.user_id(username)
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client
