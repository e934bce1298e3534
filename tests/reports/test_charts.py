"""Chart-ready series from report frames."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reports.charts import ivr_tree_nodes, volume_and_service_level, weekday_hour_heatmap


def summary_frame() -> pd.DataFrame:
    starts = pd.to_datetime(["2026-03-09T09:00", "2026-03-09T09:30", "2026-03-10T14:00"]).tz_localize("Europe/Paris")
    return pd.DataFrame({"interval_start": list(starts) * 2, "queue": ["a"] * 3 + ["b"] * 3,
                         "offered": [4, 0, 2, 1, 1, 1], "answered": [3, 0, 2, 1, 0, 1],
                         "abandoned": [1, 0, 0, 0, 1, 0], "service_level": [0.75, math.nan, 1.0, 1.0, 0.0, 1.0]})


def test_volume_and_service_level_per_group_with_nulls() -> None:
    chart = volume_and_service_level(summary_frame())
    assert chart["x"] == ["2026-03-09T09:00:00+01:00", "2026-03-09T09:30:00+01:00", "2026-03-10T14:00:00+01:00"]
    assert chart["groups"]["a"]["offered"] == [4, 0, 2]
    assert chart["groups"]["a"]["service_level"] == [0.75, None, 1.0]
    single = summary_frame().query("queue == 'a'").drop(columns="queue")
    assert volume_and_service_level(single, group=None)["groups"]["all"]["answered"] == [3, 0, 2]
    with pytest.raises(ValueError, match="by=none"):
        volume_and_service_level(summary_frame(), group=None)


def test_weekday_hour_heatmap_sums_by_local_weekday_and_hour() -> None:
    heat = weekday_hour_heatmap(summary_frame())
    assert heat["weekdays"][0] == "Mon" and len(heat["values"]) == 7 and len(heat["values"][0]) == 24
    assert heat["values"][0][9] == 4 + 0 + 1 + 1          # Monday 09:00 and 09:30, both queues
    assert heat["values"][1][14] == 3                      # Tuesday 14:00
    assert sum(map(sum, heat["values"])) == 9


def test_ivr_tree_nodes() -> None:
    frame = pd.DataFrame({"flow": ["main", "main"], "flow_version": [2, 2], "node": ["menu", "sales"],
                          "visits": [10, 6], "drop_offs": [2, 0], "drop_off_rate": [0.2, 0.0],
                          "exit_1": [6, 0], "exit_hangup": [2, 0], "exit_next": [0, 6]})
    nodes = ivr_tree_nodes(frame)["main"]
    assert nodes[0] == {"node": "menu", "version": 2, "visits": 10, "drop_offs": 2, "drop_off_rate": 0.2,
                        "exits": {"1": 6, "hangup": 2}}
    assert nodes[1]["exits"] == {"next": 6}
