"""Benchmark: the 30-minute queue report over 90 days of 1,000,000 calls.

Starts its own embedded PostgreSQL, migrates it, loads N interactions (default
1,000,000) spread over 90 days with their queue visits (5% transferred to a second
queue) and agent segments by COPY from a plain psycopg2 connection, builds the
pre-aggregated 15-minute table, then times, in the same run:

- report: ``run_report("inbound_summary", interval="30min", by="queue")`` over the
  whole range, as the product runs it (auto source: the pre-aggregated slots);
- raw: the same report forced to read every raw visit in chunks (``source=raw``);
- loop: a plain per-row Python loop over the same visit rows (read with the same
  query, bucketed and summed row by row in dicts), the naive way to write it.

Prints the times and the loop / report ratio (target: report under 3 s and at least
20x faster than the loop), checks that the three agree, and writes the results into
bench/RESULTS.md (its own section). Usage::

    .venv/bin/python bench/reports.py [--rows 1000000] [--days 90]
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402
from cti.db import Database  # noqa: E402
from cti.embedded_pg import EmbeddedPostgres  # noqa: E402
from cti.migrations import migrate  # noqa: E402
from reports import queries, rollup  # noqa: E402
from reports.catalog import run_report  # noqa: E402
from reports.kpi import KpiRules  # noqa: E402

T = TypeVar("T")
TZ = "Europe/Paris"
FIRST_DAY = pd.Timestamp("2026-01-05", tz=TZ)
QUEUES = [f"queue{n:02d}" for n in range(10)]
CHUNK = 200_000


def _ids(numbers: np.ndarray) -> np.ndarray:
    return np.char.add("00000000-0000-4000-8000-", np.char.mod("%012x", numbers))


def _stamp(epoch: np.ndarray) -> np.ndarray:
    """Epoch seconds as timestamptz text for COPY (formatted by numpy: fast)."""
    micros = np.nan_to_num(np.round(np.asarray(epoch, dtype="float64") * 1e6))
    text = np.datetime_as_string(micros.astype("int64").astype("datetime64[us]"), unit="us")
    return np.where(np.isnan(epoch), "", np.char.add(text.astype(str), "+00"))


def _copy(conn: psycopg2.extensions.connection, table: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False)
    buffer.seek(0)
    with conn.cursor() as cur:
        cur.copy_expert(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN WITH (FORMAT csv)", buffer)


def _calls(rng: np.random.Generator, first: int, count: int, days: int) -> dict[str, np.ndarray]:
    """One chunk of synthetic calls: business-hours arrivals, exponential waits/talk."""
    day = rng.integers(0, days, count)
    second = np.clip(rng.normal(13.5 * 3600, 3 * 3600, count), 7 * 3600, 21 * 3600)
    start = FIRST_DAY.value / 1e9 + day * 86_400 + second
    wait = rng.exponential(25.0, count)
    kind = rng.random(count)
    answered = kind < 0.85
    abandoned = (kind >= 0.85) & (kind < 0.97)
    outcome = np.where(answered, "answered", np.where(abandoned, "abandoned", "voicemail"))
    talk = np.where(answered, rng.exponential(180.0, count), 0.0)
    hold = np.where(answered & (rng.random(count) < 0.3), 30.0, 0.0)
    wrapup = np.where(answered, 20.0, 0.0)
    transfer = answered & (rng.random(count) < 0.05)
    return {"n": np.arange(first, first + count), "start": start, "queue": rng.integers(0, len(QUEUES), count),
            "wait": wait, "outcome": outcome, "answered": answered, "talk": talk, "hold": hold, "wrapup": wrapup,
            "transfer": transfer, "caller": rng.integers(0, 300_000, count)}


def load(url: str, rows: int, days: int) -> int:
    """COPY ``rows`` interactions and their visits and segments; returns visit rows."""
    rng = np.random.default_rng(20260105)
    conn = psycopg2.connect(url)
    visits = 0
    queue_names = np.array(QUEUES)
    for first in range(0, rows, CHUNK):
        c = _calls(rng, first, min(CHUNK, rows - first), days)
        ids = _ids(c["n"])
        entered, answer_at = c["start"], c["start"] + c["wait"]
        end = answer_at + c["talk"] + c["hold"]
        second_queue = queue_names[(c["queue"] + 1) % len(QUEUES)]
        _copy(conn, "interactions", pd.DataFrame({
            "id": ids, "direction": "inbound", "did": "+33199990000",
            "caller_number": np.char.add("+3361", np.char.zfill(c["caller"].astype(str), 7)),
            "queue_name": np.where(c["transfer"], second_queue, queue_names[c["queue"]]),
            "started_at": _stamp(entered - 30), "queue_entered_at": _stamp(entered),
            "answered_at": _stamp(np.where(c["answered"], answer_at, np.nan)), "ended_at": _stamp(end),
            "talk_seconds": c["talk"], "hold_seconds": c["hold"], "wrapup_seconds": c["wrapup"],
            "transfers": c["transfer"].astype(int), "outcome": c["outcome"]}))
        visit = pd.DataFrame({"interaction_id": ids, "seq": 1, "queue_name": queue_names[c["queue"]],
                              "entered_at": _stamp(entered),
                              "answered_at": _stamp(np.where(c["answered"], answer_at, np.nan)),
                              "left_at": _stamp(answer_at), "outcome": c["outcome"]})
        t = c["transfer"]
        moved = pd.DataFrame({"interaction_id": ids[t], "seq": 2, "queue_name": second_queue[t],
                              "entered_at": _stamp(end[t]), "answered_at": _stamp(end[t] + 12),
                              "left_at": _stamp(end[t] + 12), "outcome": "answered"})
        _copy(conn, "queue_visits", pd.concat([visit, moved], ignore_index=True))
        visits += len(visit) + len(moved)
        a = c["answered"]
        segments = []
        for kind, offset, seconds in (("talk", 0.0, c["talk"]), ("hold", c["talk"], c["hold"]),
                                      ("wrapup", c["talk"] + c["hold"], c["wrapup"])):
            keep = a & (seconds > 0)
            begin = (answer_at + offset)[keep] if isinstance(offset, np.ndarray) else answer_at[keep]
            segments.append(pd.DataFrame({
                "interaction_id": ids[keep], "agent_id": c["n"][keep] % 200 + 1, "kind": kind,
                "started_at": _stamp(begin), "ended_at": _stamp(begin + seconds[keep]),
                "queue_name": queue_names[c["queue"]][keep]}))
        _copy(conn, "agent_segments", pd.concat(segments, ignore_index=True))
        conn.commit()
    with conn.cursor() as cur:
        cur.execute("ANALYZE")
    conn.commit()
    conn.close()
    return visits


def python_loop(url: str, start: pd.Timestamp, end: pd.Timestamp, rules: KpiRules) -> dict[tuple[str, datetime], int]:
    """The naive report: every visit row read and summed in Python, one at a time."""
    zone = ZoneInfo(TZ)
    sums: dict[tuple[str, datetime], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    conn = psycopg2.connect(url)
    with conn.cursor(name="loop") as cur:
        cur.itersize = queries.CHUNK_ROWS
        cur.execute(queries.VISITS_SQL, queries.visit_params(start.to_pydatetime(), end.to_pydatetime()))
        for queue, _did, entered, answered, left, outcome, has_next, transfers, queue_transfers, talk, hold, wrap in cur:
            local = datetime.fromtimestamp(entered, zone)
            bucket = local.replace(minute=30 if local.minute >= 30 else 0, second=0, microsecond=0)
            ended = answered if answered is not None else left
            wait = ended - entered if ended is not None else None
            row = sums[(queue, bucket)]
            short = outcome == "abandoned" and answered is None and wait is not None and wait < rules.short_abandon_s
            row["offered"] += 0 if short else 1
            if answered is not None:
                row["answered"] += 1
                row["answer_wait_s"] += wait
                row["answered_within"] += wait <= rules.threshold_for(queue)
                row["handle_s"] += talk + hold + wrap
                row["transferred"] += has_next or transfers > queue_transfers
            elif outcome == "abandoned" and not short:
                row["abandoned"] += 1
                row["abandoned_after"] += wait > rules.threshold_for(queue)
            row["longest_wait_s"] = max(row["longest_wait_s"], wait or 0.0)
    conn.close()
    return {key: int(v["offered"]) for key, v in sums.items()}


def timed(label: str, action: Callable[[], T]) -> tuple[float, T]:
    began = time.perf_counter()
    result = action()
    spent = time.perf_counter() - began
    print(f"{label:<44} {spent:8.2f} s", flush=True)
    return spent, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="interactions to generate (10000000 if time allows)")
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    start, end = FIRST_DAY, FIRST_DAY + pd.Timedelta(days=args.days)
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as folder:
        cluster = EmbeddedPostgres(Path(folder))
        url = cluster.start()
        try:
            db = Database(url, size=2)
            migrate(db)
            print(f"{args.rows:,} interactions over {args.days} days, {len(QUEUES)} queues, zone {TZ}")
            load_s, visits = timed("load (COPY)", lambda: load(url, args.rows, args.days))
            rebuild_s, slots = timed("build the 15-minute roll-up (once)", lambda: rollup.rebuild(url, start, end))
            report = lambda source: run_report(url, "inbound_summary", start=start, end=end,  # noqa: E731
                                               interval="30min", by="queue", tz=TZ, filters={"source": source})
            report_s, frame = timed("report: 30min by queue, whole range", lambda: report("auto"))
            raw_s, raw = timed("same report from raw visits (chunked pandas)", lambda: report("raw"))
            rules = KpiRules()
            loop_s, loop = timed("plain per-row Python loop", lambda: python_loop(url, start, end, rules))
            db.close()
        finally:
            cluster.close()
    pd.testing.assert_frame_equal(frame, raw, check_dtype=False)
    looped = pd.Series(loop).sum()
    assert looped == frame["offered"].sum(), (looped, frame["offered"].sum())
    ratio = loop_s / report_s
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdict = "meets" if report_s < 3 and ratio >= 20 else "MISSES"
    print(f"loop / report = {ratio:.1f}x  raw / report = {raw_s / report_s:.1f}x  ({verdict} the target: < 3 s and >= 20x)")
    print(f"rows out: {len(frame):,}  visits: {visits:,}  slots: {slots:,}  peak RSS {peak_mb:,.0f} MB")
    harness.write_section("reports", "Reports (bench/reports.py)", f"""
{args.rows:,} interactions ({visits:,} queue visits, 5% transferred to a second queue) over {args.days} days,
{len(QUEUES)} queues, zone {TZ}; {harness.machine()}, embedded PostgreSQL.
Report: `inbound_summary`, 30-minute intervals by queue over the whole range ({len(frame):,} rows).

| step | seconds |
| --- | ---: |
| load by COPY (setup) | {load_s:.1f} |
| build the 15-minute roll-up once ({slots:,} slot rows; afterwards kept current per call) | {rebuild_s:.1f} |
| **report** (auto source: pre-aggregated slots) | **{report_s:.2f}** |
| same report from raw visits, chunked pandas (`source=raw`) | {raw_s:.2f} |
| plain per-row Python loop over the same visit rows | {loop_s:.2f} |

loop / report = **{ratio:.1f}x**; raw / report = {raw_s / report_s:.1f}x; loop / raw = {loop_s / raw_s:.1f}x.
Target (report under 3 s, at least 20x the loop): **{verdict}**. The three results agree
(offered calls: {int(looped):,}). Peak RSS of the whole run: {peak_mb:,.0f} MB.
""")


if __name__ == "__main__":
    main()
