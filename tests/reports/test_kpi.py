"""KPI definitions on hand-made call sets whose answers are worked out here."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.kpi import (
    MEASURES,
    KpiRules,
    agent_time_kpis,
    combine_measures,
    patience_s,
    queue_kpis,
    queue_measures,
    repeat_flags,
    state_group,
    visit_facts,
)

T0 = 1_800_000_000.0  # any epoch second


def visit(queue: str = "sales", wait: float | None = 10.0, outcome: str = "answered", *, entered: float = T0,
          has_next: bool = False, transfers: int = 0, queue_transfers: int = 0, talk: float = 0.0,
          hold: float = 0.0, wrapup: float = 0.0) -> dict[str, Any]:
    answered = entered + wait if outcome == "answered" and wait is not None else math.nan
    left = entered + wait if outcome != "answered" and wait is not None else math.nan
    return {"queue_name": queue, "entered": entered, "answered": answered, "left": left, "outcome": outcome,
            "has_next": has_next, "transfers": transfers, "queue_transfers": queue_transfers,
            "talk_s": talk, "hold_s": hold, "wrapup_s": wrapup}


def kpis(rows: list[dict[str, Any]], rules: KpiRules = KpiRules(), keys: tuple[str, ...] = ()) -> pd.DataFrame:
    return queue_kpis(queue_measures(visit_facts(pd.DataFrame(rows), rules), list(keys)))


def test_thresholds_edges_short_abandons_and_waiting_calls() -> None:
    """T = 20 s, S = 5 s. Worked out by hand:

    answered 10 s, 20 s (exactly T: within), 30 s      -> answered 3, within T 2
    abandoned 3 s (short: < S)                          -> dropped from offered and abandoned
    abandoned 5 s (exactly S: a real abandon, <= T)     -> abandoned, not after T
    abandoned 20 s (exactly T: within T)                -> abandoned, not after T
    abandoned 21 s                                      -> abandoned after T
    overflowed after 60 s, one still waiting            -> offered only
    offered = 9 - 1 = 8; SL = 2 / (3 + 1) = 0.5; abandon rate = 3 / 8
    ASA = (10 + 20 + 30) / 3 = 20; longest wait = 60; avg abandon wait = 46 / 3
    """
    rows = [visit(wait=10), visit(wait=20), visit(wait=30), visit(wait=3, outcome="abandoned"),
            visit(wait=5, outcome="abandoned"), visit(wait=20, outcome="abandoned"),
            visit(wait=21, outcome="abandoned"), visit(wait=60, outcome="overflowed"),
            visit(wait=None, outcome="waiting")]
    row = kpis(rows, KpiRules(sl_threshold_s=20, short_abandon_s=5)).iloc[0]
    assert (row["visits"], row["offered"], row["answered"], row["abandoned"], row["short_abandoned"]) == (9, 8, 3, 3, 1)
    assert (row["answered_within"], row["abandoned_after"], row["overflowed"]) == (2, 1, 1)
    assert row["service_level"] == 0.5
    assert row["abandon_rate"] == 3 / 8
    assert row["asa_s"] == 20.0
    assert row["longest_wait_s"] == 60.0
    assert row["avg_abandon_wait_s"] == pytest.approx(46 / 3)


@pytest.mark.parametrize(
    ("wait", "short", "abandoned", "after_t"),
    [(4.999, 1, 0, 0), (5.0, 0, 1, 0), (19.999, 0, 1, 0), (20.0, 0, 1, 0), (20.001, 0, 1, 1)],
)
def test_abandon_exactly_at_each_threshold(wait: float, short: int, abandoned: int, after_t: int) -> None:
    row = kpis([visit(wait=wait, outcome="abandoned")], KpiRules(sl_threshold_s=20, short_abandon_s=5)).iloc[0]
    assert (row["short_abandoned"], row["abandoned"], row["abandoned_after"]) == (short, abandoned, after_t)
    assert row["offered"] == 1 - short


@pytest.mark.parametrize(("wait", "within"), [(19.999, 1), (20.0, 1), (20.001, 0)])
def test_answer_exactly_at_the_threshold_is_within(wait: float, within: int) -> None:
    assert kpis([visit(wait=wait)]).iloc[0]["answered_within"] == within


def test_a_transferred_call_counts_once_in_each_queue_and_as_a_transfer_only_where_it_left() -> None:
    """Call X: sales (answered after 8 s) -> transferred to support (answered after 12 s).
    Call Y: support answered, then the agent transferred it to an outside number."""
    rows = [
        visit("sales", 8, has_next=True, transfers=1, queue_transfers=1, talk=60),
        visit("support", 12, transfers=1, queue_transfers=1, talk=100, hold=20, wrapup=30),
        visit("support", 4, transfers=1, queue_transfers=0, talk=40, wrapup=10),
    ]
    by_queue = kpis(rows, keys=("queue_name",)).set_index("queue_name")
    assert by_queue.loc["sales", "offered"] == 1 and by_queue.loc["support", "offered"] == 2
    assert by_queue.loc["sales", "transfer_rate"] == 1.0
    assert by_queue.loc["support", "transfer_rate"] == 0.5
    assert by_queue.loc["support", "aht_s"] == (150 + 50) / 2
    assert by_queue.loc["support", "avg_hold_s"] == 10.0
    assert by_queue.loc["sales", "aht_s"] == 60.0


def test_per_queue_threshold() -> None:
    rules = KpiRules(sl_threshold_s=20, sl_threshold_by_queue={"vip": 10})
    rows = [visit("vip", 15), visit("sales", 15)]
    by_queue = kpis(rows, rules, keys=("queue_name",)).set_index("queue_name")
    assert by_queue.loc["vip", "service_level"] == 0.0
    assert by_queue.loc["sales", "service_level"] == 1.0


def test_empty_group_rates_are_undefined_not_zero() -> None:
    row = kpis([visit(wait=2, outcome="abandoned")]).iloc[0]
    assert row["offered"] == 0
    assert math.isnan(row["service_level"]) and math.isnan(row["abandon_rate"]) and math.isnan(row["asa_s"])


def _random_visits(draw_waits: list[tuple[int, float | None, int]]) -> pd.DataFrame:
    outcomes = ["answered", "abandoned", "overflowed", "voicemail", "callback", "waiting"]
    return pd.DataFrame([visit(f"q{q}", None if kind == 5 else wait, outcomes[kind], talk=wait or 0)
                         for q, wait, kind in ((q, w, k) for q, w, k in draw_waits)])


visits_strategy = st.lists(st.tuples(st.integers(0, 2), st.floats(0, 120, allow_nan=False), st.integers(0, 5)),
                           min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(rows=visits_strategy, cut=st.integers(0, 60))
def test_measures_are_additive_across_chunks(rows: list[tuple[int, float, int]], cut: int) -> None:
    visits = _random_visits(rows)
    facts = visit_facts(visits, KpiRules())
    whole = queue_measures(facts, ["queue_name"]).sort_values("queue_name").reset_index(drop=True)
    parts = [queue_measures(facts.iloc[:cut], ["queue_name"]), queue_measures(facts.iloc[cut:], ["queue_name"])]
    combined = combine_measures(parts, ["queue_name"]).sort_values("queue_name").reset_index(drop=True)
    pd.testing.assert_frame_equal(whole[list(MEASURES)], combined[list(MEASURES)], check_dtype=False)


@settings(max_examples=60, deadline=None)
@given(rows=visits_strategy)
def test_invariants(rows: list[tuple[int, float, int]]) -> None:
    row = kpis(_random_visits(rows).to_dict("records")).iloc[0]
    assert row["offered"] == row["visits"] - row["short_abandoned"]
    assert row["answered"] + row["abandoned"] <= row["offered"]
    assert row["answered_within"] <= row["answered"] and row["abandoned_after"] <= row["abandoned"]
    if not math.isnan(row["service_level"]):
        assert 0.0 <= row["service_level"] <= 1.0


def test_repeat_flags_are_inclusive() -> None:
    flags = repeat_flags(pd.Series([86_400.0, 86_400.5, 604_800.0, 604_801.0, np.nan]))
    assert flags["repeat_24h"].tolist() == [1, 0, 0, 0, 0]
    assert flags["repeat_7d"].tolist() == [1, 1, 1, 0, 0]


def test_occupancy_and_utilisation() -> None:
    """handling 1800 s, available 600 s, not ready 1200 s: occupancy 1800/2400,
    utilisation 1800/3600."""
    row = agent_time_kpis(pd.DataFrame([{"handling_s": 1800.0, "available_s": 600.0, "not_ready_s": 1200.0}])).iloc[0]
    assert row["occupancy"] == 0.75 and row["utilisation"] == 0.5 and row["logged_in_s"] == 3600.0


def test_state_groups() -> None:
    groups = state_group(pd.Series(["on_call", "wrap_up", "reserved", "not_ready", "logged_out", "dancing"]))
    assert groups.tolist() == ["handling", "handling", "available", "not_ready", "logged_out", "other"]


def test_patience_estimate_is_waiting_time_per_abandon() -> None:
    """Waits: answered 10 and 30, abandoned 20 and 2 (short): (10+30+20+2) / 2 abandons = 31."""
    facts = visit_facts(pd.DataFrame([visit(wait=10), visit(wait=30), visit(wait=20, outcome="abandoned"),
                                      visit(wait=2, outcome="abandoned")]), KpiRules())
    assert patience_s(queue_measures(facts, [])) == 31.0
