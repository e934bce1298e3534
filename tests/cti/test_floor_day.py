"""Today's floor figures: the same numbers as reports/kpi.py for the same visits, kept
from domain events, and a new day starting at local midnight."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cti.bus import DomainEvent
from cti.floor_day import FloorDay, day_start, local_day
from reports.kpi import KpiRules, queue_kpis, queue_measures, visit_facts

TZ = "Asia/Shanghai"
RULES = KpiRules(sl_threshold_by_queue={"sales": 20.0, "vip": 10.0})
MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo(TZ)).timestamp()


def fresh() -> FloorDay:
    return FloorDay.starting(RULES, TZ, MORNING)


def event(type_: str, at: float, queue: str = "sales", **data: object) -> DomainEvent:
    return DomainEvent(type=type_, data={"queue": queue, **data}, interaction_id="ix", queue=queue, at=at)


@pytest.mark.parametrize(("waits", "figures"), [
    # (answered waits, abandoned waits) -> service level, abandon rate, offered
    (([5, 20, 21], []), (2 / 3, 0.0, 3)),          # exactly T is within
    (([5], [4.9]), (1.0, 0.0, 1)),                 # a short abandon is left out
    (([5], [5.0, 30]), (1 / 2, 2 / 3, 3)),         # wait = S is a real abandon; only after T counts in SL
    (([], [6, 19]), (None, 1.0, 2)),               # abandons within T: SL undefined
    (([], []), (None, None, 0)),
])
def test_figures_follow_the_kpi_rules(waits: tuple[list[float], list[float]], figures: tuple) -> None:
    day = fresh()
    answered, abandoned = waits
    for wait in answered:
        day.visit("sales", MORNING)
        day.answer("sales", wait, MORNING + wait)
    for wait in abandoned:
        day.visit("sales", MORNING)
        day.abandon("sales", wait, MORNING + wait)
    got = day.queue_figures("sales")
    assert (got["service_level"], got["abandon_rate"], got["offered"]) == figures


visits = st.lists(st.tuples(
    st.sampled_from(["sales", "vip"]),
    st.sampled_from(["answered", "abandoned", "overflowed", "waiting"]),
    st.floats(min_value=0, max_value=120, allow_nan=False).map(lambda w: round(w, 1)),
), max_size=40)


@settings(max_examples=60, deadline=None)
@given(visits)
def test_same_numbers_as_the_reports(rows: list[tuple[str, str, float]]) -> None:
    day = fresh()
    records = []
    for queue, outcome, wait in rows:
        day.visit(queue, MORNING)
        if outcome == "answered":
            day.answer(queue, wait, MORNING + wait)
        elif outcome == "abandoned":
            day.abandon(queue, wait, MORNING + wait)
        records.append({
            "queue_name": queue, "entered": MORNING,
            "answered": MORNING + wait if outcome == "answered" else math.nan,
            "left": math.nan if outcome == "waiting" else MORNING + wait, "outcome": outcome,
            "has_next": False, "transfers": 0, "queue_transfers": 0, "talk_s": 0.0, "hold_s": 0.0, "wrapup_s": 0.0,
        })
    if not records:
        return
    kpis = queue_kpis(queue_measures(visit_facts(pd.DataFrame(records), RULES), ["queue_name"]))
    for row in kpis.to_dict("records"):
        ours = day.queue_figures(row["queue_name"])
        for ours_key, kpi_key in (("service_level", "service_level"), ("abandon_rate", "abandon_rate")):
            expected = row[kpi_key]
            assert (ours[ours_key] is None) == math.isnan(expected)
            if ours[ours_key] is not None:
                assert ours[ours_key] == pytest.approx(expected)
        assert (ours["offered"], ours["answered"], ours["abandoned"]) == (row["offered"], row["answered"], row["abandoned"])


def test_domain_events_move_the_figures_and_say_what_changed() -> None:
    day = fresh()
    assert day.apply(event("call.queued", MORNING)).queues == {"sales"}
    changes = day.apply(event("call.answered", MORNING + 12, wait_seconds=12.0, agent_id=7))
    assert (changes.queues, changes.agents) == ({"sales"}, {7})
    day.apply(event("call.queued", MORNING + 20))
    day.apply(event("call.abandoned", MORNING + 50, wait_seconds=30.0))
    day.apply(event("call.transferred", MORNING + 60, to_agent_id=8, kind="blind"))
    assert not day.apply(event("call.held", MORNING + 70))
    figures = day.queue_figures("sales")
    assert (figures["offered"], figures["answered"], figures["abandoned"], figures["service_level"]) == (2, 1, 1, 0.5)
    assert (day.calls_handled(7), day.calls_handled(8), day.calls_handled(9)) == (1, 1, 0)


def test_a_visit_belongs_to_the_day_it_entered_the_queue() -> None:
    day = fresh()
    yesterday = day_start(local_day(MORNING, TZ), TZ) - 60
    assert not day.visit("sales", yesterday)
    assert not day.answer("sales", 120, yesterday + 120)   # entered before midnight: yesterday's
    assert day.queue_figures("sales")["answered"] == 0


def test_a_new_day_starts_from_zero_at_local_midnight() -> None:
    day = fresh()
    day.visit("sales", MORNING)
    day.handle(7, MORNING)
    midnight = day_start(local_day(MORNING, TZ), TZ) + 86_400
    assert not day.roll(midnight - 1)
    assert day.roll(midnight)
    assert day.queue_figures("sales")["offered"] == 0 and day.calls_handled(7) == 0
