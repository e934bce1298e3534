"""What a supervisor does from the wallboard, one click each, all audited.

Calls: listen / whisper / barge (a second click in another mode switches the same
session), intercept, force hangup; the supervisor's session: switch mode, leave.
Agents: force not ready (with a reason), force logout, change skills. Waiting calls:
move to another queue, change priority (routing engine API: applies at once).

Every endpoint checks on the server, before anything reaches the switch or routing,
that the user supervises the call's queue or one of its agents (admins: everything);
a refusal is 403/404/409 with a message that says what to change, and the switch's
``-ERR`` is 502 with its meaning. Every attempt -- done, refused or failed -- writes
one ``audit_log`` row (who, what, which call/agent, the details, the result).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, request

from cti.audit import Actor, failed, record, refused
from cti.core import COMMAND_REFUSALS, record_error
from cti.interaction import SupervisorMode
from cti.scope import load_scope
from cti.supervision import CallNotFound, Forbidden, SupervisionError, SwitchRefused
from cti.supervision_rules import Action, Scope, sees
from cti.tracker import UnknownInteraction
from webapp.auth import current_user, login_required, services
from webapp.errors import error_response
from webapp.supervisor import ROLES, extension_of

log = logging.getLogger(__name__)
bp = Blueprint("supervisor_actions", __name__, url_prefix="/supervisor/api")

FORCE_STATES = ("not_ready", "logged_out")


class Unavailable(SupervisionError):
    status = 503
    code = "unavailable"


class AgentNotFound(SupervisionError):
    status = 404
    code = "agent-not-found"


def _act(action: str, target_type: str, target_id: str | int, details: dict[str, Any],
         do: Callable[[Scope], dict[str, Any]]):
    """Run ``do(scope)``, audit the attempt, and answer JSON (the error's message on refusal)."""
    user = current_user()
    built = services()
    actor = Actor.user(user.id, user.username)
    try:
        result = do(load_scope(built.db, user))
    except SupervisionError as exc:
        outcome = failed(exc.message) if isinstance(exc, SwitchRefused | Unavailable) else refused(exc.message)
        _audit(built, actor, action, target_type, target_id, details, outcome)
        return error_response(exc.status, exc.code, exc.message)
    _audit(built, actor, action, target_type, target_id, {**details, **result.get("audit", {})}, "ok")
    return jsonify({k: v for k, v in result.items() if k != "audit"})


def _audit(built: Any, actor: Actor, action: str, target_type: str, target_id: str | int,
           details: dict[str, Any], result: str) -> None:
    try:
        record(built.db, actor, action, target_type, target_id, details, result)
    except Exception:   # the action happened; a lost audit row is logged loudly
        log.exception("audit row not written", extra={"action": action, "target": str(target_id), "user": actor.name})


def _component(name: str, what: str) -> Any:
    component = getattr(services(), name, None)
    if component is None:
        raise Unavailable(f"{what} is not running on this site (no switch configured)")
    return component


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


# --- calls ----------------------------------------------------------------------------------


@bp.route("/calls/<iid>/<any(listen, whisper, barge):mode>", methods=["POST"])
@login_required(*ROLES)
def monitor(iid: str, mode: str):
    extension = extension_of(current_user(), services().db)

    def do(scope: Scope) -> dict[str, Any]:
        session = _component("supervision", "supervision").monitor(scope, iid, Action(mode), extension)
        return {"session": session.to_dict(), "audit": {"leg_uuid": session.leg_uuid, "extension": extension}}

    return _act(f"call.{mode}", "call", iid, {"mode": mode}, do)


@bp.route("/calls/<iid>/intercept", methods=["POST"])
@login_required(*ROLES)
def intercept(iid: str):
    extension = extension_of(current_user(), services().db)

    def do(scope: Scope) -> dict[str, Any]:
        session = _component("supervision", "supervision").intercept(scope, iid, extension)
        return {"session": session.to_dict(), "audit": {"leg_uuid": session.leg_uuid, "extension": extension}}

    return _act("call.intercept", "call", iid, {}, do)


@bp.route("/calls/<iid>/hangup", methods=["POST"])
@login_required(*ROLES)
def force_hangup(iid: str):
    def do(scope: Scope) -> dict[str, Any]:
        legs = _component("supervision", "supervision").force_hangup(scope, iid)
        return {"hung_up": legs, "audit": {"legs": legs}}

    return _act("call.force_hangup", "call", iid, {}, do)


@bp.route("/calls/<iid>/queue", methods=["POST"])
@login_required(*ROLES)
def move_call(iid: str):
    queue = str(_body().get("queue", "")).strip()

    def do(scope: Scope) -> dict[str, Any]:
        _waiting_call_in_scope(scope, iid)
        if not scope.sees_queue(queue):
            raise Forbidden(f"you do not supervise the queue {queue!r}; move the call to one of yours")
        _routing(lambda engine: engine.move_call(iid, queue))
        return {"queue": queue}

    return _act("call.move", "call", iid, {"queue": queue}, do)


@bp.route("/calls/<iid>/priority", methods=["POST"])
@login_required(*ROLES)
def set_priority(iid: str):
    priority = _body().get("priority")

    def do(scope: Scope) -> dict[str, Any]:
        _waiting_call_in_scope(scope, iid)
        _routing(lambda engine: engine.set_priority(iid, priority))
        return {"priority": priority}

    return _act("call.priority", "call", iid, {"priority": priority}, do)


def _waiting_call_in_scope(scope: Scope, iid: str) -> None:
    core = _component("core", "the live core")
    try:
        ix = core.state.interaction(iid)
    except UnknownInteraction:
        raise CallNotFound(f"there is no live call {iid}; it may have ended") from None
    if not sees(scope, ix):
        raise Forbidden("this call is not in your queues or teams")


def _routing(change: Callable[[Any], None]) -> None:
    engine = _component("routing", "the routing engine")
    try:
        change(engine)
    except ValueError as exc:   # routing's EngineRequestError: what to change
        raise SupervisionError(str(exc)) from None


# --- the supervisor's session -----------------------------------------------------------------


@bp.route("/sessions/<leg>/mode", methods=["POST"])
@login_required(*ROLES)
def switch_mode(leg: str):
    mode = str(_body().get("mode", ""))

    def do(scope: Scope) -> dict[str, Any]:
        if mode not in ("listen", "whisper", "barge"):
            raise SupervisionError(f"mode must be listen, whisper or barge, not {mode!r}")
        session = _component("supervision", "supervision").switch(scope, leg, SupervisorMode(mode))
        return {"session": session.to_dict(), "audit": {"interaction_id": session.interaction_id}}

    return _act("call.switch_mode", "supervisor_leg", leg, {"mode": mode}, do)


@bp.route("/sessions/<leg>/end", methods=["POST"])
@login_required(*ROLES)
def end_session(leg: str):
    def do(scope: Scope) -> dict[str, Any]:
        _component("supervision", "supervision").end(scope, leg)
        return {"ended": leg}

    return _act("call.leave", "supervisor_leg", leg, {}, do)


# --- agents -----------------------------------------------------------------------------------


@bp.route("/agents/<int:agent_id>/state", methods=["POST"])
@login_required(*ROLES)
def force_state(agent_id: int):
    body = _body()
    state = str(body.get("state", ""))
    reason = str(body.get("reason", "") or "forced").strip()
    user = current_user()

    def do(scope: Scope) -> dict[str, Any]:
        if state not in FORCE_STATES:
            raise SupervisionError(f"state must be one of {', '.join(FORCE_STATES)}, not {state!r}")
        _agent_in_scope(scope, agent_id)
        core = _component("core", "the live core")
        by = f"supervisor:{user.username}"
        try:
            if state == "not_ready":
                core.command(core.state.force_not_ready, agent_id, by=by, now=time.time(), reason=reason)
            else:
                core.command(core.state.force_logout, agent_id, by=by, now=time.time())
        except COMMAND_REFUSALS as exc:
            raise SupervisionError(record_error(exc)) from None
        return {"agent_id": agent_id, "state": state}

    details = {"state": state, "reason": reason} if state == "not_ready" else {"state": state}
    return _act(f"agent.force_{state}" if state in FORCE_STATES else "agent.force_state", "agent", agent_id,
                details, do)


@bp.route("/agents/<int:agent_id>/skills", methods=["GET"])
@login_required(*ROLES)
def get_skills(agent_id: int):
    """The agent's skills as stored (read-only: not audited)."""
    try:
        _agent_in_scope(load_scope(services().db, current_user()), agent_id)
    except SupervisionError as exc:
        return error_response(exc.status, exc.code, exc.message)
    rows = services().db.fetchall("SELECT skill, level FROM agent_skills WHERE agent_id = %s ORDER BY skill", (agent_id,))
    return jsonify(agent_id=agent_id, skills={r["skill"]: r["level"] for r in rows})


@bp.route("/agents/<int:agent_id>/skills", methods=["PUT", "POST"])
@login_required(*ROLES)
def set_skills(agent_id: int):
    raw = _body().get("skills")

    def do(scope: Scope) -> dict[str, Any]:
        _agent_in_scope(scope, agent_id)
        if not isinstance(raw, dict):
            raise SupervisionError('skills: give an object of skill name to level, e.g. {"sales": 5}')
        skills = {str(name): level for name, level in raw.items()}
        _routing(lambda engine: engine.set_agent_skills(agent_id, skills))
        return {"agent_id": agent_id, "skills": skills}

    return _act("agent.skills", "agent", agent_id, {"skills": raw}, do)


def _agent_in_scope(scope: Scope, agent_id: int) -> None:
    if not scope.sees_agent(agent_id):
        exists = services().db.fetchone("SELECT 1 FROM agents WHERE id = %s", (agent_id,))
        if exists is None:
            raise AgentNotFound(f"there is no agent {agent_id}")
        raise Forbidden("this agent is not in your teams or queues")
