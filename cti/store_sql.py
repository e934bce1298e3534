"""The idempotent SQL of the store writer: one :class:`cti.store_records.Plan` written
with a handful of multi-row statements inside the caller's transaction.

Every statement can run twice with the same rows and change nothing more:

* timeline and agent history: ``ON CONFLICT (event_id) DO NOTHING``;
* ``interactions`` from ``call.created``: ``DO NOTHING`` (any later record knows more);
* full records: ``DO UPDATE ... WHERE interactions.revision <= EXCLUDED.revision``, and
  only the interactions that statement actually wrote (``RETURNING``) get their legs,
  offers, segments, queue visits and recordings upserted under natural keys, followed
  by :func:`reports.rollup.record_interaction_end` for them;
* non-final wrap-ups: the same revision guard.

Foreign keys to ``agents`` and ``customers`` are resolved in SQL (an agent deleted
since the call gives NULL, not a failed batch); the customer comes from the number's
spellings computed by :func:`cti.store_records.customer_numbers`. The roll-up runs in
a savepoint: if it fails the rows are still written and the daily rebuild catches up.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg2
import psycopg2.extras

from cti import store_records as sr
from reports.rollup import record_interaction_end

log = logging.getLogger(__name__)

_AGENT = "(SELECT id FROM agents WHERE id = %s)"
_CUSTOMER = "(SELECT customer_id FROM customer_numbers WHERE number = ANY(%s::text[]) LIMIT 1)"

INSERT_CREATED = """
INSERT INTO interactions (id, node, direction, did, caller_number, caller_name, callee_number, customer_id,
                          campaign_id, contact_id, queue_name, started_at, revision)
VALUES %s ON CONFLICT (id) DO NOTHING"""
CREATED_TEMPLATE = f"(%s, %s, %s, %s, %s, %s, %s, {_CUSTOMER}, %s, %s, %s, to_timestamp(%s), %s)"

UPSERT_FULL = """
INSERT INTO interactions (id, node, direction, did, caller_number, caller_name, callee_number, customer_id,
       campaign_id, contact_id, flow_name, ivr_path, digits, queue_name, agent_id, started_at, queue_entered_at,
       offered_at, answered_at, abandoned_at, ended_at, wrapup_ended_at, talk_seconds, hold_seconds,
       wrapup_seconds, transfers, outcome, disposition, notes, hangup_cause, hangup_by, vars, revision)
VALUES %s
ON CONFLICT (id) DO UPDATE SET
       node = EXCLUDED.node, direction = EXCLUDED.direction, did = EXCLUDED.did,
       caller_number = EXCLUDED.caller_number, caller_name = EXCLUDED.caller_name,
       callee_number = EXCLUDED.callee_number,
       customer_id = COALESCE(EXCLUDED.customer_id, interactions.customer_id),
       campaign_id = EXCLUDED.campaign_id, contact_id = EXCLUDED.contact_id, flow_name = EXCLUDED.flow_name,
       ivr_path = EXCLUDED.ivr_path, digits = EXCLUDED.digits, queue_name = EXCLUDED.queue_name,
       agent_id = EXCLUDED.agent_id, started_at = EXCLUDED.started_at,
       queue_entered_at = EXCLUDED.queue_entered_at, offered_at = EXCLUDED.offered_at,
       answered_at = EXCLUDED.answered_at, abandoned_at = EXCLUDED.abandoned_at, ended_at = EXCLUDED.ended_at,
       wrapup_ended_at = EXCLUDED.wrapup_ended_at, talk_seconds = EXCLUDED.talk_seconds,
       hold_seconds = EXCLUDED.hold_seconds, wrapup_seconds = EXCLUDED.wrapup_seconds,
       transfers = EXCLUDED.transfers, outcome = EXCLUDED.outcome, disposition = EXCLUDED.disposition,
       notes = EXCLUDED.notes, hangup_cause = EXCLUDED.hangup_cause, hangup_by = EXCLUDED.hangup_by,
       vars = interactions.vars || EXCLUDED.vars, revision = EXCLUDED.revision, updated_at = now()
 WHERE interactions.revision <= EXCLUDED.revision
RETURNING id::text"""
FULL_TEMPLATE = (
    f"(%s, %s, %s, %s, %s, %s, %s, {_CUSTOMER}, %s, %s, %s, %s, %s, %s, {_AGENT}, "
    "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)

UPDATE_PARTIAL = """
UPDATE interactions SET disposition = COALESCE(NULLIF(%s, ''), disposition), notes = COALESCE(NULLIF(%s, ''), notes),
       revision = %s, updated_at = now()
 WHERE id = %s AND revision <= %s"""

UPSERT_LEGS = """
INSERT INTO legs (uuid, interaction_id, node, role, agent_id, channel_name, created_at, answered_at, ended_at,
                  hangup_cause)
VALUES %s
ON CONFLICT (uuid) DO UPDATE SET
       interaction_id = EXCLUDED.interaction_id, node = EXCLUDED.node, role = EXCLUDED.role,
       agent_id = EXCLUDED.agent_id, channel_name = EXCLUDED.channel_name, created_at = EXCLUDED.created_at,
       answered_at = EXCLUDED.answered_at, ended_at = EXCLUDED.ended_at, hangup_cause = EXCLUDED.hangup_cause"""
LEG_TEMPLATE = f"(%s, %s, %s, %s, {_AGENT}, %s, %s, %s, %s, %s)"

UPSERT_OFFERS = """
INSERT INTO agent_offers (interaction_id, leg_uuid, agent_id, queue_name, offered_at, ended_at, outcome)
VALUES %s
ON CONFLICT (leg_uuid) DO UPDATE SET
       interaction_id = EXCLUDED.interaction_id, agent_id = EXCLUDED.agent_id, queue_name = EXCLUDED.queue_name,
       offered_at = EXCLUDED.offered_at, ended_at = EXCLUDED.ended_at, outcome = EXCLUDED.outcome"""

UPSERT_SEGMENTS = """
INSERT INTO agent_segments (interaction_id, agent_id, kind, started_at, ended_at, queue_name)
VALUES %s
ON CONFLICT (interaction_id, agent_id, kind, started_at) DO UPDATE SET
       ended_at = EXCLUDED.ended_at, queue_name = EXCLUDED.queue_name"""

UPSERT_VISITS = """
INSERT INTO queue_visits (interaction_id, seq, queue_name, entered_at, priority, answered_at, left_at, outcome,
                          agent_id)
VALUES %s
ON CONFLICT (interaction_id, seq) DO UPDATE SET
       queue_name = EXCLUDED.queue_name, entered_at = EXCLUDED.entered_at, priority = EXCLUDED.priority,
       answered_at = EXCLUDED.answered_at, left_at = EXCLUDED.left_at, outcome = EXCLUDED.outcome,
       agent_id = EXCLUDED.agent_id"""

UPSERT_RECORDINGS = """
INSERT INTO recordings (id, interaction_id, leg_uuid, agent_id, queue_name, caller_number, path, started_at,
                        ended_at, duration_ms, size_bytes)
VALUES %s
ON CONFLICT (id) DO UPDATE SET
       leg_uuid = EXCLUDED.leg_uuid, agent_id = EXCLUDED.agent_id, queue_name = EXCLUDED.queue_name,
       caller_number = EXCLUDED.caller_number, path = EXCLUDED.path,
       ended_at = COALESCE(EXCLUDED.ended_at, recordings.ended_at),
       duration_ms = COALESCE(EXCLUDED.duration_ms, recordings.duration_ms),
       size_bytes = COALESCE(EXCLUDED.size_bytes, recordings.size_bytes)"""

INSERT_TIMELINE = """
INSERT INTO interaction_events (event_id, interaction_id, at, type, agent_id, data)
VALUES %s ON CONFLICT (event_id) DO NOTHING"""
TIMELINE_TEMPLATE = "(%s, %s, to_timestamp(%s), %s, %s, %s)"

INSERT_AGENT_HISTORY = """
INSERT INTO agent_state_history (event_id, agent_id, at, state, reason, extension, interaction_id, previous_state)
VALUES %s ON CONFLICT (event_id) DO NOTHING"""
AGENT_TEMPLATE = "(%s, %s, to_timestamp(%s), %s, %s, %s, %s, %s)"

_PAGE = 100


@dataclass
class Written:
    """What one :func:`write_plan` changed (for the writer's stats)."""

    interactions: int = 0
    rolled_up: int = 0
    rollup_failed: bool = False


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode("utf-8")


def _values(cur: Any, sql: str, rows: Sequence[tuple[Any, ...]], template: str | None = None,
            fetch: bool = False) -> list[Any]:
    if not rows:
        return []
    result = psycopg2.extras.execute_values(cur, sql, rows, template=template, page_size=_PAGE, fetch=fetch)
    return list(result or [])


def write_plan(cur: Any, plan: sr.Plan, region: str | None = None) -> Written:
    """Write ``plan`` in the caller's transaction (see the module docstring).

    Raises what psycopg2 raises; the caller decides between retrying (connection
    lost) and isolating a bad record (anything else).
    """
    written = Written()
    _values(cur, INSERT_CREATED, plan.created, CREATED_TEMPLATE)
    full_ids = _write_full(cur, plan, region)
    written.interactions = len(full_ids)
    if plan.partial:
        psycopg2.extras.execute_batch(cur, UPDATE_PARTIAL, [
            (disposition, notes, rev, iid, rev) for iid, disposition, notes, rev in plan.partial
        ], page_size=_PAGE)
    timeline = [(*row[:5], _json(row[5])) for row in sr.unique_by(plan.timeline, slice(0, 1))]
    _values(cur, INSERT_TIMELINE, timeline, TIMELINE_TEMPLATE)
    _values(cur, INSERT_AGENT_HISTORY, sr.unique_by(plan.agent_history, slice(0, 1)), AGENT_TEMPLATE)
    if full_ids:
        written.rolled_up, written.rollup_failed = _roll_up(cur, full_ids)
    return written


def _write_full(cur: Any, plan: sr.Plan, region: str | None) -> list[str]:
    if not plan.full:
        return []
    rows = []
    for iid, (rev, record) in plan.full.items():
        row = list(sr.interaction_row(iid, rev, record, region))
        row[11] = _json(row[11])   # ivr_path
        row[31] = _json(row[31])   # vars
        rows.append(tuple(row))
    ids = [r["id"] if isinstance(r, dict) else r[0] for r in _values(cur, UPSERT_FULL, rows, FULL_TEMPLATE, True)]
    current = [(iid, plan.full[iid][1]) for iid in ids]
    _values(cur, UPSERT_LEGS, sr.unique_by([x for i, r in current for x in sr.leg_rows(i, r)], slice(0, 1)),
            LEG_TEMPLATE)
    _values(cur, UPSERT_OFFERS, sr.unique_by([x for i, r in current for x in sr.offer_rows(i, r)], slice(1, 2)))
    _values(cur, UPSERT_SEGMENTS,
            sr.unique_by([x for i, r in current for x in sr.segment_rows(i, r)], slice(0, 4)))
    _values(cur, UPSERT_VISITS, sr.unique_by([x for i, r in current for x in sr.visit_rows(i, r)], slice(0, 2)))
    _values(cur, UPSERT_RECORDINGS,
            sr.unique_by([x for i, r in current for x in sr.recording_rows(i, r)], slice(0, 1)))
    return ids


def _roll_up(cur: Any, interaction_ids: list[str]) -> tuple[int, bool]:
    """The report slots of these interactions, in a savepoint (see the module docstring)."""
    cur.execute("SAVEPOINT store_rollup")
    try:
        slots = record_interaction_end(cur, *interaction_ids)
    except (psycopg2.OperationalError, psycopg2.InterfaceError):
        raise
    except Exception:
        cur.execute("ROLLBACK TO SAVEPOINT store_rollup")
        log.exception("report roll-up failed; the daily rebuild will catch up",
                      extra={"interactions": len(interaction_ids)})
        return 0, True
    cur.execute("RELEASE SAVEPOINT store_rollup")
    return slots, False


__all__ = ["Written", "write_plan"]
