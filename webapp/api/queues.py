"""Queues: live figures (calls waiting, longest wait, member agents by state) and the
calls waiting in line. When the routing engine runs in this process, its own view of
the queue (``RoutingEngine.queue_status``) is added as ``engine``."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

from webapp.api.errors import ApiError
from webapp.api.live import live_agents, waiting_calls
from webapp.api.operations import ApiRequest, Reply, api_operation, path_param
from webapp.api.paging import PAGING, page_of
from webapp.api.schemas import NAME, page, ref

log = logging.getLogger(__name__)

QUEUE = path_param("queue", NAME, "the queue's name")

_QUEUES_SQL = """
SELECT q.name, q.display_name, array_remove(array_agg(qa.agent_id ORDER BY qa.agent_id), NULL) AS members
  FROM queues q LEFT JOIN queue_agents qa ON qa.queue_id = q.id
 WHERE (%(name)s::text IS NULL OR q.name = %(name)s)
 GROUP BY q.id ORDER BY q.name"""


def _engine_view(services: Any, name: str) -> dict[str, Any] | None:
    engine = getattr(services, "routing", None)
    status = getattr(engine, "queue_status", None)
    if status is None:
        return None
    try:
        view = status(name)
    except Exception:
        log.exception("routing engine queue_status failed", extra={"queue": name})
        return None
    return json.loads(json.dumps(view, default=str)) if isinstance(view, Mapping) else None


def _render(services: Any, row: Mapping[str, Any], live: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    waiting = waiting_calls(services, row["name"])
    states = Counter((live.get(agent_id) or {"state": "logged_out"})["state"] for agent_id in row["members"])
    return {
        "name": row["name"], "display_name": row["display_name"] or row["name"], "waiting": len(waiting),
        "longest_wait_seconds": max((c["wait_seconds"] for c in waiting), default=0.0),
        "members": len(row["members"]), "agents": dict(sorted(states.items())),
        "engine": _engine_view(services, row["name"]),
    }


def _rows(req: ApiRequest, name: str | None = None) -> list[dict[str, Any]]:
    rows = req.services.db.fetchall(_QUEUES_SQL, {"name": name})
    if name is not None and not rows:
        raise ApiError(404, "queue-not-found", f"no queue {name!r}")
    return rows


@api_operation("GET", "/queues", summary="Queues with live figures", tag="queues", scope="read", params=PAGING,
               responses={200: ("Queues", page(ref("Queue")))})
def list_queues(req: ApiRequest) -> Reply:
    live = live_agents(req.services)
    return page_of(req, _rows(req), lambda row: _render(req.services, row, live))


@api_operation("GET", "/queues/{queue}", summary="One queue's live figures", tag="queues", scope="read",
               params=(QUEUE,), responses={200: ("The queue", ref("Queue"))})
def get_queue(req: ApiRequest) -> Reply:
    return _render(req.services, _rows(req, req.path["queue"])[0], live_agents(req.services))


@api_operation("GET", "/queues/{queue}/calls", summary="Calls waiting in a queue", tag="queues", scope="read",
               params=(QUEUE, *PAGING), responses={200: ("First in line first", page(ref("WaitingCall")))})
def list_waiting_calls(req: ApiRequest) -> Reply:
    _rows(req, req.path["queue"])
    return page_of(req, waiting_calls(req.services, req.path["queue"]), lambda c: c)
