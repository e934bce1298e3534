"""The pre-aggregated slots against the raw visits, on a seeded random history:
both query shapes agree, and every report read from the slots equals the raw one."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from cti.db import Database
from reports import queries, rollup
from reports.catalog import run_report
from tests.reports.store import Store

START = pd.Timestamp("2026-10-31T00:00Z")
OUTCOMES = ["answered", "abandoned", "overflowed", "voicemail"]


@pytest.fixture(scope="module")
def history(db: Database) -> Iterator[Database]:
    rng = np.random.default_rng(42)
    s = Store(db, "UTC")
    for n in range(300):
        began = START + pd.Timedelta(seconds=float(rng.uniform(0, 2 * 86_400)))
        visits = int(rng.integers(1, 4))
        iid = s.interaction(began.strftime("%Y-%m-%d %H:%M:%S.%f"), transfers=int(rng.integers(0, visits + 1)),
                            caller=f"+1555{n % 40:04d}")
        entered = began
        for seq in range(1, visits + 1):
            queue = f"q{int(rng.integers(0, 3))}"
            outcome = OUTCOMES[int(rng.choice(4, p=[0.6, 0.3, 0.05, 0.05]))]
            wait = float(rng.choice([rng.uniform(0, 60), 5.0, 20.0, 2.0]))
            stamp = entered.strftime("%Y-%m-%d %H:%M:%S.%f")
            s.visit(iid, seq, queue, stamp, wait=wait, outcome=outcome)
            if outcome == "answered":
                talk = float(rng.uniform(10, 400))
                s.segment(iid, 1, "talk", (entered + pd.Timedelta(seconds=wait)).strftime("%Y-%m-%d %H:%M:%S.%f"),
                          talk, queue)
                entered += pd.Timedelta(seconds=wait + talk)
            else:
                entered += pd.Timedelta(seconds=wait)
    yield db


def test_range_and_few_visit_query_shapes_agree(history: Database) -> None:
    end = START + pd.Timedelta(days=2, hours=12)
    with queries.reading(history) as conn:
        bulk = pd.concat(queries.iter_visits(conn, queries.visit_params(START, end)), ignore_index=True)
        with conn.cursor() as cur:
            few = queries.cursor_visits(cur, queries.visit_params(START, end))
    order = ["entered", "queue_name"]
    pd.testing.assert_frame_equal(bulk.sort_values(order).reset_index(drop=True),
                                  few.sort_values(order).reset_index(drop=True))
    assert bulk["has_next"].any() and (bulk["talk_s"] > 0).any()


@pytest.mark.parametrize(("interval", "tz"), [("30min", "UTC"), ("hour", "Asia/Kathmandu"),
                                              ("30min", "America/New_York"), ("day", "Europe/Paris"),
                                              ("range", "UTC")])
def test_reports_from_slots_equal_reports_from_raw_visits(history: Database, interval: str, tz: str) -> None:
    rollup.rebuild(history, START - pd.Timedelta(days=1), START + pd.Timedelta(days=3))
    window = {"start": "2026-10-31T03:20", "end": "2026-11-02T05:00"}      # not on slot edges; DST in New York
    raw = run_report(history, "inbound_summary", interval=interval, tz=tz, filters={"source": "raw"}, **window)
    auto = run_report(history, "inbound_summary", interval=interval, tz=tz, **window)
    pd.testing.assert_frame_equal(raw, auto, check_dtype=False)
    assert raw["offered"].sum() > 100


def test_record_interaction_end_equals_a_rebuild(history: Database) -> None:
    rollup.rebuild(history, START, START + pd.Timedelta(days=3))
    with history.transaction() as cur:
        cur.execute("SELECT slot, queue_name, visits, answered, talk_s FROM report_queue_slots ORDER BY 1, 2")
        rebuilt = pd.DataFrame(cur.fetchall())
        cur.execute("DELETE FROM report_queue_slots")
        cur.execute("SELECT DISTINCT interaction_id::text AS id FROM queue_visits ORDER BY 1")
        ids = [row["id"] for row in cur.fetchall()]
        rollup.record_interaction_end(cur, ids[0])                              # one call ...
        rollup.record_interaction_end(cur, *ids[1:])                            # ... and a writer's batch
        cur.execute("SELECT slot, queue_name, visits, answered, talk_s FROM report_queue_slots ORDER BY 1, 2")
        pd.testing.assert_frame_equal(pd.DataFrame(cur.fetchall()), rebuilt)      # sums agree to rounding
