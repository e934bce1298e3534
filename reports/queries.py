"""Reading the store for reports: fixed SQL with bound parameters, read in chunks.

Large reads go through a server-side (named) cursor and come back as DataFrames of at
most :data:`CHUNK_ROWS` rows, so a report over months keeps a bounded amount in memory:
the callers reduce each chunk to partial sums before reading the next. Times are
selected as epoch seconds (``date_part('epoch', ...)``, a float8) because building
millions of ``datetime`` objects costs more than the query.

Optional filters are written as ``(%(x)s IS NULL OR column = ANY(%(x)s))`` so the SQL
text never changes with the request (no string building, nothing to inject).

``db`` may be a :class:`cti.db.Database` pool, a database URL, or an open psycopg2
connection (which the caller owns: it is used as is and never closed).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd
import psycopg2
import psycopg2.extensions

from reports.kpi import MEASURES, KpiRules

#: Rows per chunk read from a server-side cursor.
CHUNK_ROWS = 100_000

DbLike = Any  # cti.db.Database | str | psycopg2 connection


@contextlib.contextmanager
def reading(db: DbLike) -> Iterator[Any]:
    """A connection for a read-only unit of work, ended (rolled back) afterwards."""
    if isinstance(db, str):
        conn = psycopg2.connect(db)
        try:
            yield conn
        finally:
            conn.close()
        return
    if hasattr(db, "connection") and hasattr(db, "transaction"):
        with db.connection() as conn:
            try:
                yield conn
            finally:
                conn.rollback()
        return
    restore = db.autocommit
    if restore:
        db.autocommit = False
    try:
        yield db
    finally:
        if restore:
            db.rollback()
            db.autocommit = True


def _params(params: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, pd.Timestamp):
            out[key] = value.to_pydatetime()
        elif isinstance(value, tuple):
            out[key] = list(value)
        else:
            out[key] = value
    return out


def iter_frames(conn: Any, sql: str, params: Mapping[str, Any], columns: Sequence[str],
                chunk_rows: int | None = None) -> Iterator[pd.DataFrame]:
    """Run ``sql`` on a server-side cursor and yield DataFrames of ``chunk_rows`` rows
    (default :data:`CHUNK_ROWS`)."""
    chunk_rows = chunk_rows or CHUNK_ROWS
    name = f"report_{uuid.uuid4().hex[:16]}"
    with conn.cursor(name=name, cursor_factory=psycopg2.extensions.cursor) as cur:
        cur.itersize = chunk_rows
        cur.execute(sql, _params(params))
        while True:
            rows = cur.fetchmany(chunk_rows)
            if not rows:
                return
            yield pd.DataFrame.from_records(rows, columns=list(columns))


def read_frame(conn: Any, sql: str, params: Mapping[str, Any], columns: Sequence[str]) -> pd.DataFrame:
    """The whole result as one DataFrame (for results bounded by their nature)."""
    chunks = list(iter_frames(conn, sql, params, columns))
    if not chunks:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return pd.concat(chunks, ignore_index=True)


def cursor_frame(cur: Any, sql: str, params: Mapping[str, Any], columns: Sequence[str]) -> pd.DataFrame:
    """Run ``sql`` in the transaction of the caller's cursor and return a DataFrame.

    The query runs on a plain (tuple) cursor of the same connection: dict cursors
    would merge columns that share a name.
    """
    with cur.connection.cursor(cursor_factory=psycopg2.extensions.cursor) as plain:
        plain.execute(sql, _params(params))
        rows = plain.fetchall()
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return pd.DataFrame.from_records(rows, columns=list(columns))


def table_exists(conn: Any, name: str) -> bool:
    with conn.cursor(cursor_factory=psycopg2.extensions.cursor) as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", (name,))
        return bool(cur.fetchone()[0])


# -- site configuration -------------------------------------------------------------

RULES_SQL = """
SELECT name, (settings->>'service_level')::float8 FROM queues
 WHERE settings ? 'service_level' AND jsonb_typeof(settings->'service_level') = 'number'"""


def load_rules(cur: Any) -> KpiRules:
    """The site's KPI rules: each queue's ``service_level`` setting (seconds) as T."""
    frame = cursor_frame(cur, RULES_SQL, {}, ("name", "threshold"))
    return KpiRules(sl_threshold_by_queue={str(n): float(t) for n, t in zip(frame["name"], frame["threshold"], strict=True)})


def configured_queues(cur: Any) -> list[str]:
    """Names of the queues in the site configuration."""
    frame = cursor_frame(cur, "SELECT name FROM queues ORDER BY name", {}, ("name",))
    return [str(name) for name in frame["name"]]


# -- queue visits ---------------------------------------------------------------------

#: Columns of :data:`VISITS_SQL` (those of :data:`reports.kpi.VISIT_COLUMNS` plus did).
VISIT_SQL_COLUMNS = ("queue_name", "did", "entered", "answered", "left", "outcome", "has_next", "transfers",
                     "queue_transfers", "talk_s", "hold_s", "wrapup_s")

# Two shapes of one query. VISITS_SQL serves ranges: it reads each table once over
# the range (hash/merge joins), assuming that an interaction's queue visits lie within
# a day of each other and that its agent segments start within a day after the range.
# VISITS_OF_FEW_SQL serves the handful of visits of one slot (record_interaction_end):
# index lookups by interaction id. tests/reports check that they agree.
#
# Per visit: has_next (another visit of the interaction follows) and queue_transfers
# (how many of the interaction's answered visits were followed by another visit:
# answered visits, less the last visit when it was answered) feed the transfer rule
# of reports.kpi; talk/hold/wrap-up are the agent segments tagged with the visit's queue.

VISITS_SQL = """
WITH g AS (
    SELECT a.interaction_id, max(a.seq) AS last_seq,
           count(*) FILTER (WHERE a.answered_at IS NOT NULL)
             - ((array_agg(a.answered_at IS NOT NULL ORDER BY a.seq DESC))[1])::int AS queue_transfers
      FROM queue_visits a
     WHERE a.entered_at >= %(start)s::timestamptz - interval '1 day'
       AND a.entered_at < %(end)s::timestamptz + interval '1 day'
     GROUP BY a.interaction_id
), seg AS (
    SELECT s.interaction_id, s.queue_name,
           sum(date_part('epoch', s.ended_at - s.started_at)) FILTER (WHERE s.kind = 'talk') AS talk_s,
           sum(date_part('epoch', s.ended_at - s.started_at)) FILTER (WHERE s.kind = 'hold') AS hold_s,
           sum(date_part('epoch', s.ended_at - s.started_at)) FILTER (WHERE s.kind = 'wrapup') AS wrapup_s
      FROM agent_segments s
     WHERE s.started_at >= %(start)s AND s.started_at < %(end)s::timestamptz + interval '1 day'
       AND s.ended_at IS NOT NULL
     GROUP BY s.interaction_id, s.queue_name
)
SELECT v.queue_name, coalesce(i.did, ''), date_part('epoch', v.entered_at), date_part('epoch', v.answered_at),
       date_part('epoch', v.left_at), v.outcome, v.seq < g.last_seq, coalesce(i.transfers, 0), g.queue_transfers,
       coalesce(seg.talk_s, 0), coalesce(seg.hold_s, 0), coalesce(seg.wrapup_s, 0)
  FROM queue_visits v
  JOIN g ON g.interaction_id = v.interaction_id
  LEFT JOIN interactions i ON i.id = v.interaction_id
  LEFT JOIN seg ON seg.interaction_id = v.interaction_id AND seg.queue_name = v.queue_name
 WHERE v.entered_at >= %(start)s AND v.entered_at < %(end)s
   AND (%(queues)s::text[] IS NULL OR v.queue_name = ANY(%(queues)s::text[]))
   AND (%(did)s::text IS NULL OR i.did = %(did)s::text)"""

VISITS_OF_FEW_SQL = """
WITH v AS (
    SELECT qv.interaction_id, qv.seq, qv.queue_name, qv.entered_at, qv.answered_at, qv.left_at, qv.outcome
      FROM queue_visits qv
     WHERE qv.entered_at >= %(start)s AND qv.entered_at < %(end)s
       AND (%(queues)s::text[] IS NULL OR qv.queue_name = ANY(%(queues)s::text[]))
), g AS (
    SELECT a.interaction_id, max(a.seq) AS last_seq,
           count(*) FILTER (WHERE a.answered_at IS NOT NULL)
             - ((array_agg(a.answered_at IS NOT NULL ORDER BY a.seq DESC))[1])::int AS queue_transfers
      FROM queue_visits a
     WHERE a.interaction_id IN (SELECT interaction_id FROM v)
     GROUP BY a.interaction_id
), seg AS (
    SELECT s.interaction_id, s.queue_name,
           sum(date_part('epoch', s.ended_at - s.started_at)) FILTER (WHERE s.kind = 'talk') AS talk_s,
           sum(date_part('epoch', s.ended_at - s.started_at)) FILTER (WHERE s.kind = 'hold') AS hold_s,
           sum(date_part('epoch', s.ended_at - s.started_at)) FILTER (WHERE s.kind = 'wrapup') AS wrapup_s
      FROM agent_segments s
     WHERE s.interaction_id IN (SELECT interaction_id FROM v) AND s.ended_at IS NOT NULL
     GROUP BY s.interaction_id, s.queue_name
)
SELECT v.queue_name, coalesce(i.did, ''), date_part('epoch', v.entered_at), date_part('epoch', v.answered_at),
       date_part('epoch', v.left_at), v.outcome, v.seq < g.last_seq, coalesce(i.transfers, 0), g.queue_transfers,
       coalesce(seg.talk_s, 0), coalesce(seg.hold_s, 0), coalesce(seg.wrapup_s, 0)
  FROM v
  JOIN g ON g.interaction_id = v.interaction_id
  LEFT JOIN interactions i ON i.id = v.interaction_id
  LEFT JOIN seg ON seg.interaction_id = v.interaction_id AND seg.queue_name = v.queue_name
 WHERE (%(did)s::text IS NULL OR i.did = %(did)s::text)"""


def _typed_visits(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("entered", "answered", "left", "talk_s", "hold_s", "wrapup_s"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in ("transfers", "queue_transfers"):
        frame[column] = frame[column].astype("int64")
    frame["has_next"] = frame["has_next"].astype(bool)
    return frame


def visit_params(start: Any, end: Any, queues: Sequence[str] | None = None, did: str | None = None) -> dict[str, Any]:
    return {"start": start, "end": end, "queues": list(queues) if queues else None, "did": did}


def iter_visits(conn: Any, params: Mapping[str, Any]) -> Iterator[pd.DataFrame]:
    """Queue visits entered in ``[start, end)`` with what the KPIs need, in chunks."""
    for frame in iter_frames(conn, VISITS_SQL, params, VISIT_SQL_COLUMNS):
        yield _typed_visits(frame)


def cursor_visits(cur: Any, params: Mapping[str, Any]) -> pd.DataFrame:
    """:func:`iter_visits` for a few visits (one slot of a few queues), on the
    caller's cursor, in one piece."""
    return _typed_visits(cursor_frame(cur, VISITS_OF_FEW_SQL, params, VISIT_SQL_COLUMNS))


# -- the pre-aggregated slots (sql/005_reports.sql) -----------------------------------

SLOT_COLUMNS = ("slot", "queue_name", *MEASURES)

SLOTS_SQL = """
SELECT date_part('epoch', slot), queue_name, visits, offered, answered, abandoned, short_abandoned,
       answered_within, abandoned_after, overflowed, voicemail, callback, transferred, answer_wait_s,
       abandon_wait_s, waited_s, talk_s, hold_s, wrapup_s, longest_wait_s
  FROM report_queue_slots
 WHERE slot >= %(start)s AND slot < %(end)s
   AND (%(queues)s::text[] IS NULL OR queue_name = ANY(%(queues)s::text[]))"""

RANGES_SQL = "SELECT date_part('epoch', range_start), date_part('epoch', range_end) FROM report_rollup_ranges ORDER BY 1"


def iter_slots(conn: Any, params: Mapping[str, Any]) -> Iterator[pd.DataFrame]:
    yield from iter_frames(conn, SLOTS_SQL, params, SLOT_COLUMNS)


def rollup_ranges(conn: Any) -> list[tuple[float, float]]:
    """The slot ranges known complete in ``report_queue_slots`` (epoch seconds)."""
    with conn.cursor(cursor_factory=psycopg2.extensions.cursor) as cur:
        cur.execute(RANGES_SQL)
        return [(float(a), float(b)) for a, b in cur.fetchall()]
