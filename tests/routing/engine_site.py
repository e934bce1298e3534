"""The site the routing engine's end-to-end tests run on, and helpers to drive it.

Each scenario has its own DID, flow, queue and agents, so the tests of one module can
share one stack (simulator + services + database) without stepping on each other.
The simulator and the engine both run :data:`SPEED` times faster than real time
(``CTI_ROUTING_SPEED``); every duration below is in simulated seconds.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.stack import Stack, start_stack

SPEED = 10.0

ALWAYS_OPEN = {"timezone": "UTC", "weekly": {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}


def _queue(name: str, **settings: Any) -> dict[str, Any]:
    return {"name": name, "ring_timeout": 5, "wrapup": 0, **settings}


def _agent(code: str, queues: list[str], skills: dict[str, int] | None = None) -> dict[str, Any]:
    return {"username": f"agent{code}", "password": f"pw{code}", "name": f"Agent {code}", "code": code,
            "extension": code, "queues": queues, "skills": skills or {}}


def _to_queue(name: str, queue: str, **node: Any) -> dict[str, Any]:
    return {"name": name, "start": "q", "language": "en", "languages": ["en"],
            "nodes": {"q": {"type": "queue", "queue": queue, **node}}}


FLOWS: list[dict[str, Any]] = [
    {
        "name": "main", "start": "welcome", "language": "en", "languages": ["en"],
        "nodes": {
            "welcome": {"type": "play", "prompt": "welcome.wav", "next": "menu"},
            "menu": {"type": "menu", "prompt": "main_menu.wav", "options": {"1": "sales", "2": "support"},
                     "timeout_ms": 3000, "retries": 2, "on_failure": "bye"},
            "sales": {"type": "queue", "queue": "ivr_sales", "skills": {"french": 5}},
            "support": {"type": "queue", "queue": "ivr_support"},
            "bye": {"type": "hangup", "prompt": "goodbye.wav"},
        },
    },
    {
        "name": "messages", "start": "message", "language": "en", "languages": ["en"],
        "nodes": {
            "message": {"type": "voicemail", "box": "queue:vm", "greeting": "leave_message.wav", "max_seconds": 30,
                        "event_codes": {"1": "consultation", "2": "suggestion", "3": "complaint"},
                        "event_prompt": "message_type.wav"},
        },
    },
    _to_queue("to_rona", "rona"),
    _to_queue("to_unreg", "unreg"),
    _to_queue("to_overflow", "overflow_src"),
    _to_queue("to_waiting", "nobody"),
    _to_queue("to_ringing", "ringing"),
    _to_queue("to_callback", "cb"),
    _to_queue("to_recorded", "recorded"),
    _to_queue("to_vm_overflow", "vm_overflow"),
    _to_queue("to_choice", "choice"),
]

DIDS = {
    "main": "5551000", "messages": "5551001", "to_rona": "5551002", "to_unreg": "5551003",
    "to_overflow": "5551004", "to_waiting": "5551005", "to_ringing": "5551006", "to_callback": "5551007",
    "to_recorded": "5551008", "to_vm_overflow": "5551009", "to_choice": "5551010",
}

SITE: dict[str, Any] = {
    "skills": ["french", "support"],
    "calendars": {"always": ALWAYS_OPEN},
    "queues": [
        _queue("ivr_sales", announce={"every": 60, "position": True, "position_prompt": "queue_position.wav"}),
        _queue("ivr_support", announce_agent={"prompt": "agent_is.wav"}),
        _queue("rona"),
        _queue("unreg"),
        _queue("overflow_src", max_wait=5, overflow="queue:overflow_dst"),
        _queue("overflow_dst"),
        _queue("nobody"),
        _queue("ringing", ring_timeout=60),
        _queue("cb", callback={"after": 5, "digit": "1", "prompt": "callback_offer.wav"}),
        _queue("recorded", recording="always"),
        _queue("vm"),
        _queue("vm_overflow", max_wait=5, overflow="voicemail:queue:vm"),
        _queue("choice", recording="agent_choice"),
    ],
    "flows": FLOWS,
    "dids": [{"number": number, "flow": flow} for flow, number in DIDS.items()],
    "agents": [
        _agent("1000", ["ivr_sales"], {"french": 3}),   # not French enough for the IVR's request
        _agent("1001", ["ivr_sales"], {"french": 8}),
        _agent("1002", ["rona"]),                        # phone rings and is never answered
        _agent("1003", ["rona"]),
        _agent("1004", ["unreg"]),                       # phone not registered
        _agent("1005", ["unreg"]),
        _agent("1006", ["overflow_dst"]),
        _agent("1007", ["ringing"]),                     # rings for a long time
        _agent("1008", ["cb"]),
        _agent("1009", ["recorded"]),
        _agent("1010", ["ivr_support"]),
        _agent("1011", ["vm"]),
        _agent("1012", ["choice"]),
    ],
    "users": [
        {"username": "root", "password": "root-pw", "roles": ["admin"]},
        {"username": "boss", "password": "boss-pw", "roles": ["supervisor"], "queues": ["vm"]},
    ],
    "customers": [{"name": "Jane Doe", "company": "Acme", "numbers": ["+15550001"]}],
}


def engine_stack(database_url: str, data_dir: Path, site: dict[str, Any] | None = None) -> Stack:
    """A stack on ``site`` (a copy; default :data:`SITE`) whose routing engine runs
    :data:`SPEED` times faster than real time, like its simulator."""
    return start_stack(database_url, data_dir, site=copy.deepcopy(SITE if site is None else site), speed=SPEED,
                       environ={"CTI_ROUTING_SPEED": str(SPEED)})


def module_stack(name: str) -> Any:
    """A module-scoped ``site`` fixture: the engine stack on :data:`SITE`, in a folder
    called ``name``, closed after the module's tests."""

    @pytest.fixture(scope="module")
    def site(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
        stack = engine_stack(database_url, tmp_path_factory.mktemp(name))
        yield stack
        stack.close()

    return site


def interaction_of(stack: Stack, leg: str) -> str:
    """The interaction id of a caller's leg, once the core has it."""
    return str(stack.wait_for(lambda: stack.core.state.interaction_of_leg(leg), what=f"interaction of {leg}"))

