"""Recordings and voicemails: metadata with the ``read`` scope, audio with ``read`` AND
``media`` (recorded voices are personal data; an integration that only needs call
facts never gets them), and voicemail handling (assign, mark handled) with ``calls``.

Audio is streamed with HTTP Range support (206) so players can seek. A file is only
served from inside the site's recordings or data folder, whatever path a row holds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import send_file

from webapp.api.calls import UUID_PATTERN
from webapp.api.errors import ApiError
from webapp.api.operations import ApiRequest, Reply, api_operation, path_param, query_param
from webapp.api.paging import PAGING, page
from webapp.api.schemas import ID, NAME, closed, ref
from webapp.api.schemas import page as page_schema
from webapp.api.validation import parse_time

_UUID = {"type": "string", "pattern": UUID_PATTERN}
RECORDING_ID = path_param("recording_id", _UUID)
VOICEMAIL_ID = path_param("voicemail_id", _UUID)
AUDIO = {200: ("The audio (WAV)", {"type": "string", "format": "binary"}),
         206: ("Part of the audio (Range request)", {"type": "string", "format": "binary"})}
_TIME = {"type": "string", "format": "date-time"}

CHANGE_VOICEMAIL = closed({"status": {"enum": ["new", "assigned", "handled"]}, "assigned_agent_id": ID},
                          ("status",))

_RECORDING_COLUMNS = """id::text AS id, interaction_id::text AS interaction_id, agent_id, queue_name, caller_number,
path, started_at, ended_at, duration_ms, size_bytes, paused_ms"""
_VOICEMAIL_COLUMNS = """id::text AS id, box, interaction_id::text AS interaction_id, caller_number, event_code, path,
duration_ms, status, assigned_agent_id, created_at, handled_at, handled_by"""
_COLUMNS = {"recordings": _RECORDING_COLUMNS, "voicemails": _VOICEMAIL_COLUMNS}

_RECORDINGS = f"""
SELECT {_RECORDING_COLUMNS} FROM recordings
 WHERE deleted_at IS NULL
   AND (%(interaction_id)s::text IS NULL OR interaction_id = %(interaction_id)s::uuid)
   AND (%(agent_id)s::bigint IS NULL OR agent_id = %(agent_id)s)
   AND (%(queue)s::text IS NULL OR queue_name = %(queue)s)
   AND (%(from)s::timestamptz IS NULL OR started_at >= %(from)s)
   AND (%(to)s::timestamptz IS NULL OR started_at < %(to)s)
 ORDER BY started_at DESC, recordings.id LIMIT %(limit)s OFFSET %(offset)s"""  # noqa: S608 -- constant columns

_VOICEMAILS = f"""
SELECT {_VOICEMAIL_COLUMNS} FROM voicemails
 WHERE (%(box)s::text IS NULL OR box = %(box)s) AND (%(status)s::text IS NULL OR status = %(status)s)
 ORDER BY created_at DESC, voicemails.id LIMIT %(limit)s OFFSET %(offset)s"""  # noqa: S608 -- constant columns


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def _recording(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "interaction_id": row["interaction_id"], "agent_id": row["agent_id"],
        "queue": row["queue_name"], "caller_number": row["caller_number"], "started_at": _iso(row["started_at"]),
        "ended_at": _iso(row["ended_at"]), "duration_ms": row["duration_ms"], "size_bytes": row["size_bytes"],
        "paused_ms": row["paused_ms"], "audio": f"/api/v1/recordings/{row['id']}/audio",
    }


def _voicemail(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"], "box": row["box"], "interaction_id": row["interaction_id"],
        "caller_number": row["caller_number"], "event_code": row["event_code"], "duration_ms": row["duration_ms"],
        "status": row["status"], "assigned_agent_id": row["assigned_agent_id"], "created_at": _iso(row["created_at"]),
        "handled_at": _iso(row["handled_at"]), "handled_by": row["handled_by"],
        "audio": f"/api/v1/voicemails/{row['id']}/audio",
    }


def _one(req: ApiRequest, table: str, key: str) -> dict[str, Any]:
    deleted = " AND deleted_at IS NULL" if table == "recordings" else ""
    row = req.services.db.fetchone(
        f"SELECT {_COLUMNS[table]} FROM {table} WHERE {table}.id = %s{deleted}",  # noqa: S608 -- constant names
        (req.path[key],),
    )
    if row is None:
        raise ApiError(404, f"{table[:-1]}-not-found", f"no {table[:-1]} {req.path[key]}")
    return row


def _audio(req: ApiRequest, path_text: str):
    """Stream a file that lies inside the site's recordings or data folder."""
    settings = req.services.settings
    path = Path(path_text).resolve()
    roots = (Path(settings.recordings_dir).resolve(), Path(settings.data_dir).resolve())
    if not any(path.is_relative_to(root) for root in roots) or not path.is_file():
        raise ApiError(404, "audio-not-found", "the audio file is not available (deleted or never written)")
    return send_file(path, mimetype="audio/wav", conditional=True, max_age=0)


@api_operation("GET", "/recordings", summary="Recordings", tag="media", scope="read",
               params=(query_param("interaction_id", _UUID), query_param("agent_id", ID), query_param("queue", NAME),
                       query_param("from", _TIME), query_param("to", _TIME), *PAGING),
               responses={200: ("Newest first", page_schema(ref("Recording")))})
def list_recordings(req: ApiRequest) -> Reply:
    params = {k: req.query.get(k) for k in ("interaction_id", "agent_id", "queue")}
    params["from"] = parse_time(req.query["from"], "from") if "from" in req.query else None
    params["to"] = parse_time(req.query["to"], "to") if "to" in req.query else None
    return page(req, lambda n, skip: req.services.db.fetchall(_RECORDINGS, {**params, "limit": n, "offset": skip}),
                _recording)


@api_operation("GET", "/recordings/{recording_id}", summary="One recording's metadata", tag="media", scope="read",
               params=(RECORDING_ID,), responses={200: ("The recording", ref("Recording"))})
def get_recording(req: ApiRequest) -> Reply:
    return _recording(_one(req, "recordings", "recording_id"))


@api_operation("GET", "/recordings/{recording_id}/audio", summary="Download a recording", tag="media",
               scope="read+media", params=(RECORDING_ID,), responses=AUDIO, media_type="audio/wav")
def get_recording_audio(req: ApiRequest) -> Reply:
    return _audio(req, _one(req, "recordings", "recording_id")["path"])


@api_operation("GET", "/voicemails", summary="Voicemails", tag="media", scope="read",
               params=(query_param("box", {"type": "string", "maxLength": 100}, "queue:<name> or agent:<code>"),
                       query_param("status", {"enum": ["new", "assigned", "handled"]}), *PAGING),
               responses={200: ("Newest first", page_schema(ref("Voicemail")))})
def list_voicemails(req: ApiRequest) -> Reply:
    params = {"box": req.query.get("box"), "status": req.query.get("status")}
    return page(req, lambda n, skip: req.services.db.fetchall(_VOICEMAILS, {**params, "limit": n, "offset": skip}),
                _voicemail)


@api_operation("GET", "/voicemails/{voicemail_id}", summary="One voicemail's metadata", tag="media", scope="read",
               params=(VOICEMAIL_ID,), responses={200: ("The voicemail", ref("Voicemail"))})
def get_voicemail(req: ApiRequest) -> Reply:
    return _voicemail(_one(req, "voicemails", "voicemail_id"))


@api_operation("GET", "/voicemails/{voicemail_id}/audio", summary="Download a voicemail", tag="media",
               scope="read+media", params=(VOICEMAIL_ID,), responses=AUDIO, media_type="audio/wav")
def get_voicemail_audio(req: ApiRequest) -> Reply:
    return _audio(req, _one(req, "voicemails", "voicemail_id")["path"])


@api_operation("PATCH", "/voicemails/{voicemail_id}", summary="Assign or close a voicemail", tag="media",
               scope="calls", params=(VOICEMAIL_ID,), body=CHANGE_VOICEMAIL,
               responses={200: ("The voicemail", ref("Voicemail"))})
def update_voicemail(req: ApiRequest) -> Reply:
    """``assigned`` needs ``assigned_agent_id``; ``handled`` records when."""
    body = req.body
    _one(req, "voicemails", "voicemail_id")
    agent_id = body.get("assigned_agent_id")
    if body["status"] == "assigned":
        if agent_id is None:
            raise ApiError(422, "validation-failed", "assigned_agent_id: say which agent", field="assigned_agent_id")
        if req.services.db.fetchone("SELECT 1 FROM agents WHERE id = %s", (agent_id,)) is None:
            raise ApiError(422, "validation-failed", f"assigned_agent_id: no agent {agent_id}",
                           field="assigned_agent_id")
    req.services.db.execute(
        """UPDATE voicemails SET status = %(status)s,
                  assigned_agent_id = CASE WHEN %(status)s = 'assigned' THEN %(agent)s ELSE assigned_agent_id END,
                  handled_at = CASE WHEN %(status)s = 'handled' THEN now() END
            WHERE id = %(id)s""",
        {"status": body["status"], "agent": agent_id, "id": req.path["voicemail_id"]},
    )
    return _voicemail(_one(req, "voicemails", "voicemail_id"))
