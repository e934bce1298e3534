"""staffing: agents needed per interval of the window, from a forecast of history.

For each 30-minute or hourly interval of the window (normally in the future):

1. history = the queue measures of the ``weeks`` weeks before the window (same source
   as inbound_summary: pre-aggregated slots or raw visits), per interval, zeros
   included;
2. forecast calls offered, calls answered and handle seconds with
   :func:`reports.forecast.same_slot_mean` (method stated in the ``method`` column);
   AHT = forecast handle seconds / forecast answered calls, or the history's overall
   AHT for a slot with no answered calls in its weeks;
3. arrival rate = forecast calls / interval length; Erlang C and Erlang A
   (:mod:`reports.erlang`) give the agents needed for ``target_sl`` within the
   queue's service-level threshold. Erlang A uses the caller patience measured in the
   history (total wait / abandons, see :func:`reports.kpi.patience_s`) unless
   ``patience`` is given. Agents are on the phones: add shrinkage (breaks, training)
   on top.

Filters: queue, target_sl (default 0.8), weeks (default 4), aht (seconds, overrides
the forecast), patience (seconds), sl_threshold, source.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from reports.erlang import agents_erlang_a, agents_erlang_c
from reports.errors import ReportError
from reports.forecast import DEFAULT_WEEKS, method_name, same_slot_mean
from reports.intervals import Interval, bucket_edges, bucket_index
from reports.kpi import patience_s
from reports.queue_reports import slot_measures
from reports.request import ReportRequest
from reports.shaping import interval_column

DEFAULT_TARGET = 0.8


def _history(conn: Any, req: ReportRequest, weeks: int, keys: list[str]) -> tuple[pd.DataFrame, ReportRequest]:
    """(measures per interval of the ``weeks`` before the window, the request for them)."""
    start = req.window.start - pd.Timedelta(days=7 * weeks)
    past = replace(req, window=replace(req.window, start=start, end=req.window.start))
    slots = slot_measures(conn, past, keys)
    slots["interval_start"] = interval_column(slots["slot"], past)
    slots["handle_s"] = slots["talk_s"] + slots["hold_s"] + slots["wrapup_s"]
    columns = ["offered", "answered", "handle_s", "abandoned", "short_abandoned", "waited_s"]
    return slots.groupby(["interval_start", *keys])[columns].sum().reset_index(), past


def _rows_for(group: pd.DataFrame, past: ReportRequest, targets: pd.DatetimeIndex, seconds: np.ndarray,
              req: ReportRequest, threshold: float, weeks: int) -> pd.DataFrame:
    history = group.set_index("interval_start")[["offered", "answered", "handle_s"]]
    history = history.reindex(bucket_index(past.window, past.interval), fill_value=0.0)
    forecast = same_slot_mean(history.astype("float64"), targets, weeks)
    overall_aht = float(group["handle_s"].sum() / group["answered"].sum()) if group["answered"].sum() else math.nan
    aht_fixed = req.get("aht")
    aht = np.where(forecast["answered"] > 0, forecast["handle_s"] / forecast["answered"].where(forecast["answered"] > 0),
                   overall_aht) if aht_fixed is None else np.full(len(targets), float(aht_fixed))
    patience = req.get("patience") or patience_s(group)
    target = req.get("target_sl", DEFAULT_TARGET)
    rows = []
    for calls, handle, length in zip(forecast["offered"].to_numpy(), aht, seconds, strict=True):
        rows.append(_staff(calls, handle, length, threshold, target, patience))
    out = pd.DataFrame(rows, index=targets)
    out.insert(0, "forecast_calls", forecast["offered"].to_numpy())
    out.insert(1, "forecast_aht_s", aht)
    out["patience_s"] = patience
    out["weeks_used"] = forecast["weeks_used"].to_numpy()
    return out


def _staff(calls: float, aht: float, length: float, threshold: float, target: float, patience: float) -> dict[str, Any]:
    if not (calls > 0 and aht > 0):
        return {"erlangs": 0.0 if calls == 0 else math.nan, "agents_erlang_c": 0 if calls == 0 else pd.NA,
                "sl_erlang_c": math.nan, "asa_erlang_c_s": math.nan, "occupancy_erlang_c": math.nan,
                "agents_erlang_a": 0 if calls == 0 else pd.NA, "sl_erlang_a": math.nan,
                "abandon_rate_erlang_a": math.nan}
    lam = calls / length
    c = agents_erlang_c(lam, aht, threshold, target)
    row = {"erlangs": lam * aht, "agents_erlang_c": c.agents, "sl_erlang_c": c.service_level,
           "asa_erlang_c_s": c.asa_s, "occupancy_erlang_c": c.occupancy}
    if patience > 0 and math.isfinite(patience):
        a = agents_erlang_a(lam, aht, threshold, target, patience)
        row |= {"agents_erlang_a": a.agents, "sl_erlang_a": a.service_level, "abandon_rate_erlang_a": a.abandon_rate}
    else:
        row |= {"agents_erlang_a": c.agents, "sl_erlang_a": c.service_level, "abandon_rate_erlang_a": 0.0}
    return row


def staffing(conn: Any, req: ReportRequest) -> pd.DataFrame:
    """Forecast calls and AHT per interval and the agents Erlang C / Erlang A need."""
    if req.interval not in (Interval.HALF_HOUR, Interval.HOUR):
        raise ReportError("staffing is computed per 30min or hour interval: use --interval 30min or hour")
    weeks = int(req.get("weeks", DEFAULT_WEEKS))
    keys = ["queue_name"] if req.by else []
    history, past = _history(conn, req, weeks, keys)
    targets = bucket_index(req.window, req.interval)
    edges = bucket_edges(req.window, req.interval)
    seconds = np.diff(np.append(targets.as_unit("ns").asi8, edges[-1])).astype("float64") / 1e9
    groups: list[tuple[str | None, pd.DataFrame]] = (
        [(str(q), g) for q, g in history.groupby("queue_name")] if keys else [(None, history)])
    frames = []
    for queue, group in groups:
        threshold = req.rules.threshold_for(queue) if queue else req.rules.sl_threshold_s
        rows = _rows_for(group, past, targets, seconds, req, threshold, weeks)
        if keys:
            rows.insert(0, "queue", queue)
        rows["sl_threshold_s"] = threshold
        frames.append(rows)
    if not frames:
        raise ReportError("no queue had calls in the history weeks; staffing needs history to forecast from")
    out = pd.concat(frames).rename_axis("interval_start").reset_index()
    out["target_sl"] = req.get("target_sl", DEFAULT_TARGET)
    out["method"] = method_name(weeks)
    return out
