"""The audit log for admins: filters (time range, who, action, target, result), newest
first with "older" paging, and the CSV export of the same filter (the report writers'
format, streamed). Read-only; :mod:`cti.audit` holds the queries.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request, stream_with_context, url_for

from cti.audit import AuditError, AuditFilter, iter_csv, search
from webapp import supervisor_labels  # noqa: F401 - registers the labels
from webapp.auth import login_required, services
from webapp.errors import error_response, wants_json
from webapp.nav import NavItem, add_nav_item

bp = Blueprint("admin_audit", __name__, url_prefix="/admin/audit")
add_nav_item(NavItem("audit_nav", "admin_audit.index", ("admin",), order=95))

FILTER_FIELDS = ("from", "to", "actor", "action", "target_type", "target_id", "result")


def _filter() -> AuditFilter:
    return AuditFilter.from_args(request.args, services().settings.site_timezone)


@bp.route("/")
@login_required("admin")
def index():
    tz = services().settings.site_timezone
    try:
        flt = _filter()
    except AuditError as exc:
        if wants_json():
            return error_response(400, "bad-filter", str(exc))
        return render_template("admin_audit.html", rows=[], error=str(exc), args=request.args, older=None,
                               export=None), 400
    rows = search(services().db, flt)
    if wants_json():
        return {"rows": [_json_row(r) for r in rows]}
    older = None
    if len(rows) == flt.limit:
        older = url_for("admin_audit.index", **{**_kept_args(), "before": rows[-1]["id"]})
    return render_template("admin_audit.html", rows=[_display_row(r, tz) for r in rows], error=None,
                           args=request.args, older=older, export=url_for("admin_audit.export", **_kept_args()))


@bp.route("/export.csv")
@login_required("admin")
def export():
    try:
        flt = _filter()
    except AuditError as exc:
        return error_response(400, "bad-filter", str(exc))
    tz = services().settings.site_timezone
    stamp = datetime.now(ZoneInfo(tz)).strftime("%Y%m%d-%H%M")
    body = stream_with_context(iter_csv(services().db, flt, tz))
    return Response(body, content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'})


def _kept_args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k in FILTER_FIELDS and v}


def _json_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "at": row["at"].isoformat()}


def _display_row(row: dict[str, Any], tz: str) -> dict[str, Any]:
    result = str(row["result"])
    return {
        **row,
        "at_text": row["at"].astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S"),
        "details_text": json.dumps(row["details"], ensure_ascii=False, sort_keys=True) if row["details"] else "",
        "result_kind": "ok" if result == "ok" else result.split(":", 1)[0].split(" ", 1)[0],
    }
