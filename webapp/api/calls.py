"""Calls: the live list, one interaction with its timeline (live from the core, or from
the store once it is over), the stored history, and call control (click-to-dial, hang
up, hold, resume, transfer, recording pause/resume) through :mod:`cti.call_control`."""

from __future__ import annotations

import time
from typing import Any

from webapp.api import history
from webapp.api.errors import ApiError
from webapp.api.live import core_of, optional_core
from webapp.api.operations import ApiRequest, Reply, api_operation, path_param, query_param
from webapp.api.paging import PAGING, page, page_of
from webapp.api.schemas import ID, NAME, closed, ref
from webapp.api.schemas import page as page_schema
from webapp.api.validation import parse_time

UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
INTERACTION_ID = path_param("interaction_id", {"type": "string", "pattern": UUID_PATTERN}, "the interaction's id")
_DIRECTION = {"enum": ["inbound", "outbound", "internal"]}

_LIVE_FILTERS = (
    query_param("queue", NAME), query_param("agent_id", ID), query_param("direction", _DIRECTION),
)


def live_record(services: Any, interaction_id: str) -> dict[str, Any] | None:
    from cti.tracker import UnknownInteraction

    core = optional_core(services)
    if core is None:
        return None
    try:
        return core.state.interaction_snapshot(interaction_id, time.time())
    except UnknownInteraction:
        return None


@api_operation("GET", "/calls", summary="Live calls", tag="calls", scope="read", params=(*_LIVE_FILTERS, *PAGING),
               responses={200: ("Interactions not over yet, oldest first", page_schema(ref("Interaction")))})
def list_live_calls(req: ApiRequest) -> Reply:
    core = optional_core(req.services)
    calls = core.state.live_calls(time.time()) if core is not None else []
    for key in ("queue", "agent_id", "direction"):
        if key in req.query:
            calls = [c for c in calls if c.get(key) == req.query[key]]
    return page_of(req, calls, lambda c: c)


@api_operation("GET", "/calls/{interaction_id}", summary="One interaction with its timeline", tag="calls",
               scope="read", params=(INTERACTION_ID,),
               responses={200: ("Live from the core, or from the store once over", ref("Interaction"))})
def get_call(req: ApiRequest) -> Reply:
    """While the call lasts the record is the live one (open periods counted up to
    now); afterwards the stored one, in the same shape. ``timeline`` holds the call's
    domain events as stored (a fraction of a second behind); a live record adds the
    switch-level notes the core keeps (bridged, dtmf ...), in time order."""
    iid = req.path["interaction_id"].lower()
    record = live_record(req.services, iid)
    if record is not None:
        events = history.timeline(req.services.db, iid)
        record["timeline"] = sorted([*events, *record["timeline"]], key=lambda e: e["at"] or "")
    else:
        record = history.stored(req.services.db, iid)
    if record is None:
        raise ApiError(404, "interaction-not-found", f"no interaction {iid}")
    return record


@api_operation("GET", "/interactions", summary="Stored interactions (history)", tag="calls", scope="read",
               params=(query_param("from", {"type": "string", "format": "date-time"}, "started at or after"),
                       query_param("to", {"type": "string", "format": "date-time"}, "started before"),
                       *_LIVE_FILTERS, query_param("outcome", {"type": "string", "maxLength": 32}),
                       query_param("caller_number", {"type": "string", "maxLength": 40}),
                       query_param("customer_id", ID), query_param("campaign_id", ID), *PAGING),
               responses={200: ("Newest first, without legs and timeline (GET /calls/{id} has them)",
                                page_schema(ref("InteractionSummary")))})
def list_interactions(req: ApiRequest) -> Reply:
    filters = dict(req.query)
    filters.pop("limit", None)
    filters.pop("offset", None)
    for key in ("from", "to"):
        if key in filters:
            filters[key] = parse_time(filters[key], key)
    return page(req, lambda n, skip: history.search(req.services.db, filters, n, skip), lambda r: r)


# --- call control ------------------------------------------------------------------------

_AGENT_FIELD = {"agent_id": {**ID, "description": "the agent acting (default: the agent serving the call)"}}
ACTING = closed(_AGENT_FIELD)
DIAL = closed({"agent_id": ID, "number": {"type": "string", "minLength": 1, "maxLength": 40}}, ("agent_id", "number"))
TRANSFER = closed({**_AGENT_FIELD, "target": {"type": "string", "minLength": 1, "maxLength": 80,
                                              "description": "agent:<id>, queue:<name> or a phone number"}},
                  ("target",))
RESULT = ref("CallCommandResult")


def _control(req: ApiRequest) -> Any:
    from cti.call_control import CallControl

    core_of(req.services)
    return CallControl.for_services(req.services)


def _acting_agent(req: ApiRequest, control: Any) -> int:
    """The agent named in the body, or the one serving the call."""
    if "agent_id" in req.body:
        return int(req.body["agent_id"])
    ix = control.interaction(req.path["interaction_id"].lower())
    if ix.agent_id is None:
        raise ApiError(409, "no-agent", "no agent is serving this call yet; name the acting agent in agent_id")
    return int(ix.agent_id)


def _act(req: ApiRequest, action: str, *args: Any) -> dict[str, Any]:
    control = _control(req)
    iid = req.path["interaction_id"].lower()
    outcome = getattr(control, action)(_acting_agent(req, control), iid, *args)
    detail = outcome.to_dict() if hasattr(outcome, "to_dict") else {}
    return {"ok": True, "interaction_id": iid, "detail": detail}


@api_operation("POST", "/calls", summary="Click-to-dial: call a number from an agent's phone", tag="calls",
               scope="calls", body=DIAL, switch=True, responses={201: ("The new interaction's id", RESULT)})
def dial(req: ApiRequest) -> Reply:
    """The agent's phone rings first; when the agent answers, the number is dialled.
    409 when the agent is not logged in or busy; 422 when the number cannot be dialled."""
    interaction_id = _control(req).dial(int(req.body["agent_id"]), req.body["number"])
    return {"ok": True, "interaction_id": interaction_id, "detail": {}}, 201


def _declare_simple(action: str, path: str, summary: str) -> None:
    def run(req: ApiRequest) -> Reply:
        return _act(req, action)

    run.__name__ = f"call_{action}"
    run.__doc__ = f"{summary}. 409 when the call's state does not allow it; 502 when the switch refuses."
    api_operation("POST", f"/calls/{{interaction_id}}/{path}", summary=summary, tag="calls", scope="calls",
                  params=(INTERACTION_ID,), body=ACTING, body_optional=True, switch=True,
                  responses={200: ("Done; the call's next events follow on webhooks", RESULT)})(run)


for _action, _path, _summary in (
    ("hangup", "hangup", "Hang up the agent's side of a call"),
    ("hold", "hold", "Put the customer on hold"),
    ("resume", "resume", "Take the customer off hold"),
    ("record_pause", "recording/pause", "Pause the call's recording (payment data)"),
    ("record_resume", "recording/resume", "Resume the call's recording"),
):
    _declare_simple(_action, _path, _summary)


@api_operation("POST", "/calls/{interaction_id}/transfer", summary="Blind transfer", tag="calls", scope="calls",
               params=(INTERACTION_ID,), body=TRANSFER, switch=True,
               responses={200: ("The transfer started (the target rings)", RESULT)})
def transfer_call(req: ApiRequest) -> Reply:
    """To ``agent:<id>``, ``queue:<name>`` or a number. The customer hears music while
    the target rings; if nobody answers the call comes back to the agent."""
    from cti.call_errors import BadRequest

    try:
        return _act(req, "transfer", req.body["target"])
    except BadRequest as exc:
        if exc.field == "number":  # a target read as a number: the field here is ``target``
            exc.field = "target"
        raise
