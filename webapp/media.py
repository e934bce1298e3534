"""Recordings and voicemail audio for signed-in users, each file only to those allowed
to hear it, streamed with HTTP Range support so players can seek.

Who may hear what (the rows are checked on every request; an id alone grants nothing):

* a recording: admins; the agent it belongs to or who talked on its call; supervisors
  of its queue or of a team whose agent it belongs to;
* a voicemail: admins; supervisors of its queue box, or of the team of the agent whose
  box it is; an agent: their own box, messages assigned to them, and in the boxes of
  their queues the messages nobody has taken yet.

Anything else is answered 404, exactly like an id that does not exist, so ids cannot be
probed. A file is served only from inside the site's recordings folder (or data folder),
whatever path the row holds; each playback is written to the audit log.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, send_file

from cti.db import Database
from cti.users import User
from webapp.auth import current_user, login_required

log = logging.getLogger(__name__)
bp = Blueprint("media", __name__, url_prefix="/media")

_WHO = """WITH me AS (
    SELECT %(user)s::bigint AS user_id, %(admin)s::boolean AS admin,
           (SELECT id FROM agents WHERE user_id = %(user)s) AS agent_id,
           (SELECT code FROM agents WHERE user_id = %(user)s) AS code
), my_queues AS (
    SELECT q.name FROM queue_supervisors s JOIN queues q ON q.id = s.queue_id, me WHERE s.user_id = me.user_id
), team_agents AS (
    SELECT a.id, a.code FROM team_supervisors t JOIN agents a ON a.team_id = t.team_id, me WHERE t.user_id = me.user_id
)"""

RECORDING_SQL = _WHO + """
SELECT r.id::text AS id, r.path, r.interaction_id::text AS interaction_id FROM recordings r, me
 WHERE r.id = %(id)s AND r.deleted_at IS NULL AND (
       me.admin
    OR r.agent_id = me.agent_id
    OR EXISTS (SELECT 1 FROM agent_segments s WHERE s.interaction_id = r.interaction_id AND s.agent_id = me.agent_id)
    OR r.queue_name IN (SELECT name FROM my_queues)
    OR r.agent_id IN (SELECT id FROM team_agents))"""  # noqa: S608 -- constant pieces, values bound

VOICEMAIL_FILTER = """(
       me.admin
    OR v.assigned_agent_id = me.agent_id
    OR v.box = 'agent:' || me.code
    OR v.box IN (SELECT 'queue:' || name FROM my_queues)
    OR v.box IN (SELECT 'agent:' || code FROM team_agents)
    OR (v.status = 'new' AND v.box IN (SELECT 'queue:' || q.name FROM queue_agents qa JOIN queues q ON q.id = qa.queue_id
                                          WHERE qa.agent_id = me.agent_id)))"""

VOICEMAIL_SQL = _WHO + """
SELECT v.id::text AS id, v.path, v.box, v.caller_number FROM voicemails v, me
 WHERE v.id = %(id)s AND """ + VOICEMAIL_FILTER  # noqa: S608 -- constant pieces, values bound

VOICEMAILS_SQL = _WHO + """
SELECT v.id::text AS id, v.box, v.interaction_id::text AS interaction_id, v.caller_number, v.event_code,
       v.duration_ms, v.status, v.assigned_agent_id, v.created_at, v.handled_at, v.handled_by
  FROM voicemails v, me
 WHERE (%(status)s::text IS NULL OR v.status = %(status)s) AND """ + VOICEMAIL_FILTER + """
 ORDER BY v.created_at DESC LIMIT %(limit)s"""  # noqa: S608 -- constant pieces, values bound


def _params(user: User, **extra: Any) -> dict[str, Any]:
    return {"user": user.id, "admin": "admin" in user.roles, **extra}


def recording_for(db: Database, user: User, recording_id: str) -> dict[str, Any] | None:
    """The recording row if ``user`` may hear it, else None."""
    return db.fetchone(RECORDING_SQL, _params(user, id=recording_id))


def voicemail_for(db: Database, user: User, voicemail_id: str) -> dict[str, Any] | None:
    """The voicemail row if ``user`` may hear it, else None."""
    return db.fetchone(VOICEMAIL_SQL, _params(user, id=voicemail_id))


def voicemails_for(db: Database, user: User, *, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """The voicemails ``user`` may see (same rule as the audio), newest first."""
    rows = db.fetchall(VOICEMAILS_SQL, _params(user, status=status, limit=limit))
    out = []
    for row in rows:
        item = dict(row)
        for key in ("created_at", "handled_at"):
            item[key] = item[key].isoformat() if item[key] is not None else None
        out.append(item)
    return out


def _allowed_roots() -> list[Path]:
    settings = current_app.extensions["cti"].settings
    return [Path(settings.recordings_dir).resolve(), Path(settings.data_dir).resolve()]


def _serve(path: str, *, kind: str, item_id: str):
    """Stream the file (206 for Range requests) if it lies inside an allowed root."""
    try:
        resolved = Path(path).resolve(strict=True)
    except (OSError, RuntimeError):
        abort(404, description="The audio file is no longer available.")
    if not any(resolved.is_relative_to(root) for root in _allowed_roots()):
        log.warning("media outside the recordings folder refused", extra={"kind": kind, "id": item_id})
        abort(404, description="The audio file is no longer available.")
    _audit(kind, item_id)
    return send_file(resolved, mimetype="audio/wav", conditional=True, etag=True, max_age=0)


def _audit(kind: str, item_id: str) -> None:
    user = current_user()
    assert user is not None
    try:
        current_app.extensions["cti"].db.execute(
            """INSERT INTO audit_log (actor_type, actor_id, actor_name, action, target_type, target_id)
               VALUES ('user', %s, %s, %s, %s, %s)""",
            (user.id, user.username, f"{kind}.play", kind, item_id))
    except Exception:
        log.exception("audit of a playback failed", extra={"kind": kind, "id": item_id})


@bp.route("/recordings/<uuid:recording_id>")
@login_required()
def recording(recording_id: Any):
    user = current_user()
    assert user is not None
    row = recording_for(current_app.extensions["cti"].db, user, str(recording_id))
    if row is None:
        abort(404, description="There is no such recording you may hear.")
    return _serve(row["path"], kind="recording", item_id=row["id"])


@bp.route("/voicemail/<uuid:voicemail_id>")
@login_required()
def voicemail(voicemail_id: Any):
    user = current_user()
    assert user is not None
    row = voicemail_for(current_app.extensions["cti"].db, user, str(voicemail_id))
    if row is None:
        abort(404, description="There is no such voicemail you may hear.")
    return _serve(row["path"], kind="voicemail", item_id=row["id"])


__all__ = ["bp", "recording_for", "voicemail_for", "voicemails_for"]
