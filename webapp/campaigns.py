"""The campaign manager's pages (blueprint ``campaigns``, roles campaign_manager and
admin) and the agent's preview panel.

Pages: the campaign list, create/edit (mode, queue, caller id, calling hours,
dialling windows, retries, caps, compliance rules, AMD, messages, script,
dispositions), and a campaign's page (start/pause/resume/stop, live figures, contact
lists and their upload, DNC lists, compliance figures). The pages call the JSON
endpoints here and in :mod:`webapp.campaign_imports` / :mod:`webapp.campaign_dnc`
with the CSRF token (``static/js/campaigns.js``); every state change goes through
:meth:`outbound.dialer.Dialer.control` (the campaign state machine, audited).

Live without polling: on (re)connect a page sends ``campaigns_hello`` over the site's
Socket.IO connection; the server joins it to ``outbound:managers`` (managers and
admins: ``outbound.campaign`` pushes -- state changes and live figures) and to
``outbound:user:<id>`` (``outbound.import`` progress of that user's uploads). The
contact offered to an agent (``outbound.preview``) is not a campaign push: the site's
pusher (:mod:`webapp.sockets`) sends it to that agent's own room, which every
connection of the agent joins on connect (the desktop and this preview panel alike).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Flask, jsonify, render_template, request, session
from flask_socketio import SocketIO, join_room

from cti.bus import DomainEvent
from cti.services import Services
from cti.users import get_user
from outbound import campaign_sql
from outbound.campaign_config import check_caller_id, check_settings, load_config
from outbound.campaign_states import CampaignEvent
from outbound.compliance import PROFILES
from outbound.errors import CampaignSettingsError, OutboundError, UnknownCampaign
from outbound.pacing import DialMode
from webapp import (
    campaign_dnc,
    campaign_imports,
    campaign_labels,  # noqa: F401 - registers the labels
)
from webapp.auth import current_user, login_required, services
from webapp.errors import error_response
from webapp.i18n import labels_for
from webapp.nav import NavItem, add_nav_item
from webapp.rooms import preview_agent

log = logging.getLogger(__name__)
bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

ROLES = ("campaign_manager",)   # admins pass every role check
MANAGERS_ROOM = "outbound:managers"
_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
_ACTIONS = {e.value: e for e in (CampaignEvent.START, CampaignEvent.SCHEDULE, CampaignEvent.PAUSE,
                                 CampaignEvent.RESUME, CampaignEvent.STOP, CampaignEvent.REOPEN)}
_PAGES = frozenset({"campaigns.index", "campaigns.new", "campaigns.edit", "campaigns.detail", "campaigns.preview"})
#: States in which a manager may edit a campaign (a running one: pause it first).
EDITABLE_STATES = frozenset({"draft", "scheduled", "paused", "stopped", "finished"})

add_nav_item(NavItem("cmp_nav", "campaigns.index", ROLES, order=40))
add_nav_item(NavItem("cmp_preview_nav", "campaigns.preview", ("agent",), order=41))


def user_room(user_id: int) -> str:
    return f"outbound:user:{user_id}"


@bp.errorhandler(OutboundError)
def _outbound_error(exc: OutboundError):
    """The error page for a page load, JSON for everything the pages call."""
    field = exc.details.get("field")
    if request.endpoint in _PAGES:
        return error_response(exc.status, exc.error_id, exc.message, field=field)
    return jsonify(error={"code": exc.error_id, "message": exc.message, "field": field}), exc.status


# -- pages ---------------------------------------------------------------------------


@bp.route("/")
@login_required(*ROLES)
def index():
    return render_template("campaigns_list.html", campaigns=_list(), page_labels=labels_for(("cmp_",)))


@bp.route("/new")
@login_required(*ROLES)
def new():
    return _edit_page(None)


@bp.route("/<int:campaign_id>/edit")
@login_required(*ROLES)
def edit(campaign_id: int):
    return _edit_page(_row(campaign_id))


@bp.route("/<int:campaign_id>")
@login_required(*ROLES)
def detail(campaign_id: int):
    row = _row(campaign_id)
    return render_template("campaign_detail.html", campaign=_render(row), page_labels=labels_for(("cmp_",)))


@bp.route("/preview")
@login_required("agent")
def preview():
    """The agent's next preview contact; users without an agent (an admin) are told so
    instead of a panel that can never fill."""
    with services().db.transaction() as cur:
        is_agent = campaign_sql.agent_id_of_user(cur, current_user().id) is not None
    return render_template("campaign_preview.html", is_agent=is_agent, page_labels=labels_for(("cmp_",)))


def _edit_page(row: dict[str, Any] | None):
    with services().db.transaction() as cur:
        queues = campaign_sql.queue_names(cur)
    return render_template(
        "campaign_edit.html", campaign=_render(row) if row else None, queues=queues,
        modes=[m.value for m in DialMode], profiles=sorted(PROFILES), site_zone=services().settings.site_timezone,
        page_labels=labels_for(("cmp_",)),
    )


# -- campaigns as JSON ---------------------------------------------------------------


@bp.route("/data")
@login_required(*ROLES)
def list_data():
    return jsonify(campaigns=_list())


@bp.route("/data", methods=["POST"])
@login_required(*ROLES)
def create():
    body = _body()
    name = body.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise CampaignSettingsError("name", "use 1 to 64 lower-case letters, digits, - or _ (e.g. spring-renewals)")
    fields = _fields(body, None)
    user = current_user()
    with services().db.transaction() as cur:
        if campaign_sql.campaign_id_by_name(cur, name) is not None:
            raise CampaignSettingsError("name", f"a campaign named {name!r} exists; choose another name")
        campaign_id = campaign_sql.create_campaign(cur, name, fields)
        campaign_sql.audit(cur, actor_id=user.id, actor_name=user.username, action="campaign.create",
                           campaign_id=campaign_id, details={"name": name})
        row = campaign_sql.campaign(cur, campaign_id)
    assert row is not None
    return jsonify(campaign=_render(row)), 201


@bp.route("/<int:campaign_id>/data")
@login_required(*ROLES)
def detail_data(campaign_id: int):
    built = services()
    row = _row(campaign_id)
    with built.db.transaction() as cur:
        lists = campaign_sql.lists_of(cur, campaign_id)
        jobs = campaign_sql.import_jobs_of(cur, campaign_id)
        contacts = campaign_sql.contact_counts(cur, campaign_id)
    return jsonify(
        campaign=_render(row), lists=[_jsonable(r) for r in lists], imports=[_jsonable(r) for r in jobs],
        contacts=contacts, stats=built.dialer.campaign_stats(campaign_id),
        jobs=[_jsonable(j) for j in built.scheduler.jobs() if j["id"].startswith(f"campaign:{campaign_id}:")],
    )


@bp.route("/<int:campaign_id>/data", methods=["PUT"])
@login_required(*ROLES)
def update(campaign_id: int):
    built = services()
    body = _body()
    user = current_user()
    with built.db.transaction() as cur:
        row = campaign_sql.campaign(cur, campaign_id, lock=True)
        if row is None:
            raise UnknownCampaign(f"campaign {campaign_id} does not exist")
        if row["state"] not in EDITABLE_STATES:
            return error_response(409, "campaign-running", "Pause the campaign before changing it.")
        fields = _fields(body, row)
        campaign_sql.update_campaign(cur, campaign_id, fields)
        campaign_sql.audit(cur, actor_id=user.id, actor_name=user.username, action="campaign.update",
                           campaign_id=campaign_id, details={"fields": sorted(fields)})
        row = campaign_sql.campaign(cur, campaign_id)
    assert row is not None
    built.dialer.sync_campaign(campaign_id)
    return jsonify(campaign=_render(row))


@bp.route("/<int:campaign_id>/<action>", methods=["POST"])
@login_required(*ROLES)
def act(campaign_id: int, action: str):
    event = _ACTIONS.get(action)
    if event is None:
        return error_response(404, "unknown-action", f"unknown action {action!r}; use one of {', '.join(_ACTIONS)}")
    user = current_user()
    row = services().dialer.control(campaign_id, event, actor=user.username, actor_id=user.id)
    return jsonify(campaign=_render(row))


# -- the agent's preview panel -----------------------------------------------------------


@bp.route("/preview/data")
@login_required("agent")
def preview_data():
    found = services().dialer.previews.current(_agent_id())
    if found is None:
        return jsonify(offer=None)
    run, offer = found
    return jsonify(offer={"campaign_id": run.id, "name": run.config.display_name, "script": run.config.runtime.script,
                          "contact": _jsonable(dict(offer.contact))})


@bp.route("/preview/<choice>", methods=["POST"])
@login_required("agent")
def preview_choice(choice: str):
    contact_id = _body().get("contact_id")
    if isinstance(contact_id, bool) or not isinstance(contact_id, int):
        raise CampaignSettingsError("contact_id", "give the id of the contact offered to you")
    previews = services().dialer.previews
    if choice == "dial":
        line = previews.dial(_agent_id(), contact_id)
        return jsonify(interaction_id=line.interaction_id)
    if choice == "skip":
        previews.skip(_agent_id(), contact_id)
        return jsonify(skipped=contact_id)
    return error_response(404, "unknown-action", "use dial or skip")


def _agent_id() -> int:
    with services().db.transaction() as cur:
        agent_id = campaign_sql.agent_id_of_user(cur, current_user().id)
    if agent_id is None:
        raise UnknownCampaign("Your user is not an agent.")
    return agent_id


# -- helpers -------------------------------------------------------------------------------


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise CampaignSettingsError("body", "send a JSON object")
    return body


def _row(campaign_id: int) -> dict[str, Any]:
    with services().db.transaction() as cur:
        row = campaign_sql.campaign(cur, campaign_id)
    if row is None:
        raise UnknownCampaign(f"campaign {campaign_id} does not exist")
    return row


def _list() -> list[dict[str, Any]]:
    with services().db.transaction() as cur:
        rows = campaign_sql.campaigns(cur)
        counts = {r["id"]: campaign_sql.contact_counts(cur, r["id"]) for r in rows}
    return [{**_render(r), "contacts": counts[r["id"]]} for r in rows]


def _fields(body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
    """The editable columns of ``body`` (merged over ``current``), validated as a whole."""
    merged = {**(current or {"mode": "progressive", "compliance_profile": "default", "settings": {},
                             "queue_name": "", "caller_id_number": "", "caller_id_name": ""})}
    for key in campaign_sql.EDITABLE:
        if key in body:
            merged[key] = body[key]
    for key in ("display_name", "queue_name", "caller_id_number", "caller_id_name"):
        if not isinstance(merged.get(key) or "", str):
            raise CampaignSettingsError(key, "expected text")
    site_zone = services().settings.site_timezone
    rules, _runtime = check_settings(str(merged["mode"]), str(merged["compliance_profile"]), merged["settings"] or {},
                                     site_zone=site_zone)
    check_caller_id(merged.get("caller_id_number") or "", merged.get("caller_id_name") or "")
    queue = merged.get("queue_name") or ""
    with services().db.transaction() as cur:
        if queue and queue not in campaign_sql.queue_names(cur):
            raise CampaignSettingsError("queue_name", f"there is no queue {queue!r}; create it in the site first")
    zone = ZoneInfo(rules.default_zone)
    for key in ("starts_at", "ends_at"):
        if key in body:
            merged[key] = _when(body[key], key, zone)
    if merged.get("starts_at") and merged.get("ends_at") and merged["ends_at"] <= merged["starts_at"]:
        raise CampaignSettingsError("ends_at", "the end must come after the start")
    return {k: merged[k] for k in campaign_sql.EDITABLE if k in body or current is None and k in merged}


def _when(value: Any, field: str, zone: ZoneInfo) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise CampaignSettingsError(field, f"expected a date and time such as 2026-12-01T09:00, got {value!r}") from None
    return when if when.tzinfo else when.replace(tzinfo=zone)


def _render(row: dict[str, Any]) -> dict[str, Any]:
    """A campaign row as JSON, with its settings problems (if any) and what it lacks to start."""
    data = _jsonable(row)
    zone = services().settings.site_timezone
    try:
        config = load_config(row, site_zone=zone)
        data["problems"] = config.problems()
        zone = config.rules.default_zone
    except OutboundError as exc:
        data["problems"] = [exc.message]
    data["timezone"] = zone
    for key in ("starts_at", "ends_at"):   # for the form's datetime-local inputs, in the campaign's zone
        when = row.get(key)
        data[f"{key}_local"] = when.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M") if when else ""
    return data


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}


campaign_imports.routes(bp, ROLES)
campaign_dnc.routes(bp, ROLES)


# -- live pushes -------------------------------------------------------------------------


def register_socketio(app: Flask, socketio: SocketIO, built: Services) -> None:
    """``campaigns_hello`` joins the rooms (see the module docstring); campaign events
    from the bus are emitted to them."""

    @socketio.on("campaigns_hello")
    def _hello(_data: Any = None) -> dict[str, Any]:
        user_id = session.get("user_id")
        user = get_user(built.db, user_id) if user_id else None
        if user is None:
            return {"error": {"code": "not-signed-in", "message": "Sign in first."}}
        join_room(user_room(user.id))
        rooms = [user_room(user.id)]
        if user.has_role(*ROLES):
            join_room(MANAGERS_ROOM)
            rooms.append(MANAGERS_ROOM)
        return {"rooms": rooms}

    def _push(event: DomainEvent) -> None:
        if preview_agent(event) is None:   # offers go to their agent only (webapp.sockets)
            socketio.emit("outbound.campaign", event.to_dict(), to=MANAGERS_ROOM)

    built.bus.subscribe("campaign.*", _push)
