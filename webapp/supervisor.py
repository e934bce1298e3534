"""The supervisor's wallboard (班长席): the page, its full-screen wall mode, the snapshot
it starts from and the supervisor's phone extension.

The page is live over Socket.IO with no polling: on every (re)connect it asks for a
snapshot with the ``supervisor_hello`` event (answered as the acknowledgement, after
joining the rooms of the user's scope), then applies the ``wallboard.*`` pushes
(:mod:`webapp.wallboard`) and ``supervision.session`` (the supervisor's own listening
session). Actions are in :mod:`webapp.supervisor_actions`.

The extension is the phone the switch rings for listen/whisper/barge/intercept; it is
kept in the signed session (set from the page; supervisors who are also agents start
with their agent's default extension).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, jsonify, render_template, request, session
from flask_socketio import SocketIO, join_room

from cti.db import DatabaseUnavailable
from cti.scope import load_scope
from cti.services import Services
from cti.supervision_rules import Session
from cti.users import User, get_user
from esl import commands as cmd
from esl.protocol import CommandArgumentError
from webapp import supervisor_labels  # noqa: F401 - registers the labels
from webapp.auth import current_user, login_required, services
from webapp.errors import error_response
from webapp.i18n import labels_for
from webapp.nav import NavItem, add_nav_item
from webapp.wallboard import Floor, WallboardPusher, alert_settings, load_directory

log = logging.getLogger(__name__)
bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")

add_nav_item(NavItem("sup_nav", "supervisor.wallboard", ("supervisor",), order=20))

EXTENSION_KEY = "supervisor_extension"
ROLES = ("supervisor",)   # admins pass every role check


def extension_of(user: User, db: Any) -> str:
    """The phone to ring for this supervisor: the one set in the session, else their
    agent's default extension, else none."""
    chosen = session.get(EXTENSION_KEY)
    if chosen:
        return str(chosen)
    row = db.fetchone("SELECT default_extension FROM agents WHERE user_id = %s", (user.id,))
    return str(row["default_extension"]) if row and row["default_extension"] else ""


def page_state(built: Services, user: User, extension: str, pusher: WallboardPusher | None) -> dict[str, Any]:
    """What the page starts from: the floor in the user's scope, their sessions, their
    phone and the alert defaults."""
    scope = load_scope(built.db, user)
    reasons = built.db.fetchall("SELECT code, label FROM reason_codes ORDER BY code")
    skills = [r["name"] for r in built.db.fetchall("SELECT name FROM skills ORDER BY name")]
    directory = pusher.reload() if pusher is not None else load_directory(built.db)
    supervision = getattr(built, "supervision", None)
    sessions: list[Session] = supervision.sessions(user.id) if supervision is not None else []
    return {
        **Floor(built, directory).snapshot(scope),
        "sessions": [s.to_dict() for s in sessions],
        "extension": extension,
        "alerts": alert_settings(built.settings.extra),
        "reasons": reasons,
        "skills": skills,
        "user_id": user.id,
        "rooms": scope.rooms(),
    }


@bp.route("/")
@login_required(*ROLES)
def wallboard():
    return _page(wall=False)


@bp.route("/wall")
@login_required(*ROLES)
def wall():
    """The same board for a wall display: big tiles, no actions, no navigation."""
    return _page(wall=True)


def _page(*, wall: bool):
    user = current_user()
    return render_template(
        "supervisor.html", wall=wall, extension=extension_of(user, services().db),
        page_labels=labels_for(("sup_",)),
    )


@bp.route("/api/snapshot")
@login_required(*ROLES)
def snapshot():
    user = current_user()
    built = services()
    return jsonify(page_state(built, user, extension_of(user, built.db), None))


@bp.route("/api/extension", methods=["POST"])
@login_required(*ROLES)
def set_extension():
    body = request.get_json(silent=True) or {}
    extension = str(body.get("extension", "")).strip()
    if extension:
        try:
            cmd.user(extension)
        except CommandArgumentError as exc:
            return error_response(400, "invalid-extension", f"extension: {exc}", field="extension")
        session[EXTENSION_KEY] = extension
    else:
        session.pop(EXTENSION_KEY, None)
    return jsonify(extension=extension_of(current_user(), services().db))


def register_socketio(app: Flask, socketio: SocketIO, built: Services) -> None:
    """The wallboard's pushes and its ``supervisor_hello`` snapshot (see the module docstring)."""
    pusher = WallboardPusher(socketio, built)
    pusher.start()
    supervision = getattr(built, "supervision", None)
    if supervision is not None:
        supervision.add_listener(
            lambda s, what, message: pusher.push_session(s.user_id, {**s.to_dict(), "what": what, "message": message})
        )

    @socketio.on("supervisor_hello")
    def _hello(_data: Any = None) -> dict[str, Any]:
        user_id = session.get("user_id")
        user = get_user(built.db, user_id) if user_id else None
        if user is None or not user.has_role(*ROLES):
            return {"error": {"code": "forbidden", "message": "Only supervisors and admins see the wallboard."}}
        try:
            state = page_state(built, user, extension_of(user, built.db), pusher)
        except DatabaseUnavailable:
            log.warning("wallboard snapshot failed: database unreachable", extra={"user": user.username})
            return {"error": {"code": "unavailable", "message": "The database is not reachable; retrying."}}
        for room in [f"user:{user.id}", *state["rooms"]]:
            join_room(room)
        return state
