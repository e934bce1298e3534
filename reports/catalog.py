"""The named reports and :func:`run_report`, the one way to run them.

Each report is a function ``(connection, ReportRequest) -> pandas.DataFrame``; its
:class:`~reports.request.ReportSpec` below says what it may be grouped by and which
filters it takes. Interval reports have an ``interval_start`` column (aware, in the
site's zone) and a row for every interval of the window, zeros included. The frame's
``attrs`` carry the report name, title, window, interval, zone and grouping, which the
exports write into their header.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from reports import agent_reports, call_reports, queries, queue_reports
from reports.campaign_report import campaign_results
from reports.errors import ReportError
from reports.intervals import Interval
from reports.ivr_report import ivr_tree
from reports.request import (
    FRACTION,
    INTS,
    NUMBER,
    TEXT,
    TEXTS,
    THRESHOLD_FILTERS,
    WHOLE,
    ReportRequest,
    ReportSpec,
    build_request,
    choice,
)
from reports.staffing import staffing

_QUEUE_SOURCE = {"source": choice("auto", "raw", "rollup")}
_CALL_FILTERS = {"queue": TEXTS, "agent_id": INTS, "campaign_id": INTS, "direction": choice("inbound", "outbound",
                 "internal"), "did": TEXT, "caller_number": TEXT, "outcome": TEXT}

REPORTS: Mapping[str, ReportSpec] = {spec.name: spec for spec in (
    ReportSpec("inbound_summary", "Queue summary", queue_reports.inbound_summary, ("queue", "did"), ("queue",),
               {"queue": TEXTS, "did": TEXT, **THRESHOLD_FILTERS, **_QUEUE_SOURCE}),
    ReportSpec("abandoned_calls", "Abandoned calls", queue_reports.abandoned_calls, (), (),
               {"queue": TEXTS, "did": TEXT, **THRESHOLD_FILTERS}),
    ReportSpec("repeat_calls", "Repeat calls", queue_reports.repeat_calls, ("queue", "did"), ("queue",),
               {"queue": TEXTS, "did": TEXT}),
    ReportSpec("outbound_summary", "Outbound summary", call_reports.outbound_summary, ("campaign_id", "agent_id"),
               ("campaign_id",), {"campaign_id": INTS, "agent_id": INTS}),
    ReportSpec("agent_performance", "Agent performance", agent_reports.agent_performance, (), (),
               {"agent_id": INTS, "queue": TEXTS}),
    ReportSpec("agent_state_detail", "Agent states", agent_reports.agent_state_detail, (), (), {"agent_id": INTS}),
    ReportSpec("call_detail", "Call detail records", call_reports.call_detail, (), (), _CALL_FILTERS),
    ReportSpec("voicemail_handling", "Voicemail handling", call_reports.voicemail_handling, ("box",), (),
               {"box": TEXTS}),
    ReportSpec("ivr_tree", "IVR tree", ivr_tree, (), (), {"flow": TEXTS, "source": choice("auto", "stats", "events")},
               uses_interval=False),
    ReportSpec("campaign_results", "Campaign results", campaign_results, (), (),
               {"campaign_id": INTS, "agent_id": INTS, "source": choice("auto", "attempts", "interactions")}),
    ReportSpec("staffing", "Staffing (Erlang C / Erlang A)", staffing, ("queue",), (),
               {"queue": TEXTS, "target_sl": FRACTION, "weeks": WHOLE, "aht": NUMBER, "patience": NUMBER,
                **THRESHOLD_FILTERS, **_QUEUE_SOURCE}),
)}

#: Reports produced chunk by chunk (lists that can be millions of rows long).
CHUNKED = {"call_detail": call_reports.iter_call_detail}


def spec_for(name: str) -> ReportSpec:
    """The report called ``name``, or a :class:`ReportError` listing the names."""
    try:
        return REPORTS[name]
    except KeyError:
        raise ReportError(f"unknown report {name!r}: choose one of {', '.join(REPORTS)}") from None


def prepare(name: str, *, start: datetime | date | str, end: datetime | date | str,
            interval: str | Interval = Interval.DAY, by: str | Sequence[str] | None = None,
            filters: Mapping[str, Any] | None = None, tz: str = "UTC") -> tuple[ReportSpec, ReportRequest]:
    """Validate a request without touching the database (the web form uses it too)."""
    spec = spec_for(name)
    return spec, build_request(spec, start=start, end=end, interval=interval, by=by, filters=filters, tz=tz)


def _with_site_rules(conn: Any, req: ReportRequest) -> ReportRequest:
    with conn.cursor() as cur:
        return req.with_rules(queries.load_rules(cur))


def _describe(frame: pd.DataFrame, spec: ReportSpec, req: ReportRequest) -> pd.DataFrame:
    frame.attrs.update({"report": spec.name, "title": spec.title, "from": req.window.start.isoformat(),
                        "to": req.window.end.isoformat(), "tz": req.window.tz,
                        "interval": req.interval.value if spec.uses_interval else "range",
                        "by": ",".join(req.by), "filters": {k: v for k, v in req.filters.items()}})
    return frame


def run_report(db: queries.DbLike, name: str, *, start: datetime | date | str, end: datetime | date | str,
               interval: str | Interval = Interval.DAY, by: str | Sequence[str] | None = None,
               filters: Mapping[str, Any] | None = None, tz: str = "UTC") -> pd.DataFrame:
    """Run the report ``name`` over ``[start, end)`` and return its DataFrame.

    Args:
        db: a :class:`cti.db.Database`, a database URL or an open psycopg2 connection.
        start, end: dates or times; naive ones are read on the site's clock ``tz``.
        interval: ``30min``, ``hour``, ``day``, ``week``, ``month``, ``quarter``,
            ``year`` or ``range`` (the whole window as one row).
        by: grouping (e.g. ``queue``), or ``none`` for totals; default per report.
        filters: report filters (see :data:`REPORTS`), e.g. ``{"queue": "sales"}``.
        tz: the site's IANA time zone.
    Raises:
        ReportError: anything in the request the user must change.
    """
    spec, req = prepare(name, start=start, end=end, interval=interval, by=by, filters=filters, tz=tz)
    with queries.reading(db) as conn:
        frame = spec.run(conn, _with_site_rules(conn, req))
    return _describe(frame, spec, req)


def iter_report(db: queries.DbLike, name: str, *, start: datetime | date | str, end: datetime | date | str,
                interval: str | Interval = Interval.DAY, by: str | Sequence[str] | None = None,
                filters: Mapping[str, Any] | None = None, tz: str = "UTC") -> Iterator[pd.DataFrame]:
    """Like :func:`run_report`, but list reports come in chunks (bounded memory);
    other reports come as one frame."""
    spec, req = prepare(name, start=start, end=end, interval=interval, by=by, filters=filters, tz=tz)
    with queries.reading(db) as conn:
        req = _with_site_rules(conn, req)
        if name in CHUNKED:
            for chunk in CHUNKED[name](conn, req):
                yield _describe(chunk, spec, req)
        else:
            yield _describe(spec.run(conn, req), spec, req)
