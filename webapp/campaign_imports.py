"""Uploading a contact list on a campaign's page: the file, the column mapping, live
progress, and the bad-row report.

1. ``POST /campaigns/<id>/upload`` (multipart ``file``): the file is kept in the data
   dir under a random name (the name the user gave it beside it, ``<upload>.name``, for
   the import job's record) and its header row is returned, so the page can ask which
   column holds the phone number, the name, the time zone and custom fields.
2. ``POST /campaigns/<id>/import`` (JSON: the upload, the list name, the region, the
   mapping): the list is created (or reused) and attached to the campaign, and the
   import runs (:func:`outbound.contacts_import.import_contacts`: a worker process,
   waited for cooperatively from a greenlet of its own). Progress is pushed to the
   user's pages over Socket.IO (``outbound.import``) after every chunk -- no polling.
3. ``GET /campaigns/imports/<job>`` (the job and the first issues, for a page
   reloaded meanwhile) and ``GET /campaigns/imports/<job>/issues.csv`` (the whole
   report: row number as the spreadsheet shows it, kind, reason, the row's cells).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gevent
from flask import Blueprint, Response, current_app, jsonify, request, stream_with_context

from outbound import campaign_sql
from outbound import store as sql
from outbound.contacts_import import ImportProgress, display_name, file_header, import_contacts
from outbound.errors import ImportFileError, OutboundError, UnknownCampaign, UnknownContactList
from outbound.import_rows import ColumnMapping
from outbound.phone import is_known_region
from webapp.auth import current_user, login_required, services

log = logging.getLogger(__name__)

_UPLOAD = re.compile(r"^[0-9a-f]{32}\.(csv|txt|tsv|xlsx|xlsm)$")
_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm")
ISSUES_SHOWN = 100


def upload_dir() -> Path:
    folder = Path(services().settings.data_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def routes(bp: Blueprint, roles: tuple[str, ...]) -> None:
    """Add this module's endpoints to the campaigns blueprint."""

    @bp.route("/<int:campaign_id>/upload", methods=["POST"])
    @login_required(*roles)
    def upload(campaign_id: int):
        _campaign(campaign_id)
        sent = request.files.get("file")
        if sent is None or not sent.filename:
            raise ImportFileError("choose a CSV or XLSX file to upload")
        suffix = Path(sent.filename).suffix.lower()
        if suffix not in _SUFFIXES:
            raise ImportFileError(f"{sent.filename}: expected a .csv or .xlsx file")
        name = secrets.token_hex(16) + suffix
        path = upload_dir() / name
        sent.save(path)
        try:
            columns = file_header(path)
        except ImportFileError:
            path.unlink(missing_ok=True)
            raise
        file_name = display_name(sent.filename, name)
        _given_name(path).write_text(file_name, encoding="utf-8")
        return jsonify(upload=name, file_name=file_name, columns=columns)

    @bp.route("/<int:campaign_id>/import", methods=["POST"])
    @login_required(*roles)
    def start_import(campaign_id: int):
        campaign = _campaign(campaign_id)
        body = request.get_json(silent=True) or {}
        name = str(body.get("upload", ""))
        if not _UPLOAD.match(name) or not (upload_dir() / name).is_file():
            raise ImportFileError("the uploaded file is gone; upload it again")
        list_name = str(body.get("list_name") or "").strip() or f"{campaign['name']}-{name[:8]}"
        region = str(body.get("region") or "US").upper()
        if not is_known_region(region):
            raise ImportFileError(f"region {region!r}: use a two-letter country code such as US, GB or CN")
        mapping = _mapping(body.get("mapping"))
        mapping.check_header(file_header(upload_dir() / name))
        with services().db.transaction() as cur:
            list_id = sql.contact_list_id(cur, list_name, create=True, default_region=region)
            assert list_id is not None
            campaign_sql.attach_list(cur, list_id, campaign_id)
        user = current_user()
        socketio = current_app.extensions["cti_socketio"]
        gevent.spawn(_run, socketio, services().db.url, user.id, campaign_id, list_id, upload_dir() / name,
                     mapping, region, _read_given_name(upload_dir() / name))
        return jsonify(upload=name, list_id=list_id, list_name=list_name), 202

    @bp.route("/imports/<int:job_id>")
    @login_required(*roles)
    def import_job(job_id: int):
        with services().db.transaction() as cur:
            job = sql.import_job(cur, job_id)
            if job is None:
                raise UnknownContactList(f"import {job_id} does not exist")
            issues = sql.import_issues(cur, job_id, limit=ISSUES_SHOWN)
        return jsonify(job=_jsonable(job), issues=[_jsonable(i) for i in issues])

    @bp.route("/imports/<int:job_id>/issues.csv")
    @login_required(*roles)
    def import_issues_csv(job_id: int):
        with services().db.transaction() as cur:
            job = sql.import_job(cur, job_id)
        if job is None:
            raise UnknownContactList(f"import {job_id} does not exist")
        db = services().db
        return Response(
            stream_with_context(_issues_csv(db, job_id)), mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="import-{job_id}-issues.csv"'},
        )


def _campaign(campaign_id: int) -> dict[str, Any]:
    with services().db.transaction() as cur:
        row = campaign_sql.campaign(cur, campaign_id)
    if row is None:
        raise UnknownCampaign(f"campaign {campaign_id} does not exist")
    return row


def _mapping(value: Any) -> ColumnMapping:
    if not isinstance(value, dict) or not isinstance(value.get("phone"), str) or not value["phone"]:
        raise ImportFileError("mapping: choose the column that holds the phone number")
    fields = value.get("fields") or {}
    if not isinstance(fields, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items()):
        raise ImportFileError("mapping: custom fields must map a field name to a column")
    return ColumnMapping(phone=value["phone"], name=value.get("name") or None,
                         timezone=value.get("timezone") or None, fields=fields)


def _given_name(upload: Path) -> Path:
    """Where the name the user gave an upload is kept (beside it, removed with it)."""
    return upload.with_name(upload.name + ".name")


def _read_given_name(upload: Path) -> str:
    """The user's name of the upload, or its stored name for an upload that has none."""
    try:
        return _given_name(upload).read_text(encoding="utf-8")
    except OSError:
        return upload.name


def _run(socketio: Any, database_url: str, user_id: int, campaign_id: int, list_id: int, path: Path,
         mapping: ColumnMapping, region: str, file_name: str) -> None:
    """The import, in its own greenlet: progress and the result go to the user's pages."""
    from webapp.campaigns import user_room

    room = user_room(user_id)
    upload = path.name

    def progress(update: ImportProgress) -> None:
        if update.status != "done":   # the final report below says it, with the issues
            socketio.emit("outbound.import", {"upload": upload, "campaign_id": campaign_id, **asdict(update)},
                          to=room)

    try:
        report = import_contacts(database_url, list_id, path, mapping, default_region=region, progress=progress,
                                 file_name=file_name)
    except (OutboundError, RuntimeError) as exc:
        message = exc.message if isinstance(exc, OutboundError) else str(exc)
        log.warning("contact import failed", extra={"campaign": campaign_id, "why": message})
        socketio.emit("outbound.import", {"upload": upload, "campaign_id": campaign_id, "status": "failed",
                                          "error": message}, to=room)
        return
    finally:
        path.unlink(missing_ok=True)
        _given_name(path).unlink(missing_ok=True)
    socketio.emit("outbound.import", {
        "upload": upload, "campaign_id": campaign_id, "status": "done", "job_id": report.job_id,
        "rows_read": report.rows_read, "imported": report.imported, "merged": report.merged,
        "duplicates": report.duplicates, "bad": report.bad,
        "issues": [asdict(i) for i in report.issues[:ISSUES_SHOWN]],
    }, to=room)


def _issues_csv(db: Any, job_id: int) -> Iterator[str]:
    after = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "kind", "reason", "cells"])
    while True:
        with db.transaction() as cur:
            rows = sql.import_issues(cur, job_id, limit=1000, after_row=after)
        for row in rows:
            writer.writerow([row["row_number"], row["kind"], row["reason"],
                             json.dumps(row["raw"], ensure_ascii=False)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < 1000:
            return
        after = rows[-1]["row_number"]


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
