"""Reading the live picture for the API: the core (when this process drives a switch),
the agents and queues of the site, the calls waiting in a queue.

The live state lives in :class:`cti.core.LiveCore` (``services.core``); a process
started without switches has none, and endpoints that need it answer 503 saying so.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from webapp.api.errors import ApiError

#: Call states in which an interaction counts as waiting in its queue.
WAITING_STATES = frozenset({"queued", "offering"})

_AGENTS_SQL = """
SELECT a.id, a.code, a.default_extension, u.display_name, u.username, t.name AS team,
       COALESCE(array_agg(q.name ORDER BY q.name) FILTER (WHERE q.name IS NOT NULL), '{}') AS queues
  FROM agents a
  JOIN users u ON u.id = a.user_id
  LEFT JOIN teams t ON t.id = a.team_id
  LEFT JOIN queue_agents qa ON qa.agent_id = a.id
  LEFT JOIN queues q ON q.id = qa.queue_id
 WHERE (%(id)s::bigint IS NULL OR a.id = %(id)s)
 GROUP BY a.id, u.id, t.name
 ORDER BY a.id"""


def core_of(services: Any) -> Any:
    core = getattr(services, "core", None)
    if core is None:
        raise ApiError(503, "no-switch", "this process drives no switch (CTI_ESL is empty), so there is no live state")
    return core


def optional_core(services: Any) -> Any | None:
    return getattr(services, "core", None)


def agent_rows(db: Any, agent_id: int | None = None) -> list[dict[str, Any]]:
    return db.fetchall(_AGENTS_SQL, {"id": agent_id})


def render_agent(row: Mapping[str, Any], live: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "id": row["id"], "code": row["code"], "name": row["display_name"] or row["username"],
        "username": row["username"], "default_extension": row["default_extension"], "team": row["team"],
        "queues": list(row["queues"]), "live": dict(live) if live is not None else None,
    }


def live_agents(services: Any) -> dict[int, dict[str, Any]]:
    """The live record of every agent the core knows (empty without a core)."""
    core = optional_core(services)
    return {} if core is None else {a["id"]: a for a in core.state.agents()}


def waiting_calls(services: Any, queue: str) -> list[dict[str, Any]]:
    """Calls waiting in ``queue`` (queued or ringing an agent), first in line first:
    higher priority, then longer wait."""
    core = optional_core(services)
    if core is None:
        return []
    now = time.time()
    calls = [c for c in core.state.live_calls(now) if c["queue"] == queue and c["state"] in WAITING_STATES]
    calls.sort(key=lambda c: (-(c.get("priority") or 0), c.get("queue_entered_at") or ""))
    return [
        {
            "interaction_id": c["id"], "position": index, "state": c["state"], "caller_number": c["caller_number"],
            "caller_name": c["caller_name"], "priority": c.get("priority") or 0,
            "queue_entered_at": c.get("queue_entered_at"), "wait_seconds": c.get("wait_seconds") or 0.0,
        }
        for index, c in enumerate(calls, start=1)
    ]
