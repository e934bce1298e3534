"""Call-level reports: call_detail (the CDR, with filters), voicemail_handling and
outbound_summary (every outbound call, campaign or manual; campaign_results is in
:mod:`reports.campaign_report`).

call_detail is a list: it is produced chunk by chunk (:func:`iter_call_detail`) so an
export of millions of calls streams instead of holding them all. The other reports
aggregate per interval; an interval counts a call where it started (outbound) or where
the voicemail was left.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd

from reports import queries
from reports.kpi import outbound_kpis, ratio
from reports.request import ReportRequest
from reports.shaping import complete_grid, interval_column, local_times

CDR_SQL = """
SELECT i.id::text, i.direction, date_part('epoch', i.started_at), i.caller_number, i.caller_name, i.callee_number,
       i.did, i.queue_name, i.agent_id, coalesce(a.code, ''),
       date_part('epoch', i.answered_at - coalesce(i.queue_entered_at, i.started_at)),
       i.talk_seconds, i.hold_seconds, i.wrapup_seconds,
       date_part('epoch', coalesce(i.ended_at, i.started_at) - i.started_at),
       i.outcome, i.disposition, i.hangup_cause, i.hangup_by, i.transfers, i.campaign_id, i.flow_name, i.digits
  FROM interactions i LEFT JOIN agents a ON a.id = i.agent_id
 WHERE i.started_at >= %(start)s AND i.started_at < %(end)s
   AND (%(queues)s::text[] IS NULL OR i.queue_name = ANY(%(queues)s::text[]))
   AND (%(agents)s::bigint[] IS NULL OR i.agent_id = ANY(%(agents)s::bigint[]))
   AND (%(campaigns)s::bigint[] IS NULL OR i.campaign_id = ANY(%(campaigns)s::bigint[]))
   AND (%(direction)s::text IS NULL OR i.direction = %(direction)s::text)
   AND (%(did)s::text IS NULL OR i.did = %(did)s::text)
   AND (%(caller)s::text IS NULL OR i.caller_number = %(caller)s::text OR i.callee_number = %(caller)s::text)
   AND (%(outcome)s::text IS NULL OR i.outcome = %(outcome)s::text)
 ORDER BY i.started_at, i.id"""

CDR_COLUMNS = ("interaction_id", "direction", "started", "caller_number", "caller_name", "callee_number", "did",
               "queue", "agent_id", "agent_code", "wait_s", "talk_s", "hold_s", "wrapup_s", "duration_s", "outcome",
               "disposition", "hangup_cause", "hangup_by", "transfers", "campaign_id", "flow_name", "digits")


def request_params(req: ReportRequest) -> dict[str, Any]:
    return {"start": req.window.start, "end": req.window.end, "queues": req.get("queue"),
            "agents": req.get("agent_id"), "campaigns": req.get("campaign_id"), "direction": req.get("direction"),
            "did": req.get("did"), "caller": req.get("caller_number"), "outcome": req.get("outcome"),
            "boxes": req.get("box")}


def _shape_cdr(chunk: pd.DataFrame, req: ReportRequest) -> pd.DataFrame:
    started = pd.to_numeric(chunk["started"])
    out = chunk.drop(columns=["started"])
    out.insert(0, "interval_start", interval_column(started, req))
    out.insert(3, "started_at", local_times(started, req.window.tz))
    for column in ("wait_s", "talk_s", "hold_s", "wrapup_s", "duration_s"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("float64")
    for column in ("agent_id", "campaign_id"):
        out[column] = pd.to_numeric(out[column], errors="coerce").astype("Int64")
    return out


def iter_call_detail(conn: Any, req: ReportRequest) -> Iterator[pd.DataFrame]:
    """The CDR in chunks of :data:`reports.queries.CHUNK_ROWS` calls, in start order."""
    for chunk in queries.iter_frames(conn, CDR_SQL, request_params(req), CDR_COLUMNS):
        yield _shape_cdr(chunk, req)


def call_detail(conn: Any, req: ReportRequest) -> pd.DataFrame:
    """One row per interaction (filters: queue, agent, campaign, direction, DID, number,
    outcome): times in the site's zone, wait, talk, hold, wrap-up, outcome, hang-up."""
    chunks = list(iter_call_detail(conn, req))
    if chunks:
        return pd.concat(chunks, ignore_index=True)
    empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in CDR_COLUMNS}).astype({"started": "float64"})
    return _shape_cdr(empty, req)


VOICEMAIL_SQL = """
SELECT box, date_part('epoch', created_at), date_part('epoch', handled_at - created_at), status,
       coalesce(duration_ms, 0) / 1000.0
  FROM voicemails
 WHERE created_at >= %(start)s AND created_at < %(end)s
   AND (%(boxes)s::text[] IS NULL OR box = ANY(%(boxes)s::text[]))"""


def voicemail_handling(conn: Any, req: ReportRequest) -> pd.DataFrame:
    """Voicemails left per interval (and box): received, handled, still new or
    assigned, time to handle (average, longest), share handled within 24 hours."""
    keys = ["box"] if req.by else []
    rows = queries.read_frame(conn, VOICEMAIL_SQL, request_params(req), ("box", "created", "handle_s", "status", "length_s"))
    to_handle = pd.to_numeric(rows["handle_s"], errors="coerce")
    facts = pd.DataFrame({"interval_start": interval_column(pd.to_numeric(rows["created"]), req),
                          "box": rows["box"].astype(str),
                          "received": 1,
                          "handled": (rows["status"] == "handled").astype("int64"),
                          "assigned": (rows["status"] == "assigned").astype("int64"),
                          "new": (rows["status"] == "new").astype("int64"),
                          "handled_within_24h": (to_handle <= 86_400).astype("int64"),
                          "handle_s": to_handle.fillna(0.0).astype("float64"),
                          "longest_handle_s": to_handle.fillna(0.0).astype("float64"),
                          "length_s": pd.to_numeric(rows["length_s"]).astype("float64")})
    sums = ["received", "handled", "assigned", "new", "handled_within_24h", "handle_s", "length_s"]
    grouped = facts.groupby(["interval_start", *keys]).agg({**{c: "sum" for c in sums}, "longest_handle_s": "max"})
    grid = complete_grid(grouped.reset_index(), req, keys, [*sums, "longest_handle_s"])
    grid["avg_handle_s"] = ratio(grid["handle_s"], grid["handled"])
    grid["handled_within_24h_rate"] = ratio(grid["handled_within_24h"], grid["received"])
    grid["avg_length_s"] = ratio(grid["length_s"], grid["received"])
    return grid.drop(columns=["handle_s", "length_s"])


OUTBOUND_SQL = """
SELECT i.campaign_id, i.agent_id, date_part('epoch', i.started_at), i.answered_at IS NOT NULL, i.outcome,
       i.talk_seconds, i.hold_seconds, i.wrapup_seconds, i.contact_id, i.disposition
  FROM interactions i
 WHERE i.direction = 'outbound' AND i.started_at >= %(start)s AND i.started_at < %(end)s
   AND (%(campaigns)s::bigint[] IS NULL OR i.campaign_id = ANY(%(campaigns)s::bigint[]))
   AND (%(agents)s::bigint[] IS NULL OR i.agent_id = ANY(%(agents)s::bigint[]))"""

OUTBOUND_COLUMNS = ("campaign_id", "agent_id", "started", "answered", "outcome", "talk_s", "hold_s", "wrapup_s",
                    "contact_id", "disposition")
OUTBOUND_SUMS = ("attempts", "answered", "abandoned", "talk_s", "hold_s", "wrapup_s")


def outbound_facts(chunk: pd.DataFrame, req: ReportRequest) -> pd.DataFrame:
    facts = pd.DataFrame({
        "interval_start": interval_column(pd.to_numeric(chunk["started"]), req),
        "campaign_id": pd.to_numeric(chunk["campaign_id"], errors="coerce").fillna(0).astype("int64"),
        "agent_id": pd.to_numeric(chunk["agent_id"], errors="coerce").fillna(0).astype("int64"),
        "attempts": 1,
        "answered": chunk["answered"].astype(bool).astype("int64"),
        "abandoned": (chunk["outcome"] == "abandoned").astype("int64"),
        "outcome": chunk["outcome"].astype(str),
        "disposition": chunk["disposition"].astype(str),
        "contact_id": pd.to_numeric(chunk["contact_id"], errors="coerce"),
    })
    for column in ("talk_s", "hold_s", "wrapup_s"):
        facts[column] = pd.to_numeric(chunk[column]).astype("float64").to_numpy()
    return facts


def outbound_summary(conn: Any, req: ReportRequest) -> pd.DataFrame:
    """Outbound calls per interval (by campaign or agent): attempts, answered (live
    connects), abandoned, connect rate, abandon rate, AHT, average talk. Calls without a
    campaign or agent show under id 0."""
    keys = list(req.by)
    parts = [outbound_facts(c, req).groupby(["interval_start", *keys])[list(OUTBOUND_SUMS)].sum().reset_index()
             for c in queries.iter_frames(conn, OUTBOUND_SQL, request_params(req), OUTBOUND_COLUMNS)]
    summed = (pd.concat(parts).groupby(["interval_start", *keys])[list(OUTBOUND_SUMS)].sum().reset_index()
              if parts else pd.DataFrame(columns=["interval_start", *keys, *OUTBOUND_SUMS]))
    grid = complete_grid(summed, req, keys, OUTBOUND_SUMS)
    return outbound_kpis(grid)
