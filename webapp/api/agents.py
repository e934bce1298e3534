"""Agents: the list with live state, one agent, changing state, logging in and out.

State changes go through the live core (:meth:`cti.core.LiveCore.command`), exactly as
the agent's own desktop does, so the same rules apply: an agent on a call cannot be
logged out (409), a not-ready reason must be one of the site's codes (422).
"""

from __future__ import annotations

import time
from typing import Any

from webapp.agent_views import extension_holder
from webapp.api.errors import ApiError
from webapp.api.live import agent_rows, core_of, live_agents, render_agent
from webapp.api.operations import ApiRequest, Reply, api_operation, path_param, query_param
from webapp.api.paging import PAGING, page_of
from webapp.api.schemas import ID, NAME, closed, page, ref

AGENT_ID = path_param("agent_id", ID)
_EXTENSION = {"type": "string", "pattern": "^[A-Za-z0-9_.+@-]{1,64}$"}
_REASON = {"type": "string", "maxLength": 64}

SET_STATE = closed({"state": {"enum": ["available", "not_ready", "logged_out"]}, "reason": _REASON}, ("state",))
LOGIN = closed({"extension": _EXTENSION, "ready": {"type": "boolean", "default": False}})


def _agent(req: ApiRequest) -> dict[str, Any]:
    rows = agent_rows(req.services.db, req.path["agent_id"])
    if not rows:
        raise ApiError(404, "agent-not-found", f"no agent {req.path['agent_id']}")
    return rows[0]


def _one(req: ApiRequest) -> dict[str, Any]:
    row = _agent(req)
    return render_agent(row, live_agents(req.services).get(row["id"]))


def _run(req: ApiRequest, method_name: str, *args: Any, **kwargs: Any) -> None:
    """Run a live-state agent command; an agent the core does not know yet is logged out."""
    from cti.tracker import UnknownAgent

    core = core_of(req.services)
    try:
        core.command(getattr(core.state, method_name), *args, now=time.time(), **kwargs)
    except UnknownAgent:
        raise ApiError(409, "state-conflict", f"agent {args[0]} is logged out; log the agent in first") from None


@api_operation("GET", "/agents", summary="List agents with their live state", tag="agents", scope="read",
               params=(query_param("state", {"type": "string", "maxLength": 32}, "only agents in this state"),
                       query_param("queue", NAME, "only members of this queue"), *PAGING),
               responses={200: ("Agents", page(ref("Agent")))})
def list_agents(req: ApiRequest) -> Reply:
    live = live_agents(req.services)
    agents = [render_agent(row, live.get(row["id"])) for row in agent_rows(req.services.db)]
    if "queue" in req.query:
        agents = [a for a in agents if req.query["queue"] in a["queues"]]
    if "state" in req.query:
        agents = [a for a in agents if (a["live"] or {"state": "logged_out"})["state"] == req.query["state"]]
    return page_of(req, agents, lambda a: a)


@api_operation("GET", "/agents/{agent_id}", summary="One agent and their live state", tag="agents", scope="read",
               params=(AGENT_ID,), responses={200: ("The agent", ref("Agent"))})
def get_agent(req: ApiRequest) -> Reply:
    return _one(req)


@api_operation("PUT", "/agents/{agent_id}/state", summary="Set an agent's state", tag="agents", scope="agents",
               params=(AGENT_ID,), body=SET_STATE, conflicts=True,
               responses={200: ("The agent after the change", ref("Agent"))})
def set_agent_state(req: ApiRequest) -> Reply:
    """``available``, ``not_ready`` (with a ``reason`` from the site's reason codes) or
    ``logged_out``. 409 when the agent's current state does not allow it (on a call)."""
    row = _agent(req)
    _run(req, "agent_set_state", row["id"], req.body["state"], req.body.get("reason", ""))
    return _one(req)


@api_operation("POST", "/agents/{agent_id}/login", summary="Log an agent in on a phone", tag="agents",
               scope="agents", params=(AGENT_ID,), body=LOGIN, conflicts=True,
               responses={200: ("The agent after login", ref("Agent"))})
def login_agent(req: ApiRequest) -> Reply:
    """Hot-desking: ``extension`` is the phone for this shift (default: the agent's
    default extension). 409 when another agent holds that extension."""
    row = _agent(req)
    extension = req.body.get("extension") or row["default_extension"]
    if not extension:
        raise ApiError(422, "validation-failed", "extension: this agent has no default extension; give one",
                       field="extension")
    clash = extension_holder(req.services, extension, row["id"])
    if clash is not None:
        raise clash
    core = core_of(req.services)
    core.command(core.state.agent_login, row["id"], extension, now=time.time(), ready=bool(req.body.get("ready")))
    return _one(req)


@api_operation("POST", "/agents/{agent_id}/logout", summary="Log an agent out", tag="agents", scope="agents",
               params=(AGENT_ID,), conflicts=True, responses={200: ("The agent after logout", ref("Agent"))})
def logout_agent(req: ApiRequest) -> Reply:
    """409 while the agent has a call (ringing, connected or held)."""
    row = _agent(req)
    _run(req, "agent_logout", row["id"])
    return _one(req)
