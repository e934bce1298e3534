"""The pre-aggregated queue table (``report_queue_slots``, sql/005_reports.sql).

Two writers keep it right:

- :func:`record_interaction_end` -- the store writer calls it in the transaction that
  writes an interaction's queue visits and agent segments, when the call ends and again
  when its wrap-up ends. It recomputes the slots the interaction touched from the raw
  rows (recompute, not increment: replays and late corrections are harmless).
- :func:`rebuild` -- recomputes every slot of a range from the raw tables, in steps of
  a week so memory stays bounded, and records the range as complete in
  ``report_rollup_ranges``. Run it once for the history that predates the table, and
  daily for the day before (:func:`reports.jobs.rollup_daily`), which also picks up
  calls whose writer did not call :func:`record_interaction_end`.

Reports use a slot only inside a complete range and only when its thresholds are the
ones asked for (see :mod:`reports.queue_reports`); everything else comes from the raw
visits, so a stale or missing table makes a report slower, never wrong.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import psycopg2.extensions
import psycopg2.extras

from reports import queries
from reports.intervals import SLOT_SECONDS, merge_ranges, slot_ceil, slot_floor
from reports.kpi import (
    MEASURES,
    SUM_MEASURES,
    KpiRules,
    combine_measures,
    queue_measures,
    visit_facts,
)

log = logging.getLogger(__name__)

#: Days recomputed per transaction by :func:`rebuild`.
REBUILD_STEP_DAYS = 7

_COLUMNS = ("slot", "queue_name", "sl_threshold_s", "short_abandon_s", *MEASURES)
_INTEGER_MEASURES = tuple(m for m in SUM_MEASURES if not m.endswith("_s"))

UPSERT_SQL = """
INSERT INTO report_queue_slots (slot, queue_name, sl_threshold_s, short_abandon_s, visits, offered, answered,
       abandoned, short_abandoned, answered_within, abandoned_after, overflowed, voicemail, callback, transferred,
       answer_wait_s, abandon_wait_s, waited_s, talk_s, hold_s, wrapup_s, longest_wait_s)
VALUES %s
ON CONFLICT (slot, queue_name) DO UPDATE SET
       sl_threshold_s = EXCLUDED.sl_threshold_s, short_abandon_s = EXCLUDED.short_abandon_s,
       visits = EXCLUDED.visits, offered = EXCLUDED.offered, answered = EXCLUDED.answered,
       abandoned = EXCLUDED.abandoned, short_abandoned = EXCLUDED.short_abandoned,
       answered_within = EXCLUDED.answered_within, abandoned_after = EXCLUDED.abandoned_after,
       overflowed = EXCLUDED.overflowed, voicemail = EXCLUDED.voicemail, callback = EXCLUDED.callback,
       transferred = EXCLUDED.transferred, answer_wait_s = EXCLUDED.answer_wait_s,
       abandon_wait_s = EXCLUDED.abandon_wait_s, waited_s = EXCLUDED.waited_s, talk_s = EXCLUDED.talk_s,
       hold_s = EXCLUDED.hold_s, wrapup_s = EXCLUDED.wrapup_s, longest_wait_s = EXCLUDED.longest_wait_s,
       computed_at = now()"""

VALUES_TEMPLATE = "(to_timestamp(%s), " + ", ".join(["%s"] * (len(_COLUMNS) - 1)) + ")"

TOUCHED_SQL = """
SELECT DISTINCT queue_name, floor(date_part('epoch', entered_at) / 900) * 900
  FROM queue_visits WHERE interaction_id = ANY(%(ids)s::uuid[])"""

DELETE_SLOT_SQL = """
DELETE FROM report_queue_slots WHERE slot = to_timestamp(%(slot)s) AND queue_name = ANY(%(queues)s::text[])"""

DELETE_RANGE_SQL = "DELETE FROM report_queue_slots WHERE slot >= to_timestamp(%(start)s) AND slot < to_timestamp(%(end)s)"


def slot_measures(visits: pd.DataFrame, rules: KpiRules) -> pd.DataFrame:
    """Measures per (slot, queue_name) for raw visits (see :mod:`reports.kpi`)."""
    facts = visit_facts(visits, rules)
    facts["slot"] = np.floor(facts["entered"].to_numpy(dtype="float64") / SLOT_SECONDS) * SLOT_SECONDS
    return queue_measures(facts, ["slot", "queue_name"])


def _rows(measures: pd.DataFrame, rules: KpiRules) -> list[tuple[Any, ...]]:
    queues = measures["queue_name"].astype(str).tolist()
    thresholds = [rules.threshold_for(q) for q in queues]
    shorts = [float(rules.short_abandon_s)] * len(queues)
    values = [measures[m].astype("int64" if m in _INTEGER_MEASURES else "float64").tolist() for m in MEASURES]
    return list(zip(measures["slot"].astype("float64").tolist(), queues, thresholds, shorts, *values, strict=True))


def _write(cur: Any, measures: pd.DataFrame, rules: KpiRules) -> int:
    rows = _rows(measures, rules)
    if rows:
        psycopg2.extras.execute_values(cur, UPSERT_SQL, rows, template=VALUES_TEMPLATE, page_size=1000)
    return len(rows)


def record_interaction_end(cur: Any, *interaction_ids: str, rules: KpiRules | None = None) -> int:
    """Recompute the slots of every queue visit of the given interactions; returns
    the slot rows written.

    Call it inside the store writer's transaction, after the interactions'
    ``queue_visits`` and ``agent_segments`` rows are written (on ``call.ended`` and on
    ``call.wrapup_ended``); pass a whole batch at once, each slot is then recomputed
    once. ``rules`` default to the queues' configured thresholds. Idempotent: a replay
    recomputes the same figures.
    """
    touched = queries.cursor_frame(cur, TOUCHED_SQL, {"ids": list(interaction_ids)}, ("queue_name", "slot"))
    if touched.empty:
        return 0
    rules = rules or queries.load_rules(cur)
    written = 0
    slots = touched["slot"].astype("float64")
    for start in sorted(set(slots.tolist())):
        queue_names = sorted(touched.loc[slots == start, "queue_name"].astype(str).unique())
        params = queries.visit_params(pd.Timestamp(start, unit="s", tz="UTC"),
                                      pd.Timestamp(start + SLOT_SECONDS, unit="s", tz="UTC"), queue_names)
        visits = queries.cursor_visits(cur, params)
        cur.execute(DELETE_SLOT_SQL, {"slot": start, "queues": queue_names})
        written += _write(cur, slot_measures(visits, rules), rules)
    return written


@contextlib.contextmanager
def _writing(db: queries.DbLike) -> Iterator[Any]:
    """A connection whose work is committed at the end (rolled back on error)."""
    with queries.reading(db) as conn:
        yield conn
        conn.commit()


def _steps(start: float, end: float) -> Iterator[tuple[float, float]]:
    step = REBUILD_STEP_DAYS * 86_400
    cursor = start
    while cursor < end:
        yield cursor, min(cursor + step, end)
        cursor += step


def _record_range(cur: Any, start: float, end: float) -> None:
    cur.execute(queries.RANGES_SQL)
    ranges = [(float(a), float(b)) for a, b in cur.fetchall()]
    cur.execute("DELETE FROM report_rollup_ranges")
    for a, b in merge_ranges([*ranges, (start, end)]):
        cur.execute("INSERT INTO report_rollup_ranges (range_start, range_end) VALUES (to_timestamp(%s), to_timestamp(%s))",
                    (a, b))


def rebuild(db: queries.DbLike, start: pd.Timestamp, end: pd.Timestamp, rules: KpiRules | None = None) -> int:
    """Recompute every slot in ``[start, end)`` (widened to whole slots); rows written.

    Each week of the range is read in chunks, reduced to slot measures, written and
    committed before the next, so memory does not grow with the range.
    """
    first, last = slot_floor(start.value / 1e9), slot_ceil(end.value / 1e9)
    written = 0
    for a, b in _steps(first, last):
        with _writing(db) as conn:
            with conn.cursor(cursor_factory=psycopg2.extensions.cursor) as cur:
                step_rules = rules or queries.load_rules(cur)
            params = queries.visit_params(pd.Timestamp(a, unit="s", tz="UTC"), pd.Timestamp(b, unit="s", tz="UTC"))
            parts = [slot_measures(chunk, step_rules) for chunk in queries.iter_visits(conn, params)]
            measures = combine_measures(parts, ["slot", "queue_name"])
            with conn.cursor(cursor_factory=psycopg2.extensions.cursor) as cur:
                cur.execute(DELETE_RANGE_SQL, {"start": a, "end": b})
                written += _write(cur, measures, step_rules)
                _record_range(cur, a, b)
    log.info("report roll-up rebuilt", extra={"start": start.isoformat(), "end": end.isoformat(), "rows": written})
    return written
