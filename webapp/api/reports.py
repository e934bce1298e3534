"""Reports as JSON: one endpoint per report of :data:`reports.catalog.REPORTS`, with
that report's own filters as query parameters (so the OpenAPI document lists exactly
what each report accepts), plus the catalogue.

``from`` / ``to`` are dates or date-times (naive ones on the site's clock); the window
is bounded so one request cannot ask for millions of buckets. Rows are paginated with
``limit`` / ``offset`` (offset a multiple of limit: follow ``next``). The pandas work
runs in a report worker process (:mod:`webapp.reports_worker`), never on the gevent
hub; list reports (``call_detail``) are read in chunks until the page is full.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app

from reports.catalog import CHUNKED, REPORTS
from reports.intervals import Interval
from reports.request import ReportSpec
from webapp.api.errors import ApiError
from webapp.api.operations import ApiRequest, Reply, api_operation, query_param
from webapp.api.schemas import MAX_INT, ref
from webapp.reports_worker import ReportWorkers, WorkerFailed

MAX_ROWS = 10_000
#: The longest window per interval (the shortest intervals would make the most rows).
MAX_SPAN = {Interval.HALF_HOUR: timedelta(days=93), Interval.HOUR: timedelta(days=400)}
MAX_SPAN_OTHER = timedelta(days=3660)
_WHEN = {"type": "string", "minLength": 10, "maxLength": 40,
         "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?$"}


def _when(text: str, field: str) -> date | datetime:
    try:
        value: date | datetime = date.fromisoformat(text) if len(text) == 10 else \
            datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(422, "validation-failed", f"{field}: expected a date (2026-01-31) or a date-time, got {text!r}",
                       field=field) from None
    if not 1971 <= value.year <= 2200:
        raise ApiError(422, "validation-failed", f"{field}: the year must be between 1971 and 2200", field=field)
    return value


def _day(value: date | datetime) -> datetime:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else datetime(value.year, value.month, value.day)


def _check_span(start: date | datetime, end: date | datetime, interval: Interval) -> None:
    span = _day(end) - _day(start)
    limit = MAX_SPAN.get(interval, MAX_SPAN_OTHER)
    if span > limit:
        raise ApiError(422, "validation-failed", f"to: a {interval.value} report covers at most {limit.days} days; "
                       "ask for a shorter range or a longer interval", field="to")


def workers(services: Any) -> ReportWorkers:
    """The site's report worker processes (``services.report_workers`` when the web
    app registered them; otherwise a pool of this API's own, started on first use)."""
    shared = getattr(services, "report_workers", None)
    if shared is not None:
        return shared
    own = current_app.extensions.get("cti_api_report_workers")
    if own is None:
        own = current_app.extensions["cti_api_report_workers"] = ReportWorkers(services.db.url, size=1)
    return own


def _page(req: ApiRequest, spec: ReportSpec, run: dict[str, Any]) -> dict[str, Any]:
    """One page of rows, computed in a report worker process (pandas off the hub)."""
    limit, offset = int(req.query.get("limit", 1000)), int(req.query.get("offset", 0))
    if offset % limit:
        raise ApiError(422, "validation-failed", "offset: must be a multiple of limit (follow the next link)",
                       field="offset")
    try:
        result = workers(req.services).call("page", name=spec.name, page=offset // limit + 1, page_size=limit, **run)
    except WorkerFailed as exc:
        raise ApiError(503, "unavailable", f"the report could not be computed now: {exc}") from None
    columns = [str(c) for c in result["columns"]]
    rows = [dict(zip(columns, row, strict=True)) for row in result["rows"]]
    return {"columns": columns, "rows": rows, "interval": result.get("interval"),
            "next": req.next_link(offset=offset + limit, limit=limit) if result.get("has_more") else None}


def _declare(spec: ReportSpec) -> None:
    by_choices = [*spec.by_choices, "none"]
    params = [
        query_param("from", _WHEN, "start of the window (inclusive)", required=True),
        query_param("to", _WHEN, "end of the window (exclusive)", required=True),
        query_param("by", {"type": "array", "items": {"enum": by_choices}, "maxItems": len(by_choices)},
                    f"grouping, comma separated (default: {','.join(spec.default_by) or 'none'})"),
        query_param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_ROWS}, "rows per page (default 1000)"),
        query_param("offset", {"type": "integer", "minimum": 0, "maximum": MAX_INT}, "rows to skip"),
    ]
    if spec.uses_interval:
        params.append(query_param("interval", {"enum": [i.value for i in Interval]}, "bucket size (default day)"))
    params += [query_param(key, {"type": "string", "minLength": 1, "maxLength": 200}) for key in sorted(spec.filters)]

    def run(req: ApiRequest) -> Reply:
        start, end = _when(req.query["from"], "from"), _when(req.query["to"], "to")
        interval = Interval(req.query.get("interval", "day"))
        _check_span(start, end, interval)
        filters = {k: v for k, v in req.query.items() if k in spec.filters}
        by = (",".join(req.query["by"]) or "none") if "by" in req.query else None
        run_args = {"start": start, "end": end, "interval": interval.value, "by": by, "filters": filters,
                    "tz": req.services.settings.site_timezone}
        result = _page(req, spec, run_args)
        return {
            "report": spec.name, "title": spec.title, "from": start.isoformat(), "to": end.isoformat(),
            "interval": result["interval"] or interval.value,
            "by": [b for b in (by or ",".join(spec.default_by)).split(",") if b and b != "none"],
            "columns": result["columns"], "rows": result["rows"], "next": result["next"],
        }

    run.__name__ = f"report_{spec.name}"
    run.__doc__ = (f"{spec.title}. " + ("Read in chunks: use limit/offset to page through it."
                                        if spec.name in CHUNKED else "")).strip()
    api_operation("GET", f"/reports/{spec.name}", summary=spec.title, tag="reports", scope="read", params=params,
                  responses={200: ("The report's rows", {"allOf": [ref("Report"), {
                      "type": "object", "properties": {"next": {"type": ["string", "null"]}}}]})})(run)


for _spec in REPORTS.values():
    _declare(_spec)


@api_operation("GET", "/reports", summary="The report catalogue", tag="reports", scope="read",
               responses={200: ("Every report with its groupings and filters",
                                {"type": "array", "items": ref("ReportInfo")})})
def list_reports(req: ApiRequest) -> Reply:
    return [
        {"name": s.name, "title": s.title, "group_by": list(s.by_choices), "filters": sorted(s.filters),
         "uses_interval": s.uses_interval, "url": f"/api/v1/reports/{s.name}"}
        for s in REPORTS.values()
    ]
