"""Agent reports: agent_performance (calls, handle times, occupancy, utilisation per
interval) and agent_state_detail (time per state and reason per interval).

Counting rules: a ring counts where it started (``agent_offers.offered_at``); a handled
call, with all its talk, hold and wrap-up, counts where the agent first talked on it;
time in a state is cut at interval edges (an agent on break from 09:50 to 10:10 gives
10 minutes to each half hour). The state an agent was in when the window opens comes
from the last change before it; the last state runs to the end of the window or now,
whichever is first.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from reports import queries
from reports.intervals import bucket_edges, bucket_index, split_spans
from reports.kpi import agent_call_kpis, agent_time_kpis, state_group
from reports.request import ReportRequest
from reports.shaping import complete_grid, interval_column

STATES_SQL = """
SELECT x.agent_id, date_part('epoch', x.at), x.state, x.reason FROM (
    SELECT h.agent_id, h.at, h.state, h.reason FROM agent_state_history h
     WHERE h.at >= %(start)s AND h.at < %(end)s
       AND (%(agents)s::bigint[] IS NULL OR h.agent_id = ANY(%(agents)s::bigint[]))
    UNION ALL
    SELECT p.agent_id, p.at, p.state, p.reason FROM agents a
     CROSS JOIN LATERAL (SELECT h.agent_id, h.at, h.state, h.reason FROM agent_state_history h
                          WHERE h.agent_id = a.id AND h.at < %(start)s ORDER BY h.at DESC LIMIT 1) p
     WHERE (%(agents)s::bigint[] IS NULL OR a.id = ANY(%(agents)s::bigint[]))
) x ORDER BY x.agent_id, x.at"""

OFFERS_SQL = """
SELECT agent_id, date_part('epoch', offered_at), outcome FROM agent_offers
 WHERE offered_at >= %(start)s AND offered_at < %(end)s
   AND (%(agents)s::bigint[] IS NULL OR agent_id = ANY(%(agents)s::bigint[]))
   AND (%(queues)s::text[] IS NULL OR queue_name = ANY(%(queues)s::text[]))"""

CALLS_SQL = """
SELECT s.agent_id, date_part('epoch', min(s.started_at) FILTER (WHERE s.kind = 'talk')),
       coalesce(sum(date_part('epoch', s.ended_at - s.started_at)) FILTER (WHERE s.kind = 'talk'), 0),
       coalesce(sum(date_part('epoch', s.ended_at - s.started_at)) FILTER (WHERE s.kind = 'hold'), 0),
       coalesce(sum(date_part('epoch', s.ended_at - s.started_at)) FILTER (WHERE s.kind = 'wrapup'), 0)
  FROM agent_segments s
 WHERE s.started_at >= %(start)s AND s.started_at < %(end)s::timestamptz + interval '1 day'
   AND s.ended_at IS NOT NULL
   AND (%(agents)s::bigint[] IS NULL OR s.agent_id = ANY(%(agents)s::bigint[]))
   AND (%(queues)s::text[] IS NULL OR s.queue_name = ANY(%(queues)s::text[]))
 GROUP BY s.agent_id, s.interaction_id
HAVING min(s.started_at) FILTER (WHERE s.kind = 'talk') >= %(start)s
   AND min(s.started_at) FILTER (WHERE s.kind = 'talk') < %(end)s"""

AGENTS_SQL = """
SELECT a.id, a.code, coalesce(u.display_name, '') FROM agents a LEFT JOIN users u ON u.id = a.user_id"""

STATE_COLUMNS = ("agent_id", "at", "state", "reason")


def _params(req: ReportRequest) -> dict[str, Any]:
    return {"start": req.window.start, "end": req.window.end, "agents": req.get("agent_id"),
            "queues": req.get("queue")}


def _spans(chunks: Iterator[pd.DataFrame], close_at: float) -> Iterator[pd.DataFrame]:
    """State rows (ordered by agent, time) -> spans with an end, across chunk edges.

    The last row of each chunk waits for the next chunk, which may hold its successor.
    """
    carry: pd.DataFrame | None = None
    for chunk in chunks:
        rows = chunk if carry is None else pd.concat([carry, chunk], ignore_index=True)
        carry = rows.iloc[-1:]
        yield _close(rows.iloc[:-1], rows, close_at)
    if carry is not None:
        yield _close(carry, carry, close_at)


def _close(rows: pd.DataFrame, context: pd.DataFrame, close_at: float) -> pd.DataFrame:
    at = pd.to_numeric(context["at"]).to_numpy(dtype="float64")
    agent = context["agent_id"].to_numpy()
    nxt = np.append(at[1:], close_at)
    same = np.append(agent[1:] == agent[:-1], False)
    end = np.where(same, nxt, close_at)[: len(rows)]
    out = rows.copy()
    out["at"] = at[: len(rows)]
    out["end"] = np.maximum(end, out["at"].to_numpy())
    return out


def state_time(conn: Any, req: ReportRequest) -> pd.DataFrame:
    """Seconds per (interval_start, agent_id, state, reason) and times each was entered."""
    edges = bucket_edges(req.window, req.interval)
    starts = bucket_index(req.window, req.interval)
    close_at = min(req.window.end_epoch, time.time())
    parts = []
    for spans in _spans(queries.iter_frames(conn, STATES_SQL, _params(req), STATE_COLUMNS), close_at):
        start_ns = (spans["at"].to_numpy() * 1e9).astype(np.int64)
        row, bucket, seconds = split_spans(start_ns, (spans["end"].to_numpy() * 1e9).astype(np.int64), edges)
        pieces = spans.iloc[row][["agent_id", "state", "reason"]].reset_index(drop=True)
        pieces["interval_start"] = starts[bucket]
        pieces["seconds"] = seconds
        # A piece is an entry into the state when the span starts in it (not carried in).
        pieces["entries"] = ((start_ns[row] >= edges[bucket]) & (start_ns[row] >= edges[0])).astype("int64")
        parts.append(pieces.groupby(["interval_start", "agent_id", "state", "reason"], sort=False).sum()
                     .reset_index())
    keys = ["interval_start", "agent_id", "state", "reason"]
    if not parts:
        return pd.DataFrame({k: pd.Series(dtype="object") for k in [*keys, "seconds", "entries"]})
    return pd.concat(parts).groupby(keys, sort=True)[["seconds", "entries"]].sum().reset_index()


def _agent_names(conn: Any) -> pd.DataFrame:
    with conn.cursor() as cur:
        frame = queries.cursor_frame(cur, AGENTS_SQL, {}, ("agent_id", "agent_code", "agent_name"))
    return frame.astype({"agent_id": "int64"}) if len(frame) else frame


def _with_names(frame: pd.DataFrame, conn: Any) -> pd.DataFrame:
    names = _agent_names(conn)
    merged = frame.merge(names, on="agent_id", how="left") if len(names) else frame.assign(agent_code="", agent_name="")
    merged[["agent_code", "agent_name"]] = merged[["agent_code", "agent_name"]].fillna("")
    first = ["interval_start", "agent_id", "agent_code", "agent_name"]
    return merged[first + [c for c in merged.columns if c not in first]]


def agent_state_detail(conn: Any, req: ReportRequest) -> pd.DataFrame:
    """Time per agent, state and reason code per interval (only what happened)."""
    detail = state_time(conn, req)
    detail["agent_id"] = detail["agent_id"].astype("int64")
    return _with_names(detail, conn)


def _offers(conn: Any, req: ReportRequest) -> pd.DataFrame:
    frame = queries.read_frame(conn, OFFERS_SQL, _params(req), ("agent_id", "at", "outcome"))
    frame["interval_start"] = interval_column(pd.to_numeric(frame["at"]), req)
    frame["offers"] = 1
    frame["offers_answered"] = (frame["outcome"] == "answered").astype("int64")
    frame["no_answer"] = (frame["outcome"] == "no_answer").astype("int64")
    frame["rejected"] = (frame["outcome"] == "rejected").astype("int64")
    columns = ["offers", "offers_answered", "no_answer", "rejected"]
    return frame.groupby(["interval_start", "agent_id"])[columns].sum().reset_index()


def _calls(conn: Any, req: ReportRequest) -> pd.DataFrame:
    frame = queries.read_frame(conn, CALLS_SQL, _params(req), ("agent_id", "answered", "talk_s", "hold_s", "wrapup_s"))
    frame["interval_start"] = interval_column(pd.to_numeric(frame["answered"]), req)
    frame["handled"] = 1
    for column in ("talk_s", "hold_s", "wrapup_s"):
        frame[column] = pd.to_numeric(frame[column]).astype("float64")
    columns = ["handled", "talk_s", "hold_s", "wrapup_s"]
    return frame.groupby(["interval_start", "agent_id"])[columns].sum().reset_index()


def _state_groups(conn: Any, req: ReportRequest) -> pd.DataFrame:
    detail = state_time(conn, req)
    detail["group"] = state_group(detail["state"].astype(str)) + "_s"
    wide = detail.pivot_table(index=["interval_start", "agent_id"], columns="group", values="seconds",
                              aggfunc="sum", fill_value=0.0)
    return wide.reset_index().drop(columns=["logged_out_s"], errors="ignore")


def agent_performance(conn: Any, req: ReportRequest) -> pd.DataFrame:
    """Per agent and interval: rings, answers, handled calls, AHT, talk, hold, wrap-up,
    time available / handling / not ready, occupancy and utilisation (see reports.kpi)."""
    keys = ["interval_start", "agent_id"]
    # Parts with no rows are left out: their key columns carry no dtype to merge on.
    parts = [p.astype({"agent_id": "int64"}) for p in (_offers(conn, req), _calls(conn, req), _state_groups(conn, req))
             if not p.empty]
    merged = parts[0] if parts else pd.DataFrame({"interval_start": pd.Series(dtype="object"),
                                                   "agent_id": pd.Series(dtype="int64")})
    for part in parts[1:]:
        merged = merged.merge(part, on=keys, how="outer")
    values = ["offers", "offers_answered", "no_answer", "rejected", "handled", "talk_s", "hold_s", "wrapup_s",
              "handling_s", "available_s", "not_ready_s", "other_s"]
    for column in values:
        if column not in merged:
            merged[column] = 0.0
    merged[values] = merged[values].fillna(0)
    counts = ["offers", "offers_answered", "no_answer", "rejected", "handled"]
    merged[counts] = merged[counts].astype("int64")
    wanted = [(a,) for a in req.get("agent_id") or ()]
    grid = complete_grid(merged, req, ["agent_id"], values, wanted)
    grid = agent_time_kpis(agent_call_kpis(grid))
    return _with_names(grid, conn)
