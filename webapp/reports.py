"""The reports area: the report pages, their CSV/XLSX downloads and the Erlang calculator.

Who sees what is decided in :mod:`webapp.reports_scope` and enforced here before any
report runs. Reports are built in worker processes (:mod:`webapp.reports_worker`) so
that a long report never stalls the live pushes of the web process.

Routes (all GET, so a result is a URL that can be bookmarked and shared):

- ``/reports/`` -- the reports the user may open;
- ``/reports/<name>?from=&to=&interval=&by=&page=&<filter>=`` -- the form and, once
  submitted, one page of rows, the charts and the download links;
- ``/reports/<name>/export.csv|xlsx?<same query>`` -- the whole report, streamed;
- ``/reports/erlang`` and ``/reports/erlang/export.csv|xlsx`` -- the calculator.

A mistake in the request (bad range, unknown filter, a queue outside the user's
scope) is shown next to the form with status 400; it is never a server error.
"""

from __future__ import annotations

import inspect
import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, g, render_template, request

from cti.config import ConfigError
from reports.catalog import REPORTS, prepare
from reports.errors import ReportError
from reports.request import FRACTION, INTS, NUMBER, TEXT, TEXTS, WHOLE, ReportSpec
from webapp import reports_calc
from webapp.auth import current_user, login_required, services
from webapp.errors import error_response
from webapp.i18n import add_labels, translate
from webapp.nav import NavItem, add_nav_item
from webapp.reports_form import (
    INTERVALS,
    PAGE_SIZE,
    QUICK_RANGES,
    SUB_DAY_ONLY,
    ReportQuery,
    read_query,
)
from webapp.reports_format import format_cell, is_numeric
from webapp.reports_labels import LABELS, label, method_label
from webapp.reports_scope import REPORT_ROLES, Scope, load_choices, load_scope, restrict
from webapp.reports_worker import ReportCrashed, ReportWorkers, WorkerFailed

log = logging.getLogger(__name__)
bp = Blueprint("reports", __name__, url_prefix="/reports")

add_labels(LABELS)
add_nav_item(NavItem("rep_nav", "reports.index", REPORT_ROLES, order=60))

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
CALCULATOR_ROLES = ("supervisor", "admin")
DEFAULT_WORKERS = 2


def workers_size(extra: dict[str, str]) -> int:
    """``CTI_REPORTS_WORKERS``: report worker processes (default 2, at most 16)."""
    text = extra.get("CTI_REPORTS_WORKERS", "").strip() or str(DEFAULT_WORKERS)
    if not text.isdigit() or not 1 <= int(text) <= 16:
        raise ConfigError(f"CTI_REPORTS_WORKERS: expected a whole number from 1 to 16, got {text!r}")
    return int(text)


@bp.record_once
def _start_workers(state: Any) -> None:
    """One worker pool per site: the one :mod:`cti.services` built if it did, else one
    made here and registered so that ``Services.stop`` ends its processes."""
    built = state.app.extensions["cti"]
    pool = getattr(built, "report_workers", None)
    if pool is None:
        settings = built.settings
        pool = ReportWorkers(built.db.url, size=workers_size(dict(settings.extra)), log_level=settings.log_level)
        built.add("report_workers", pool)
    state.app.extensions["cti_report_workers"] = pool


def _workers() -> ReportWorkers:
    return current_app.extensions["cti_report_workers"]  # type: ignore[no-any-return]


def _scope() -> Scope:
    if "report_scope" not in g:
        user = current_user()
        assert user is not None  # login_required ran first
        g.report_scope = load_scope(services().db, user.id, user.roles)
    return g.report_scope  # type: ignore[no-any-return]


def _site_zone() -> str:
    return str(services().settings.site_timezone)


def _today() -> Any:
    return datetime.now(ZoneInfo(_site_zone())).date()


# -- the form ---------------------------------------------------------------------------


def _widget(parser: Any) -> tuple[str, list[str]]:
    """How a filter is entered: (kind, options); kinds text, list, number, select."""
    if parser is TEXTS or parser is INTS:
        return "list", []
    if parser in (NUMBER, WHOLE, FRACTION):
        return "number", []
    if parser is TEXT:
        return "text", []
    # reports.request.choice(*options) closes over its options.
    options = inspect.getclosurevars(parser).nonlocals.get("options", ())
    return "select", [str(o) for o in options]


def _filter_fields(spec: ReportSpec, query: ReportQuery, choices: dict[str, list[tuple[str, str]]]) -> list[dict[str, Any]]:
    fields = []
    for name, parser in spec.filters.items():
        kind, options = _widget(parser)
        fields.append({"name": name, "label": label("flt", name), "kind": kind, "options": options,
                       "value": query.filters.get(name, ""), "choices": choices.get(name, [])})
    return fields


def _form_context(spec: ReportSpec, query: ReportQuery) -> dict[str, Any]:
    intervals = ("30min", "hour") if spec.name in SUB_DAY_ONLY else INTERVALS
    chosen_by = query.by or ",".join(spec.default_by) or "none"
    by_options = [("none", translate("rep_by_none"))] + [(b, label("flt", b)) for b in spec.by_choices]
    return {"spec": spec, "title": label("title", spec.name), "query": query,
            "intervals": [(i, label("iv", i)) for i in intervals], "by_options": by_options, "chosen_by": chosen_by,
            "quick": [(q, label("q", q)) for q in QUICK_RANGES],
            "fields": _filter_fields(spec, query, load_choices(services().db, _scope())),
            "tz": _site_zone(), "calculator": _scope().can_calculate}


# -- results ----------------------------------------------------------------------------


def _chart(chart: dict[str, Any] | None) -> dict[str, Any] | None:
    if not chart:
        return None
    return {"labels": chart["labels"],
            "bars": [{**b, "label": label("col", b["key"])} for b in chart["bars"]],
            "lines": [{**line, "label": label("col", line["key"])} for line in chart["lines"]]}


def _table(result: dict[str, Any]) -> dict[str, Any]:
    """The page's table. A staffing forecast's ``method`` column (an English sentence,
    the same on every row; exports and the API keep it) is left out: the page states
    the method once, above the table, in its own language."""
    interval = result.get("interval", "day")
    yes, no = translate("rep_yes"), translate("rep_no")
    shown = [i for i, c in enumerate(result["columns"]) if not (c == "method" and result.get("method"))]
    kinds = [result["kinds"][i] for i in shown]
    rows = [[format_cell(kinds[n], row[i], interval=interval, yes=yes, no=no) for n, i in enumerate(shown)]
            for row in result["rows"]]
    return {"columns": [label("col", result["columns"][i]) for i in shown], "numeric": [is_numeric(k) for k in kinds],
            "rows": rows}


def _pager(query: ReportQuery, result: dict[str, Any]) -> dict[str, Any]:
    total = result.get("total")
    first = (query.page - 1) * PAGE_SIZE + 1
    return {"page": query.page, "first": first if result["rows"] else 0, "last": first + len(result["rows"]) - 1,
            "total": total, "has_more": result["has_more"],
            "prev": query.args(page=query.page - 1) if query.page > 1 else None,
            "next": query.args(page=query.page + 1) if result["has_more"] else None}


def _run(query: ReportQuery, scope: Scope) -> tuple[dict[str, Any], ReportQuery]:
    """Validate, limit to the scope, and run one page in a worker."""
    limited = ReportQuery(query.name, query.start, query.end, query.interval, query.by,
                          restrict(scope, query.name, query.filters), query.page)
    kwargs = limited.run_kwargs(_site_zone())
    prepare(**kwargs)  # type: ignore[arg-type]
    return _workers().call("page", page=query.page, page_size=PAGE_SIZE, **kwargs), limited


def _failure(exc: Exception) -> tuple[str, int]:
    """(message for the page, status) of a failed run."""
    if isinstance(exc, ReportError):
        return str(exc), 400
    if isinstance(exc, ReportCrashed):
        log.error("report failed", extra={"path": request.path, "error": str(exc)})
        return translate("rep_failed"), 500
    log.warning("report not run", extra={"path": request.path, "error": str(exc)})
    return str(exc), 503


def _spec_or_404(name: str) -> ReportSpec:
    spec = REPORTS.get(name)
    if spec is None:
        abort(404, description=f"There is no report {name!r}.")
    return spec


# -- views ------------------------------------------------------------------------------


@bp.route("/")
@login_required(*REPORT_ROLES)
def index():
    scope = _scope()
    reports = [(name, label("title", name)) for name in scope.visible(list(REPORTS))]
    return render_template("reports_index.html", reports=reports, calculator=scope.can_calculate, tz=_site_zone())


@bp.route("/<name>")
@login_required(*REPORT_ROLES)
def report(name: str):
    spec = _spec_or_404(name)
    scope = _scope()
    if not scope.can_see(name):
        return error_response(403, "forbidden", "Your role does not allow this report.")
    error, status, result = None, 200, None
    try:
        query = read_query(name, request.args.to_dict(flat=False), _today())
    except ReportError as exc:
        query, (error, status) = read_query(name, {}, _today()), (str(exc), 400)
    if request.args and error is None:
        try:
            result, query = _run(query, scope)
        except (ReportError, WorkerFailed) as exc:
            error, status = _failure(exc)
    context = _form_context(spec, query)
    if result is not None:
        context.update(table=_table(result), pager=_pager(query, result), chart=_chart(result.get("chart")),
                       heat_map=result.get("heat_map"), ivr=result.get("ivr"),
                       method=method_label(result["method"]) if result.get("method") else None,
                       interval=result.get("interval"), export_args=query.args())
    return render_template("reports_report.html", error=error, result=result, **context), status


@bp.route("/<name>/export.<fmt>")
@login_required(*REPORT_ROLES)
def export(name: str, fmt: str):
    spec = _spec_or_404(name)
    scope = _scope()
    if not scope.can_see(name):
        return error_response(403, "forbidden", "Your role does not allow this report.")
    if fmt not in MIMETYPES:
        abort(404, description="Downloads are CSV or XLSX.")
    try:
        query = read_query(name, request.args.to_dict(flat=False), _today())
        limited = restrict(scope, name, query.filters)
        kwargs = ReportQuery(name, query.start, query.end, query.interval, query.by, limited).run_kwargs(_site_zone())
        prepare(**kwargs)  # type: ignore[arg-type]
        stream = _workers().stream("export", fmt=fmt, **kwargs)
    except (ReportError, WorkerFailed) as exc:
        error, status = _failure(exc)
        return render_template("reports_report.html", error=error, result=None,
                               **_form_context(spec, read_query(name, {}, _today()))), status
    filename = f"{name}_{query.start[:10]}_{query.end[:10]}.{fmt}"
    return Response(stream, content_type=MIMETYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


def _calculator_args() -> dict[str, str]:
    fields = ("start", "minutes", "calls", "aht", "target", "threshold", "patience")
    return {k: request.args.get(k, "").strip() for k in fields if request.args.get(k, "").strip()}


@bp.route("/erlang")
@login_required(*CALCULATOR_ROLES)
def erlang():
    args = _calculator_args()
    error, status, result = None, 200, None
    if "calls" in request.args:
        try:
            reports_calc.read_input(args)
            result = _workers().call("calculator", args=args)
        except (ReportError, WorkerFailed) as exc:
            error, status = _failure(exc)
    context: dict[str, Any] = {"values": {**reports_calc.DEFAULTS, **args}, "error": error, "result": result,
                               "minutes": reports_calc.INTERVAL_MINUTES, "export_args": args}
    if result is not None:
        context.update(table=_table(result), chart=_chart(result["chart"]))
    return render_template("reports_erlang.html", **context), status


@bp.route("/erlang/export.<fmt>")
@login_required(*CALCULATOR_ROLES)
def erlang_export(fmt: str):
    if fmt not in MIMETYPES:
        abort(404, description="Downloads are CSV or XLSX.")
    args = _calculator_args()
    try:
        reports_calc.read_input(args)
        stream = _workers().stream("calculator_export", fmt=fmt, args=args)
    except (ReportError, WorkerFailed) as exc:
        error, status = _failure(exc)
        context = {"values": {**reports_calc.DEFAULTS, **args}, "error": error, "result": None,
                   "minutes": reports_calc.INTERVAL_MINUTES, "export_args": args}
        return render_template("reports_erlang.html", **context), status
    return Response(stream, content_type=MIMETYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="erlang_calculator.{fmt}"',
                             "Cache-Control": "no-store"})
