"""Queue reports: inbound_summary (the queue KPIs per interval), abandoned_calls and
repeat_calls.

inbound_summary reads, for each part of the window, the cheapest complete source:
pre-aggregated 15-minute slots where :mod:`reports.rollup` has them (with the
thresholds asked for), the raw queue visits elsewhere -- in chunks, each reduced to
slot measures at once. The measures are additive, so the parts add up exactly.
Filter ``source`` forces one path: ``raw`` always works; ``rollup`` fails with a
message when the table cannot answer.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from reports import queries
from reports.errors import ReportError
from reports.intervals import SLOT_SECONDS, split_by_coverage
from reports.kpi import (
    MEASURES,
    QUEUE_KPIS,
    combine_measures,
    queue_kpis,
    queue_measures,
    repeat_flags,
    visit_facts,
)
from reports.request import ReportRequest
from reports.shaping import complete_grid, display, interval_column, local_times

log = logging.getLogger(__name__)

BY_COLUMNS = {"queue": "queue_name", "did": "did"}

THRESHOLDS_SQL = """
SELECT DISTINCT queue_name, sl_threshold_s, short_abandon_s FROM report_queue_slots
 WHERE slot >= to_timestamp(%(start)s) AND slot < to_timestamp(%(end)s)"""


def _stamp(epoch: float) -> pd.Timestamp:
    return pd.Timestamp(epoch, unit="s", tz="UTC")


def _thresholds_match(conn: Any, pieces: list[tuple[float, float]], req: ReportRequest) -> bool:
    rules = req.rules
    with conn.cursor() as cur:
        for start, end in pieces:
            used = queries.cursor_frame(cur, THRESHOLDS_SQL, {"start": start, "end": end},
                                        ("queue_name", "sl", "short"))
            for queue, sl, short in used.itertuples(index=False, name=None):
                if not (math.isclose(sl, rules.threshold_for(queue)) and math.isclose(short, rules.short_abandon_s)):
                    return False
    return True


def _plan(conn: Any, req: ReportRequest, keys: Sequence[str]) -> tuple[list[tuple[float, float]],
                                                                      list[tuple[float, float]]]:
    """(pieces read from the slots table, pieces read from raw visits)."""
    start, end = req.window.start_epoch, req.window.end_epoch
    source = req.get("source", "auto")
    able = req.get("did") is None and set(keys) <= {"queue_name"}
    if source == "raw" or not able:
        if source == "rollup":
            raise ReportError("the pre-aggregated table only groups and filters by queue; drop --by did / the did "
                              "filter, or use source=raw")
        return [], [(start, end)]
    inside, outside = split_by_coverage(start, end, queries.rollup_ranges(conn))
    if inside and not _thresholds_match(conn, inside, req):
        if source == "rollup":
            raise ReportError("the pre-aggregated table was built with other thresholds; rebuild it or use source=raw")
        log.info("report roll-up thresholds differ, reading raw visits", extra={"report": req.name})
        return [], [(start, end)]
    if source == "rollup" and outside:
        raise ReportError("part of the range is not pre-aggregated; rebuild the roll-up for it or use source=raw")
    return inside, outside


def slot_measures(conn: Any, req: ReportRequest, keys: Sequence[str]) -> pd.DataFrame:
    """Queue measures per 15-minute slot and ``keys`` over the request's window."""
    inside, outside = _plan(conn, req, keys)
    group = ["slot", *keys]
    queues = req.get("queue")
    total = combine_measures([], group)
    for start, end in inside:
        params = queries.visit_params(_stamp(start), _stamp(end), queues)
        for chunk in queries.iter_slots(conn, params):
            total = combine_measures([total, queue_measures(chunk, group)], group)
    for start, end in outside:
        params = queries.visit_params(_stamp(start), _stamp(end), queues, req.get("did"))
        for chunk in queries.iter_visits(conn, params):
            facts = visit_facts(chunk, req.rules)
            facts["slot"] = np.floor(facts["entered"].to_numpy(dtype="float64") / SLOT_SECONDS) * SLOT_SECONDS
            total = combine_measures([total, queue_measures(facts, group)], group)
    return total


def _extra_queues(conn: Any, req: ReportRequest, keys: Sequence[str]) -> list[tuple[object, ...]]:
    if list(keys) != ["queue_name"]:
        return []
    with conn.cursor() as cur:
        names = queries.configured_queues(cur)
    wanted = req.get("queue")
    return [(n,) for n in names if not wanted or n in wanted]


def inbound_summary(conn: Any, req: ReportRequest) -> pd.DataFrame:
    """Queue KPIs per interval (and queue / DID): offered, answered, abandoned, service
    level, ASA, AHT, talk, hold, wrap-up, longest wait, transfer rate (see reports.kpi)."""
    keys = [BY_COLUMNS[b] for b in req.by]
    slots = slot_measures(conn, req, keys)
    slots["interval_start"] = interval_column(slots["slot"], req)
    per_interval = queue_measures(slots, ["interval_start", *keys])
    grid = complete_grid(per_interval, req, keys, MEASURES, _extra_queues(conn, req, keys))
    return display(queue_kpis(grid)[["interval_start", *keys, *MEASURES, *QUEUE_KPIS]])


ABANDONED_SQL = """
SELECT qv.interaction_id::text, qv.queue_name, coalesce(i.caller_number, ''), coalesce(i.did, ''),
       date_part('epoch', qv.entered_at), date_part('epoch', qv.left_at),
       (SELECT date_part('epoch', min(n.started_at)) FROM interactions n
         WHERE n.caller_number = i.caller_number AND n.direction = 'inbound'
           AND n.started_at > qv.left_at AND n.started_at <= qv.left_at + interval '24 hours'),
       (SELECT date_part('epoch', min(o.started_at)) FROM interactions o
         WHERE o.callee_number = i.caller_number AND o.direction = 'outbound'
           AND o.started_at > qv.left_at AND o.started_at <= qv.left_at + interval '24 hours')
  FROM queue_visits qv
  LEFT JOIN interactions i ON i.id = qv.interaction_id
 WHERE qv.outcome = 'abandoned' AND qv.answered_at IS NULL
   AND qv.entered_at >= %(start)s AND qv.entered_at < %(end)s
   AND (%(queues)s::text[] IS NULL OR qv.queue_name = ANY(%(queues)s::text[]))
   AND (%(did)s::text IS NULL OR i.did = %(did)s::text)
 ORDER BY qv.entered_at"""

ABANDONED_COLUMNS = ("interaction_id", "queue", "caller_number", "did", "entered", "left", "called_again",
                     "called_back")


def abandoned_calls(conn: Any, req: ReportRequest) -> pd.DataFrame:
    """Every abandoned queue visit, with its wait, whether it was a short abandon, and
    whether the caller called again / an agent called back within 24 hours."""
    params = queries.visit_params(req.window.start, req.window.end, req.get("queue"), req.get("did"))
    rows = queries.read_frame(conn, ABANDONED_SQL, params, ABANDONED_COLUMNS)
    entered = pd.to_numeric(rows["entered"], errors="coerce")
    wait = pd.to_numeric(rows["left"], errors="coerce") - entered
    out = pd.DataFrame({
        "interval_start": interval_column(entered, req),
        "interaction_id": rows["interaction_id"].astype(str),
        "queue": rows["queue"].astype(str),
        "caller_number": rows["caller_number"].astype(str),
        "did": rows["did"].astype(str),
        "entered_at": local_times(entered, req.window.tz),
        "abandoned_at": local_times(rows["left"], req.window.tz),
        "wait_s": wait.astype("float64"),
        "short_abandon": (wait < req.rules.short_abandon_s).astype(bool),
        "called_again_24h": rows["called_again"].notna().astype(bool),
        "called_back_24h": rows["called_back"].notna().astype(bool),
    })
    return out.reset_index(drop=True)


REPEAT_SQL = """
SELECT r.queue_name, r.did, date_part('epoch', r.started_at), date_part('epoch', r.next_at - r.started_at)
  FROM (SELECT queue_name, did, started_at,
               lead(started_at) OVER (PARTITION BY caller_number ORDER BY started_at) AS next_at
          FROM interactions
         WHERE direction = 'inbound' AND caller_number <> ''
           AND started_at >= %(start)s AND started_at < %(end)s::timestamptz + interval '7 days') r
 WHERE r.started_at < %(end)s
   AND (%(queues)s::text[] IS NULL OR r.queue_name = ANY(%(queues)s::text[]))
   AND (%(did)s::text IS NULL OR r.did = %(did)s::text)"""


def repeat_calls(conn: Any, req: ReportRequest) -> pd.DataFrame:
    """Repeat-call rates per interval: inbound calls followed by another call from the
    same number within 24 h and 7 days (a first-contact-resolution proxy)."""
    keys = [BY_COLUMNS[b] for b in req.by]
    params = queries.visit_params(req.window.start, req.window.end, req.get("queue"), req.get("did"))
    parts = []
    for chunk in queries.iter_frames(conn, REPEAT_SQL, params, ("queue_name", "did", "started", "gap_s")):
        flags = repeat_flags(pd.to_numeric(chunk["gap_s"], errors="coerce"))
        flags["calls"] = 1
        flags["interval_start"] = interval_column(pd.to_numeric(chunk["started"]), req)
        for key in keys:
            flags[key] = chunk[key].astype(str)
        parts.append(flags.groupby(["interval_start", *keys], sort=False).sum().reset_index())
    values = ["calls", "repeat_24h", "repeat_7d"]
    summed = (pd.concat(parts).groupby(["interval_start", *keys], sort=False)[values].sum().reset_index()
              if parts else pd.DataFrame(columns=["interval_start", *keys, *values]))
    grid = complete_grid(summed, req, keys, values, _extra_queues(conn, req, keys))
    grid["repeat_rate_24h"] = grid["repeat_24h"] / grid["calls"].where(grid["calls"] > 0)
    grid["repeat_rate_7d"] = grid["repeat_7d"] / grid["calls"].where(grid["calls"] > 0)
    return display(grid)
