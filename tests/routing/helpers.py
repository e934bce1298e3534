"""Small builders shared by the routing tests."""

from __future__ import annotations

from typing import Any

from routing.acd import Router
from routing.agent_index import Agent
from routing.calendars import Calendar
from routing.queues import parse_queue_rules
from routing.waiting import WaitingCall


def router(calendars: dict[str, Calendar] | None = None, **queues: dict[str, Any]) -> Router:
    return Router({name: parse_queue_rules(name, settings) for name, settings in queues.items()}, calendars)


def agent(agent_id: int, queues: dict[str, int] | list[str], skills: dict[str, int] | None = None) -> Agent:
    tiers = queues if isinstance(queues, dict) else dict.fromkeys(queues, 1)
    return Agent(agent_id, str(1000 + agent_id), skills or {}, tiers)


def call(call_id: str, queue: str, at: float, **fields: Any) -> WaitingCall:
    return WaitingCall(call_id, queue, at, **fields)
