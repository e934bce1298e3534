"""The agent desktop: the page and its JSON endpoints (``/agent/...``).

Every endpoint acts as the signed-in user's own agent (the agent id is never taken from
the request), so an agent can only drive their own state and their own calls. State
changes go through :meth:`cti.core.LiveCore.command`, call control through
:class:`cti.call_control.CallControl`; both refuse with a message saying what to do,
returned as ``{"error": {"code", "message", "field"}}`` with 400/404/409/502/503. The
page itself is kept current by the Socket.IO pushes (:mod:`webapp.sockets`); these
endpoints answer with the fresh state after each change so the page never waits for
a push to show what the user just did.

``not_ready`` asked while a call rings or is up is queued ("not ready after this
call", :mod:`webapp.after_call_requests`): the state carries it as ``after_call`` and
an ``after_call`` push tells the agent's pages when it is queued, cancelled or done.
Any other state the agent then chooses replaces it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, abort, current_app, g, jsonify, render_template, request
from flask_socketio import SocketIO

from cti.agents import ExtensionInUse
from cti.call_control import CallControl
from cti.call_errors import CallControlError
from cti.core import COMMAND_REFUSALS, record_error
from cti.customers import CustomerDirectory, CustomerError, region_from
from cti.services import Services
from cti.tracker import UnknownInteraction
from webapp import agent_labels, agent_views
from webapp.after_call import check_reason, is_queued_in
from webapp.after_call_requests import AfterCallRequests
from webapp.agent_wrapup import check_wrapup, schedule_callback
from webapp.auth import current_user, login_required
from webapp.errors import error_response
from webapp.i18n import labels_for
from webapp.media import voicemail_for, voicemails_for
from webapp.nav import NavItem, add_nav_item
from webapp.rooms import agent_room

bp = Blueprint("agent", __name__, url_prefix="/agent")
add_nav_item(NavItem("ag_nav", "agent.desktop", ("agent",), order=10))

#: Call-control actions the desktop may post, and the CallControl method of each.
CALL_ACTIONS = {
    "hangup": "hangup", "hold": "hold", "resume": "resume", "transfer": "transfer", "consult": "consult",
    "consult_swap": "swap", "conference": "conference", "consult_complete": "complete", "consult_cancel": "cancel",
    "dtmf": "send_dtmf", "record_start": "record_start", "record_stop": "record_stop",
    "record_pause": "record_pause", "record_resume": "record_resume",
}


def services() -> Any:
    return current_app.extensions["cti"]


def control() -> CallControl:
    core = getattr(services(), "core", None)
    if core is None:
        raise CallControlError("No switch is configured for this site (CTI_ESL), so calls cannot be controlled.",
                               error_id="no-switch")
    return CallControl.for_services(services())


def directory() -> Any:
    pusher = getattr(current_app.extensions["cti_socketio"], "cti_pusher", None)
    return pusher.directory.current() if pusher is not None else agent_views.Directory()


def me() -> dict[str, Any]:
    """The signed-in user's agent row; 403 for users who are not agents."""
    if "agent_row" not in g:
        user = current_user()
        g.agent_row = agent_views.agent_of_user(services().db, user.id) if user else None
    if g.agent_row is None:
        abort(403, description="Your account is not set up as an agent; ask an administrator.")
    return g.agent_row


@bp.errorhandler(CallControlError)
def _call_control_error(exc: CallControlError):
    return error_response(exc.status, exc.error_id, exc.message, exc.field)


@bp.errorhandler(CustomerError)
def _customer_error(exc: CustomerError):
    return error_response(exc.status, exc.error_id, str(exc))


def _refused(exc: Exception):
    """A refused live-state command; a phone held by a colleague keeps its own code
    (``extension-in-use``: the desktop has a label for it) and field."""
    text = record_error(exc)
    sentence = text[:1].upper() + text[1:] + "."
    if isinstance(exc, ExtensionInUse):
        return error_response(exc.status, exc.error_id, sentence, exc.field)
    return error_response(409, "refused", sentence)


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def after_call() -> AfterCallRequests:
    return current_app.extensions["cti_after_call"]


def _state() -> dict[str, Any]:
    agent_id = me()["id"]
    return agent_views.desktop_state(services(), agent_id, directory(), after_call().pending(agent_id))


# --- the page ------------------------------------------------------------------------------


@bp.route("/")
@login_required("agent")
def desktop():
    user = current_user()
    agent = agent_views.agent_of_user(services().db, user.id) if user else None
    return render_template(
        "agent.html", agent=agent, shortcuts=agent_labels.SHORTCUTS,
        page_labels=labels_for(("ag_",)),
    )


@bp.route("/api/me")
@login_required("agent")
def profile():
    agent = me()
    db = services().db
    return jsonify({
        "profile": {**agent, "queues": agent_views.queues_of(db, agent["id"])},
        "reason_codes": agent_views.reason_codes(db),
        "dispositions": agent_views.dispositions(db),
        "figures": agent_views.today_figures(db, agent["id"], services().settings.site_timezone),
        **_state(),
    })


@bp.route("/api/state")
@login_required("agent")
def state():
    return jsonify(_state())


# --- agent state ---------------------------------------------------------------------------


def _command(method: str, *args: Any, **kwargs: Any):
    core = control().core
    try:
        core.command(getattr(core.state, method), *args, now=time.time(), **kwargs)
    except COMMAND_REFUSALS as exc:
        return _refused(exc)
    return jsonify(_state())


@bp.route("/api/login", methods=["POST"])
@login_required("agent")
def login():
    """Log in on the phone the agent confirmed for this shift (hot-desking), not ready."""
    agent = me()
    extension = str(_body().get("extension") or agent["default_extension"] or "").strip()
    if not extension:
        return error_response(400, "extension-required", "Enter the extension of the phone you use today.",
                              "extension")
    clash = agent_views.extension_holder(services(), extension, agent["id"])
    if clash is not None:
        return _refused(clash)
    return _command("agent_login", agent["id"], extension, ready=False, reason="login")


@bp.route("/api/state", methods=["POST"])
@login_required("agent")
def set_state():
    """Available, not ready (with a reason) or logged out; not ready during a call is
    queued until the agent is done with it (see the module docstring)."""
    body = _body()
    wanted = str(body.get("state") or "")
    if wanted not in ("available", "not_ready", "logged_out"):
        return error_response(400, "bad-state", "Choose available, not_ready or logged_out.", "state")
    agent_id = me()["id"]
    reason = str(body.get("reason") or "")
    if wanted == "not_ready" and is_queued_in(str(agent_views.live_agent(services(), agent_id)["state"])):
        codes = [r["code"] for r in agent_views.reason_codes(services().db)]
        after_call().queue(agent_id, check_reason(reason, codes))
        return jsonify(_state())
    core = control().core
    try:
        core.command(core.state.agent_set_state, agent_id, wanted, reason, now=time.time())
    except COMMAND_REFUSALS as exc:
        return _refused(exc)
    after_call().cancel(agent_id)
    return jsonify(_state())


@bp.route("/api/after-call", methods=["DELETE"])
@login_required("agent")
def cancel_after_call():
    """Forget the queued "not ready after this call": the agent stays in the call flow."""
    after_call().cancel(me()["id"])
    return jsonify(_state())


# --- calls ---------------------------------------------------------------------------------


@bp.route("/api/calls/<uuid:interaction_id>/<action>", methods=["POST"])
@login_required("agent")
def call_action(interaction_id: Any, action: str):
    method = CALL_ACTIONS.get(action)
    if method is None:
        return error_response(404, "unknown-action", f"There is no call action {action!r}.")
    body = _body()
    args: list[Any] = [me()["id"], str(interaction_id)]
    if action in ("transfer", "consult"):
        args.append(str(body.get("target") or ""))
    elif action == "dtmf":
        args.append(str(body.get("digits") or ""))
    getattr(control(), method)(*args)
    return jsonify(_state())


@bp.route("/api/calls/<uuid:interaction_id>/screen-pop")
@login_required("agent")
def screen_pop(interaction_id: Any):
    agent_id = me()["id"]
    calls = control()
    iid = str(interaction_id)
    if calls.view(agent_id, iid).my_leg is None and agent_views.call_of(agent_views.live_agent(services(), agent_id)) != iid:
        return error_response(403, "not-your-call", "You can only see the calls you are on.")
    pop = agent_views.screen_pop_for(services(), iid, agent_id, directory())
    if pop is None:
        return error_response(404, "no-such-call", "That call has ended.")
    return jsonify(pop)


@bp.route("/api/dial", methods=["POST"])
@login_required("agent")
def dial():
    body = _body()
    interaction_id = control().dial(me()["id"], str(body.get("number") or ""), queue=str(body.get("queue") or ""))
    return jsonify({"interaction_id": interaction_id, **_state()})


@bp.route("/api/colleagues")
@login_required("agent")
def colleagues():
    """Who a call can go to: the other agents with their live state, and the queues."""
    db = services().db
    rows = db.fetchall("""SELECT a.id, a.code, u.display_name FROM agents a JOIN users u ON u.id = a.user_id
                           WHERE u.active ORDER BY a.code""")
    mine = me()["id"]
    agents = [{"id": r["id"], "code": r["code"], "name": r["display_name"],
               "state": agent_views.live_agent(services(), r["id"])["state"]} for r in rows if r["id"] != mine]
    queues = [{"name": r["name"], "display_name": r["display_name"] or r["name"]}
              for r in db.fetchall("SELECT name, display_name FROM queues ORDER BY name")]
    return jsonify({"agents": agents, "queues": queues})


# --- wrap-up -------------------------------------------------------------------------------


@bp.route("/api/wrapup", methods=["POST"])
@login_required("agent")
def wrapup():
    """Finish after-call work: disposition, notes, optional call back; the agent becomes available."""
    agent = me()
    body = _body()
    live = agent_views.live_agent(services(), agent["id"])
    iid = str(body.get("interaction_id") or agent_views.call_of(live) or "")
    if not iid:
        return error_response(409, "no-wrapup", "You have no call to wrap up.")
    queue = _queue_of(iid)
    db = services().db
    settings = services().settings
    now = datetime.now(UTC)
    done = check_wrapup(
        body, interaction_id=iid, codes=agent_views.dispositions_for(db, queue),
        required=agent_views.disposition_required(db, queue), zone=settings.site_timezone, now=now,
        region=region_from(settings.extra),
    )
    if done.callback is not None:
        schedule_callback(db, done, queue=queue or _first_queue(agent["id"]), language=current_user().language, now=now)
    core = control().core
    try:
        core.command(core.state.wrapup_done, agent["id"], done.disposition, done.notes, now=time.time(),
                     interaction_id=iid)
    except COMMAND_REFUSALS as exc:
        return _refused(exc)
    after_call().settle(agent["id"])   # at once: no call may be offered before a queued not-ready
    return jsonify(_state())


def _queue_of(interaction_id: str) -> str:
    try:
        return control().core.state.interaction(interaction_id).queue
    except UnknownInteraction:
        row = services().db.fetchone("SELECT queue_name FROM interactions WHERE id = %s", (interaction_id,))
        return str(row["queue_name"]) if row else ""


def _first_queue(agent_id: int) -> str:
    queues = agent_views.queues_of(services().db, agent_id)
    return queues[0]["name"] if queues else ""


# --- figures, history, customers, voicemail ---------------------------------------------------


@bp.route("/api/figures")
@login_required("agent")
def figures():
    return jsonify(agent_views.today_figures(services().db, me()["id"], services().settings.site_timezone))


@bp.route("/api/recent")
@login_required("agent")
def recent():
    return jsonify({"calls": agent_views.recent_calls(services().db, me()["id"])})


@bp.route("/api/customers", methods=["POST"])
@login_required("agent")
def create_customer():
    """The "unknown caller" form: a new customer with the caller's number."""
    body = _body()
    directory_ = CustomerDirectory(services().db, region=region_from(services().settings.extra))
    fields = {k: body[k] for k in ("company", "notes", "email") if isinstance(body.get(k), str)}
    number = str(body.get("number") or "").strip()
    customer = directory_.create(name=str(body.get("name") or ""), numbers=[number] if number else [], **fields)
    return jsonify(customer.to_dict()), 201


def _voicemail() -> Any:
    service = getattr(getattr(services(), "routing", None), "voicemail", None)
    if service is None:
        from cti.voicemail import VoicemailService

        service = VoicemailService(services().db, services().bus)
    return service


@bp.route("/api/voicemail")
@login_required("agent")
def voicemail():
    """The inbox: what the agent may hear (:func:`webapp.media.voicemails_for`)."""
    status = request.args.get("status") or None
    if status not in (None, "new", "assigned", "handled"):
        return error_response(400, "bad-status", "Status is new, assigned or handled.", "status")
    return jsonify({"voicemails": voicemails_for(services().db, current_user(), status=status)})


@bp.route("/api/voicemail/<uuid:voicemail_id>/<action>", methods=["POST"])
@login_required("agent")
def voicemail_action(voicemail_id: Any, action: str):
    """``take`` (assign to me), ``handled``, ``call-back`` (click-to-dial the caller)."""
    from cti.voicemail import VoicemailError

    vid = str(voicemail_id)
    item = _visible_voicemail(vid)
    service = _voicemail()
    try:
        if action == "take":
            return jsonify(service.assign(vid, me()["id"]))
        if action == "handled":
            return jsonify(service.mark_handled(vid, current_user().id))
    except VoicemailError as exc:
        return error_response(409, "refused", str(exc))
    if action == "call-back":
        interaction_id = control().dial(me()["id"], str(item["caller_number"]))
        return jsonify({"interaction_id": interaction_id, **_state()})
    return error_response(404, "unknown-action", f"There is no voicemail action {action!r}.")


def _visible_voicemail(voicemail_id: str) -> dict[str, Any]:
    """The voicemail if the user may see it; 404 otherwise (never reveal others' messages)."""
    item = voicemail_for(services().db, current_user(), voicemail_id)
    if item is None:
        abort(404, description="There is no such voicemail in your boxes.")
    return item


# --- live pushes ---------------------------------------------------------------------------


def register_socketio(app: Flask, socketio: SocketIO, built: Services) -> None:
    """The queued not-ready requests of this process, told about every agent state
    change, and pushed to the agent's pages as ``after_call``."""

    def notify(agent_id: int, payload: dict[str, Any]) -> None:
        socketio.emit("after_call", payload, to=agent_room(agent_id))

    requests = AfterCallRequests(built, notify)
    built.bus.subscribe("agent.state_changed", requests.on_event)
    app.extensions["cti_after_call"] = requests   # read by after_call() and the hello push

