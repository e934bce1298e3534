"""Queue reports end to end on the real PostgreSQL, on hand-made calls.

Site zone Europe/Paris (UTC+1 on 10 March 2026). Queues: sales (T = 20 s), support
(T = 30 s), quiet (no calls). Short abandons: under 5 s.

  c1  sales   09:10:00  answered after 15 s (agent 1: talk 120, hold 10, wrap-up 30)
  c2  sales   09:29:50  answered after 25 s (answered in the next half hour)
  c3  sales   09:40:00  abandoned after 20 s (exactly T: an abandon within T)
  c4  sales   09:45:00  abandoned after 3 s (short: not offered, not abandoned)
  c5  sales   10:05:00  answered after 5 s (agent 1, talk 60), then transferred to
      support 10:07:00  answered after 40 s (agent 2, talk 200)
  c6  support 09:15:00  abandoned after 45 s (after T)
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pandas as pd
import pytest

from cti.db import Database
from reports import rollup
from reports.catalog import run_report
from reports.errors import ReportError
from tests.reports.store import Store

TZ = "Europe/Paris"
DAY = "2026-03-10"


@pytest.fixture(scope="module")
def store(db: Database) -> Iterator[Store]:
    s = Store(db, TZ)
    s.queue("sales", 20)
    s.queue("support", 30)
    s.queue("quiet")
    a1, a2 = s.agent("1001", "Ann"), s.agent("1002", "Bob")

    def call(start: str, queue: str, wait: float, outcome: str, agent: int | None = None, talk: float = 0,
             hold: float = 0, wrapup: float = 0, caller: str = "+33100000001") -> str:
        iid = s.interaction(f"{DAY} {start}", queue=queue, caller=caller, answered=wait if outcome == "answered" else None)
        s.visit(iid, 1, queue, f"{DAY} {start}", wait=wait, outcome=outcome, agent=agent)
        if talk:
            s.segment(iid, agent or 0, "talk", f"{DAY} {start}", talk, queue)
        if hold:
            s.segment(iid, agent or 0, "hold", f"{DAY} {start}", hold, queue)
        if wrapup:
            s.segment(iid, agent or 0, "wrapup", f"{DAY} {start}", wrapup, queue)
        return iid

    call("09:10:00", "sales", 15, "answered", a1, talk=120, hold=10, wrapup=30, caller="+33100000010")
    call("09:29:50", "sales", 25, "answered", a2, talk=90, caller="+33100000011")
    call("09:40:00", "sales", 20, "abandoned", caller="+33100000012")
    call("09:45:00", "sales", 3, "abandoned", caller="+33100000012")
    c5 = s.interaction(f"{DAY} 10:05:00", queue="support", caller="+33100000013", answered=5, transfers=1)
    s.visit(c5, 1, "sales", f"{DAY} 10:05:00", wait=5, outcome="answered", agent=a1)
    s.visit(c5, 2, "support", f"{DAY} 10:07:00", wait=40, outcome="answered", agent=a2)
    s.segment(c5, a1, "talk", f"{DAY} 10:05:05", 60, "sales")
    s.segment(c5, a2, "talk", f"{DAY} 10:07:40", 200, "support")
    call("09:15:00", "support", 45, "abandoned", caller="+33100000014")
    yield s


def summary(db: Database, interval: str = "30min", by: str | None = None,
            filters: dict[str, object] | None = None) -> pd.DataFrame:
    return run_report(db, "inbound_summary", start=f"{DAY} 09:00", end=f"{DAY} 11:00", interval=interval, by=by,
                      filters=filters, tz=TZ)


def row(frame: pd.DataFrame, queue: str, local: str) -> pd.Series:
    hit = frame[(frame["queue"] == queue) & (frame["interval_start"] == pd.Timestamp(f"{DAY} {local}", tz=TZ))]
    assert len(hit) == 1
    return hit.iloc[0]


def test_half_hour_summary_by_queue(store: Store) -> None:
    frame = summary(db=store.db)
    assert len(frame) == 3 * 4                          # 3 queues x 4 half hours, quiet ones as zeros
    sales_9 = row(frame, "sales", "09:00")
    assert (sales_9["offered"], sales_9["answered"], sales_9["answered_within"]) == (2, 2, 1)
    assert sales_9["service_level"] == 0.5            # c2 belongs where it was offered
    assert sales_9["asa_s"] == 20.0
    assert sales_9["aht_s"] == pytest.approx((160 + 90) / 2)
    sales_930 = row(frame, "sales", "09:30")
    assert (sales_930["offered"], sales_930["abandoned"], sales_930["short_abandoned"]) == (1, 1, 1)
    assert sales_930["abandoned_after"] == 0 and math.isnan(sales_930["service_level"])
    assert row(frame, "sales", "10:00")["transfer_rate"] == 1.0
    assert row(frame, "support", "10:00")["transfer_rate"] == 0.0
    assert row(frame, "support", "10:00")["service_level"] == 0.0        # 40 s > T = 30 s
    assert row(frame, "support", "09:00")["abandoned_after"] == 1
    quiet = frame[frame["queue"] == "quiet"]
    assert len(quiet) == 4 and (quiet["offered"] == 0).all()
    assert (row(frame, "sales", "10:30")[["offered", "answered", "abandoned"]] == 0).all()


def test_transferred_call_counts_once_per_queue(store: Store) -> None:
    frame = summary(db=store.db, interval="range")
    totals = frame.set_index("queue")
    assert totals.loc["sales", "offered"] == 4 and totals.loc["support", "offered"] == 2
    assert totals.loc["sales", "aht_s"] == pytest.approx((160 + 90 + 60) / 3)


def test_totals_and_filters(store: Store) -> None:
    total = summary(db=store.db, interval="hour", by="none")
    assert list(total.columns[:2]) == ["interval_start", "visits"]
    assert total["offered"].tolist() == [4, 2]
    only = summary(db=store.db, interval="range", filters={"queue": "support"})
    assert only["queue"].tolist() == ["support"]
    stricter = summary(db=store.db, interval="range", filters={"sl_threshold": 10, "queue": "sales"})
    assert stricter.iloc[0]["answered_within"] == 1                     # only c5's 5 s wait


def test_pre_aggregated_path_gives_the_same_answer(store: Store) -> None:
    raw = summary(db=store.db, filters={"source": "raw"})
    with pytest.raises(ReportError, match="not pre-aggregated"):
        summary(db=store.db, filters={"source": "rollup"})
    rollup.rebuild(store.db, pd.Timestamp(f"{DAY} 00:00", tz=TZ), pd.Timestamp("2026-03-11 00:00", tz=TZ))
    rolled = summary(db=store.db, filters={"source": "rollup"})
    pd.testing.assert_frame_equal(raw, rolled, check_dtype=False)
    mixed = run_report(store.db, "inbound_summary", start="2026-03-09 22:00", end=f"{DAY} 11:00", interval="30min",
                       tz=TZ)   # partly before the rebuilt range: both sources at once
    assert mixed[mixed["interval_start"] >= pd.Timestamp(f"{DAY} 09:00", tz=TZ)]["offered"].sum() == 6
    with pytest.raises(ReportError, match="other thresholds"):
        summary(db=store.db, filters={"source": "rollup", "sl_threshold": 10})


def test_record_interaction_end_keeps_the_table_current(store: Store) -> None:
    rollup.rebuild(store.db, pd.Timestamp(f"{DAY} 00:00", tz=TZ), pd.Timestamp("2026-03-11 00:00", tz=TZ))
    iid = store.interaction(f"{DAY} 10:40:00", queue="sales", answered=8)
    store.visit(iid, 1, "sales", f"{DAY} 10:40:00", wait=8, outcome="answered")
    with store.db.transaction() as cur:
        assert rollup.record_interaction_end(cur, iid) == 1
    with store.db.transaction() as cur:
        assert rollup.record_interaction_end(cur, iid) == 1              # a replay changes nothing
    rolled = summary(db=store.db, filters={"source": "rollup"})
    raw = summary(db=store.db, filters={"source": "raw"})
    assert row(rolled, "sales", "10:30")["answered"] == 1
    pd.testing.assert_frame_equal(raw, rolled, check_dtype=False)


def test_abandoned_calls_list(store: Store) -> None:
    frame = run_report(store.db, "abandoned_calls", start=DAY, end="2026-03-11", tz=TZ)
    assert frame["wait_s"].tolist() == [45.0, 20.0, 3.0]
    assert frame["short_abandon"].tolist() == [False, False, True]
    assert frame["called_again_24h"].tolist() == [False, True, False]     # c3's caller rang again (c4)
    assert frame["entered_at"].iloc[0] == pd.Timestamp(f"{DAY} 09:15", tz=TZ)


def test_repeat_calls(store: Store) -> None:
    frame = run_report(store.db, "repeat_calls", start=DAY, end="2026-03-11", interval="day", by="none", tz=TZ)
    assert frame.iloc[0]["calls"] >= 6 and frame.iloc[0]["repeat_24h"] == 1


def test_mistakes_say_what_to_change(store: Store) -> None:
    with pytest.raises(ReportError, match="unknown report 'inbound'"):
        run_report(store.db, "inbound", start=DAY, end="2026-03-11", tz=TZ)
    with pytest.raises(ReportError, match="cannot be grouped by 'agent'"):
        run_report(store.db, "inbound_summary", start=DAY, end="2026-03-11", by="agent", tz=TZ)
    with pytest.raises(ReportError, match="has no filter 'queues'; its filters are"):
        run_report(store.db, "inbound_summary", start=DAY, end="2026-03-11", filters={"queues": "x"}, tz=TZ)
