"""ivr_tree: how callers moved through each IVR flow over the window.

Source: ``ivr_node_stats`` (sql/003_routing.sql, per flow version, node and day, written
by the routing engine) when it has rows for the window; otherwise the timeline events
``call.ivr_step`` in ``interaction_events``. Filter ``source=stats|events`` forces one.

From the events, ``data.kind`` is read as the routing timeline writes it:
``node_entered`` counts a visit; ``node_left`` counts an exit under ``data.exit`` (a
menu key, ``next``, ``failure``, ``hangup`` ...) and adds ``data.seconds``. An event
without ``kind`` counts as a visit whose exit label is the ``data.digits`` pressed.

The statistics are kept per local day, so the window is read in whole days: from the
day of ``from`` up to and including the day before ``to`` (plus ``to``'s own day when
``to`` is not a midnight).
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from reports import queries
from reports.errors import ReportError
from reports.kpi import ratio
from reports.request import ReportRequest

STATS_SQL = """
SELECT flow_name, flow_version, node, visits, hangups, retries, seconds_total, exits::text
  FROM ivr_node_stats
 WHERE day >= %(first_day)s AND day < %(end_day)s
   AND (%(flows)s::text[] IS NULL OR flow_name = ANY(%(flows)s::text[]))"""

EVENTS_SQL = """
SELECT coalesce(data->>'flow', ''), coalesce(data->>'node', ''), coalesce(data->>'kind', ''),
       coalesce(data->>'exit', data->>'digits', ''),
       CASE WHEN jsonb_typeof(data->'seconds') = 'number' THEN (data->>'seconds')::float8 ELSE 0 END
  FROM interaction_events
 WHERE type = 'call.ivr_step' AND at >= %(start)s AND at < %(end)s
   AND (%(flows)s::text[] IS NULL OR data->>'flow' = ANY(%(flows)s::text[]))"""

NODE_KEYS = ["flow", "flow_version", "node"]


def _days(req: ReportRequest) -> dict[str, Any]:
    first = req.window.start.normalize().date()
    end = req.window.end
    last = end.normalize().date() if end == end.normalize() else (end.normalize() + pd.Timedelta(days=1)).date()
    return {"first_day": first, "end_day": last, "flows": req.get("flow")}


def _from_stats(conn: Any, req: ReportRequest) -> pd.DataFrame:
    rows = queries.read_frame(conn, STATS_SQL, _days(req), ("flow", "flow_version", "node", "visits", "hangups",
                                                             "retries", "seconds", "exits"))
    exits = pd.json_normalize([json.loads(text) for text in rows["exits"]]).fillna(0).add_prefix("exit_")
    table = pd.concat([rows.drop(columns=["exits"]).reset_index(drop=True), exits], axis=1)
    return table.groupby(NODE_KEYS, dropna=False).sum(numeric_only=True).reset_index()


def _from_events(conn: Any, req: ReportRequest) -> pd.DataFrame:
    params = {"start": req.window.start, "end": req.window.end, "flows": req.get("flow")}
    parts = []
    for chunk in queries.iter_frames(conn, EVENTS_SQL, params, ("flow", "node", "kind", "exit", "seconds")):
        entered = chunk["kind"].isin(["node_entered", ""])
        left = (chunk["kind"] == "node_left") | ((chunk["kind"] == "") & (chunk["exit"] != ""))
        facts = pd.DataFrame({"flow": chunk["flow"], "flow_version": pd.NA, "node": chunk["node"],
                              "visits": entered.astype("int64"),
                              "hangups": (left & (chunk["exit"] == "hangup")).astype("int64"),
                              "retries": chunk["kind"].isin(["invalid_input", "no_input"]).astype("int64"),
                              "seconds": pd.to_numeric(chunk["seconds"]).where(left, 0.0)})
        labels = pd.get_dummies(chunk["exit"].where(left)).add_prefix("exit_").astype("int64")
        parts.append(pd.concat([facts, labels], axis=1).groupby(NODE_KEYS, dropna=False).sum().reset_index())
    if not parts:
        return pd.DataFrame(columns=[*NODE_KEYS, "visits", "hangups", "retries", "seconds"])
    return pd.concat(parts).fillna({"visits": 0}).groupby(NODE_KEYS, dropna=False).sum().reset_index()


def _source(conn: Any, req: ReportRequest) -> str:
    wanted = req.get("source", "auto")
    has_table = queries.table_exists(conn, "ivr_node_stats")
    if wanted == "stats" and not has_table:
        raise ReportError("there is no ivr_node_stats table in this database; use source=events")
    if wanted != "auto":
        return str(wanted)
    if not has_table:
        return "events"
    with conn.cursor() as cur:
        found = queries.cursor_frame(cur, "SELECT 1 FROM ivr_node_stats WHERE day >= %(first_day)s "
                                          "AND day < %(end_day)s LIMIT 1", _days(req), ("one",))
    return "stats" if len(found) else "events"


def ivr_tree(conn: Any, req: ReportRequest) -> pd.DataFrame:
    """Per flow and node: visits, exits per option (``exit_<label>`` columns), drop-offs
    (callers who hung up at the node) and their rate, retries and average time spent."""
    table = _from_stats(conn, req) if _source(conn, req) == "stats" else _from_events(conn, req)
    exit_columns = sorted(c for c in table.columns if c.startswith("exit_"))
    table[exit_columns] = table[exit_columns].fillna(0).astype("int64")
    table["exits_total"] = table[exit_columns].sum(axis=1) if exit_columns else 0
    table["drop_offs"] = table["hangups"].astype("int64")
    table["drop_off_rate"] = ratio(table["drop_offs"], table["visits"])
    table["avg_seconds"] = ratio(table["seconds"], table["exits_total"])
    columns = [*NODE_KEYS, "visits", "exits_total", "drop_offs", "drop_off_rate", "retries", "avg_seconds",
               *exit_columns]
    return table[columns].sort_values(["flow", "flow_version", "node"], na_position="first").reset_index(drop=True)
