"""sql/003_routing.sql on a real PostgreSQL: the engine's writes fit and are guarded."""

from __future__ import annotations

import json
import uuid

import psycopg2
import pytest

from cti.db import Database


@pytest.mark.slow
def test_node_stats_accumulate_with_upserts(db: Database) -> None:
    upsert = """
        INSERT INTO ivr_node_stats (flow_name, flow_version, node, day, visits, hangups, retries, seconds_total, exits)
        VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
        ON CONFLICT (flow_name, flow_version, node, day) DO UPDATE SET
            visits = ivr_node_stats.visits + EXCLUDED.visits,
            hangups = ivr_node_stats.hangups + EXCLUDED.hangups,
            retries = ivr_node_stats.retries + EXCLUDED.retries,
            seconds_total = ivr_node_stats.seconds_total + EXCLUDED.seconds_total,
            exits = (SELECT coalesce(jsonb_object_agg(k, v), '{}'::jsonb) FROM (
                SELECT key AS k, sum(value::bigint) AS v
                FROM (SELECT * FROM jsonb_each_text(ivr_node_stats.exits)
                      UNION ALL SELECT * FROM jsonb_each_text(EXCLUDED.exits)) both_sides
                GROUP BY key) merged)
    """
    for exits in ({"1": 2, "hangup": 1}, {"1": 1, "2": 4}):
        db.execute(upsert, ("main", 1, "main_menu", "2026-11-23", 3, 1, 0, 12.5, json.dumps(exits)))
    row = db.fetchone("SELECT visits, hangups, seconds_total, exits FROM ivr_node_stats WHERE node = %s", ("main_menu",))
    assert row is not None
    assert (row["visits"], row["hangups"], row["seconds_total"]) == (6, 2, 25.0)
    assert row["exits"] == {"1": 3, "2": 4, "hangup": 1}


@pytest.mark.slow
def test_caller_shortcuts_one_per_kind(db: Database) -> None:
    upsert = """
        INSERT INTO caller_shortcuts (caller_number, flow_name, kind, node) VALUES (%s, %s, %s, %s)
        ON CONFLICT (caller_number, flow_name, kind) DO UPDATE SET node = EXCLUDED.node,
            uses = caller_shortcuts.uses + 1, updated_at = now()
    """
    db.execute(upsert, ("+15550123", "main", "last", "sales"))
    db.execute(upsert, ("+15550123", "main", "last", "support"))
    db.execute(upsert, ("+15550123", "main", "saved", "sales"))
    rows = db.fetchall(
        "SELECT kind, node, uses FROM caller_shortcuts WHERE caller_number = %s ORDER BY kind", ("+15550123",)
    )
    assert [(r["kind"], r["node"], r["uses"]) for r in rows] == [("last", "support", 2), ("saved", "sales", 1)]
    with pytest.raises(psycopg2.errors.CheckViolation):
        db.execute(upsert, ("+15550123", "main", "favourite", "sales"))


@pytest.mark.slow
def test_callbacks_keep_place_and_are_guarded(db: Database) -> None:
    insert = """
        INSERT INTO callbacks (id, interaction_id, queue_name, number, requested_at, enqueued_at, priority)
        VALUES (%s, %s, 'sales', '+15550123', %s, %s, 5)
    """
    first = uuid.uuid4()
    db.execute(insert, (str(first), str(uuid.uuid4()), "2026-11-23T10:05:00Z", "2026-11-23T10:00:00Z"))
    rows = db.fetchall("SELECT id, status FROM callbacks WHERE queue_name = 'sales' AND status = 'waiting' ORDER BY enqueued_at")
    assert [(str(r["id"]), r["status"]) for r in rows] == [(str(first), "waiting")]
    with pytest.raises(psycopg2.errors.CheckViolation):  # asked before it entered the queue
        db.execute(insert, (str(uuid.uuid4()), str(uuid.uuid4()), "2026-11-23T09:00:00Z", "2026-11-23T10:00:00Z"))
    with pytest.raises(psycopg2.errors.CheckViolation):
        db.execute("UPDATE callbacks SET status = 'lost' WHERE id = %s", (str(first),))


@pytest.mark.slow
def test_wait_estimates(db: Database) -> None:
    db.execute(
        """INSERT INTO queue_wait_estimates (queue_name, aht_seconds, correction, handle_samples, wait_samples)
           VALUES ('sales', 182.5, 1.1, 40, 12)"""
    )
    row = db.fetchone("SELECT aht_seconds, correction FROM queue_wait_estimates WHERE queue_name = 'sales'")
    assert row is not None and (row["aht_seconds"], row["correction"]) == (182.5, 1.1)
