"""Quality review (质检): supervisors find recordings, play them and score them against
a configurable form; agents read the scores of their own calls (``/quality/mine``).

Supervisors see the recordings of their queues and agents (their scope), admins all;
a recording outside one's scope is "not found". Audio is streamed by the media area
(webapp/media.py, with its own authorisation); this page only links to it. Saving a
score or a form is audited like every supervisor action.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from cti.audit import Actor, record, refused
from cti.quality import (
    NotFound,
    RecordingFilter,
    agent_of_user,
    list_forms,
    recording,
    save_form,
    save_score,
    scores,
    search_recordings,
)
from cti.quality_scoring import QualityError, parse_criteria
from cti.scope import load_scope
from webapp import supervisor_labels  # noqa: F401 - registers the labels
from webapp.auth import current_user, login_required, services
from webapp.errors import error_response
from webapp.i18n import labels_for
from webapp.nav import NavItem, add_nav_item

log = logging.getLogger(__name__)
bp = Blueprint("quality", __name__, url_prefix="/quality")

add_nav_item(NavItem("qa_nav", "quality.review", ("supervisor",), order=30))
add_nav_item(NavItem("qa_mine_nav", "quality.mine", ("agent",), order=35))

REVIEWERS = ("supervisor",)   # admins pass every role check
AUDIO_ENDPOINT = "media.recording"   # webapp/media.py: authorised, Range-capable, audited


def audio_url(recording_id: str) -> str | None:
    """Where the page plays a recording from (None on a site without the media area)."""
    if AUDIO_ENDPOINT not in current_app.view_functions:
        return None
    return url_for(AUDIO_ENDPOINT, recording_id=recording_id)


def _tz() -> str:
    return services().settings.site_timezone


def _audit(action: str, target_type: str, target_id: Any, details: dict[str, Any], result: str = "ok") -> None:
    user = current_user()
    try:
        record(services().db, Actor.user(user.id, user.username), action, target_type, target_id, details, result)
    except Exception:
        log.exception("audit row not written", extra={"action": action, "user": user.username})


def _choices(scope: Any) -> dict[str, Any]:
    db = services().db
    agents = db.fetchall("""SELECT a.id, a.code, COALESCE(NULLIF(u.display_name, ''), u.username) AS name
                              FROM agents a JOIN users u ON u.id = a.user_id ORDER BY a.code""")
    queues = db.fetchall("SELECT name, COALESCE(NULLIF(display_name, ''), name) AS label FROM queues ORDER BY name")
    dispositions = db.fetchall("SELECT DISTINCT code, label FROM disposition_codes ORDER BY code")
    return {
        "agents": [a for a in agents if scope.sees_agent(a["id"])],
        "queues": [q for q in queues if scope.sees_queue(q["name"])],
        "dispositions": dispositions,
    }


# --- reviewers ------------------------------------------------------------------------------


@bp.route("/")
@login_required(*REVIEWERS)
def review():
    scope = load_scope(services().db, current_user())
    return render_template("quality.html", choices=_choices(scope), page_labels=labels_for(("qa_",)))


@bp.route("/api/recordings")
@login_required(*REVIEWERS)
def recordings():
    try:
        flt = RecordingFilter.from_args(request.args, _tz())
    except QualityError as exc:
        return error_response(400, "bad-filter", str(exc))
    scope = load_scope(services().db, current_user())
    rows = search_recordings(services().db, scope, flt)
    return jsonify(recordings=[_recording_json(r) for r in rows], limit=flt.limit, offset=flt.offset)


def _recording_json(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "started_at": row["started_at"].isoformat(),
            "ended_at": row["ended_at"].isoformat() if row["ended_at"] else None,
            "average_total": float(row["average_total"]) if row["average_total"] is not None else None,
            "audio_url": audio_url(row["id"])}


@bp.route("/api/recordings/<recording_id>")
@login_required(*REVIEWERS)
def recording_detail(recording_id: str):
    scope = load_scope(services().db, current_user())
    try:
        row = recording(services().db, scope, recording_id)
    except NotFound as exc:
        return error_response(404, "not-found", str(exc))
    return jsonify(recording=_recording_json(row), scores=[_score_json(s) for s in scores(services().db, recording_id=row["id"])])


def _score_json(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("created_at", "updated_at", "call_started_at"):
        if out.get(key) is not None:
            out[key] = out[key].isoformat()
    return out


@bp.route("/api/recordings/<recording_id>/scores", methods=["POST"])
@login_required(*REVIEWERS)
def score(recording_id: str):
    body = request.get_json(silent=True) or {}
    user = current_user()
    scope = load_scope(services().db, user)
    form_id = body.get("form_id")
    details = {"form_id": form_id}
    try:
        row = recording(services().db, scope, recording_id)
        if not isinstance(form_id, int):
            raise QualityError("form_id: choose a scoring form")
        items = body.get("items")
        if not isinstance(items, list):
            raise QualityError("items: give the points of every criterion")
        saved = save_score(services().db, recording_row=row, form_id=form_id, items=items,
                           comments=body.get("comments", ""), scorer=user)
    except NotFound as exc:
        _audit("quality.score", "recording", recording_id, details, refused(str(exc)))
        return error_response(404, "not-found", str(exc))
    except QualityError as exc:
        _audit("quality.score", "recording", recording_id, details, refused(str(exc)))
        return error_response(400, "invalid-score", str(exc))
    _audit("quality.score", "recording", recording_id, {**details, "total": saved["total"], "agent_id": row["agent_id"]})
    return jsonify(saved), 201


@bp.route("/api/forms")
@login_required(*REVIEWERS)
def forms():
    return jsonify(forms=list_forms(services().db, include_inactive=True))


@bp.route("/api/forms", methods=["POST"])
@bp.route("/api/forms/<int:form_id>", methods=["PUT"])
@login_required(*REVIEWERS)
def put_form(form_id: int | None = None):
    body = request.get_json(silent=True) or {}
    name = str(body.get("name", ""))
    try:
        criteria = parse_criteria(body.get("criteria") or [])
        saved = save_form(services().db, name=name, description=str(body.get("description", "")).strip(),
                          criteria=criteria, active=bool(body.get("active", True)), form_id=form_id,
                          user_id=current_user().id)
    except NotFound as exc:
        return error_response(404, "not-found", str(exc))
    except QualityError as exc:
        _audit("quality.form", "quality_form", form_id or "", {"name": name}, refused(str(exc)))
        return error_response(400, "invalid-form", str(exc))
    _audit("quality.form", "quality_form", saved, {"name": name, "criteria": len(criteria),
                                                   "created": form_id is None})
    return jsonify(id=saved), 201 if form_id is None else 200


# --- agents: their own scores ----------------------------------------------------------------


@bp.route("/mine")
@login_required("agent")
def mine():
    reviews = [{**r, "call_at": _local(r["call_started_at"]), "scored_at": _local(r["updated_at"])} for r in _my_scores()]
    return render_template("quality_mine.html", reviews=reviews, page_labels={})


@bp.route("/api/mine")
@login_required("agent")
def mine_json():
    return jsonify(scores=[_score_json(s) for s in _my_scores()])


def _my_scores() -> list[dict[str, Any]]:
    agent_id = agent_of_user(services().db, current_user().id)
    return [] if agent_id is None else scores(services().db, agent_id=agent_id)


def _local(moment: Any) -> str:
    """A stored time as the site's wall-clock time, for reading."""
    return moment.astimezone(ZoneInfo(_tz())).strftime("%Y-%m-%d %H:%M") if moment is not None else ""
