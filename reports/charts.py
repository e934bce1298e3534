"""Chart-ready series from report frames, as plain JSON-able dicts (NaN -> None).

- :func:`volume_and_service_level`: offered / answered / abandoned and service level
  over time, one series set per group (from ``inbound_summary``);
- :func:`weekday_hour_heatmap`: a 7 x 24 grid (Monday first, local hours) of any
  count column (from a ``30min`` or ``hour`` interval report);
- :func:`ivr_tree_nodes`: per flow, its nodes with visits, drop-offs and the exits per
  option (from ``ivr_tree``).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _clean(values: pd.Series) -> list[Any]:
    out: list[Any] = []
    for value in values.tolist():
        out.append(None if isinstance(value, float) and math.isnan(value) else value)
    return out


def volume_and_service_level(frame: pd.DataFrame, group: str | None = "queue") -> dict[str, Any]:
    """``{"x": [iso interval starts], "groups": {name: {"offered": [...], ...}}}``.

    With ``group`` None (or a frame without that column) there is one group, "all":
    pass a report run with ``by=none`` (service levels of groups cannot be added up).
    """
    columns = ["offered", "answered", "abandoned", "service_level"]
    if not (group and group in frame) and frame["interval_start"].duplicated().any():
        raise ValueError("one row per interval is needed for a single series: run the report with by=none")
    x = sorted(frame["interval_start"].unique())
    grouped = frame.groupby(group) if group and group in frame else [("all", frame)]
    groups: dict[str, dict[str, list[Any]]] = {}
    for name, part in grouped:
        indexed = part.set_index("interval_start").reindex(x)
        groups[str(name[0] if isinstance(name, tuple) else name)] = {c: _clean(indexed[c]) for c in columns}
    return {"x": [pd.Timestamp(t).isoformat() for t in x], "groups": groups}


def weekday_hour_heatmap(frame: pd.DataFrame, value: str = "offered") -> dict[str, Any]:
    """Sum of ``value`` per local weekday and hour: ``{"weekdays", "hours", "values"}``."""
    starts = pd.DatetimeIndex(frame["interval_start"])
    table = pd.DataFrame({"weekday": starts.day_of_week, "hour": starts.hour, "value": frame[value].to_numpy()})
    grid = table.pivot_table(index="weekday", columns="hour", values="value", aggfunc="sum", fill_value=0)
    grid = grid.reindex(index=range(7), columns=range(24), fill_value=0)
    return {"weekdays": list(WEEKDAYS), "hours": list(range(24)), "values": grid.to_numpy().tolist()}


def ivr_tree_nodes(frame: pd.DataFrame) -> dict[str, list[dict[str, Any]]]:
    """``{flow: [{"node", "version", "visits", "drop_offs", "drop_off_rate", "exits"}]}``."""
    exit_columns = [c for c in frame.columns if c.startswith("exit_")]
    flows: dict[str, list[dict[str, Any]]] = {}
    for row in frame.to_dict("records"):
        version = row.get("flow_version")
        node = {"node": row["node"], "version": None if pd.isna(version) else int(version),
                "visits": int(row["visits"]), "drop_offs": int(row["drop_offs"]),
                "drop_off_rate": _clean(pd.Series([row["drop_off_rate"]], dtype="float64"))[0],
                "exits": {c.removeprefix("exit_"): int(row[c]) for c in exit_columns if row[c]}}
        flows.setdefault(str(row["flow"]), []).append(node)
    return flows
