"""Interactions that are over, read back from the store (sql/002_interactions.sql) in
the same shape as a live record (:func:`cti.call_record.to_record`), so an integration
reads a call the same way before and after it ends."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

_SUMMARY_COLUMNS = """
i.id::text AS id, i.node, i.direction, i.did, i.caller_number, i.caller_name, i.callee_number, i.customer_id,
i.campaign_id, i.contact_id, i.flow_name, i.digits, i.queue_name, i.agent_id, i.started_at, i.queue_entered_at,
i.offered_at, i.answered_at, i.abandoned_at, i.ended_at, i.wrapup_ended_at, i.talk_seconds, i.hold_seconds,
i.wrapup_seconds, i.transfers, i.outcome, i.disposition, i.notes, i.hangup_cause, i.hangup_by, i.vars, i.ivr_path"""

_FILTERS = {
    "queue": "i.queue_name = %(queue)s",
    "agent_id": "i.agent_id = %(agent_id)s",
    "direction": "i.direction = %(direction)s",
    "outcome": "i.outcome = %(outcome)s",
    "caller_number": "i.caller_number = %(caller_number)s",
    "customer_id": "i.customer_id = %(customer_id)s",
    "campaign_id": "i.campaign_id = %(campaign_id)s",
    "from": "i.started_at >= %(from)s",
    "to": "i.started_at < %(to)s",
}


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def summary(row: Mapping[str, Any]) -> dict[str, Any]:
    """The interaction's own fields (no legs, timeline ...)."""
    extras = row.get("vars") or {}
    return {
        "id": row["id"], "node": row["node"], "direction": row["direction"],
        "state": extras.get("state") or ("ended" if row["ended_at"] is not None else "live"),
        "outcome": row["outcome"], "did": row["did"], "caller_number": row["caller_number"],
        "caller_name": row["caller_name"], "callee_number": row["callee_number"], "customer_id": row["customer_id"],
        "campaign_id": row["campaign_id"], "contact_id": row["contact_id"], "flow_name": row["flow_name"],
        "ivr_path": row["ivr_path"] or [], "digits": row["digits"], "queue": row["queue_name"],
        "priority": extras.get("priority"), "agent_id": row["agent_id"], "started_at": _iso(row["started_at"]),
        "queue_entered_at": _iso(row["queue_entered_at"]), "offered_at": _iso(row["offered_at"]),
        "answered_at": _iso(row["answered_at"]), "abandoned_at": _iso(row["abandoned_at"]),
        "ended_at": _iso(row["ended_at"]), "wrapup_ended_at": _iso(row["wrapup_ended_at"]),
        "wait_seconds": extras.get("wait_seconds"), "talk_seconds": float(row["talk_seconds"]),
        "hold_seconds": float(row["hold_seconds"]), "wrapup_seconds": float(row["wrapup_seconds"]),
        "duration_seconds": extras.get("duration_seconds"), "transfers": row["transfers"],
        "transfer_history": extras.get("transfer_history") or [], "disposition": row["disposition"],
        "notes": row["notes"], "hangup_cause": row["hangup_cause"], "hangup_by": row["hangup_by"],
        "supervisors": extras.get("supervisors") or [],
    }


def search(db: Any, filters: Mapping[str, Any], limit: int, offset: int) -> list[dict[str, Any]]:
    """Stored interactions matching ``filters`` (keys of :data:`_FILTERS`), newest first."""
    where = " AND ".join(_FILTERS[k] for k in filters if k in _FILTERS) or "true"
    rows = db.fetchall(
        f"SELECT {_SUMMARY_COLUMNS} FROM interactions i WHERE {where} "  # noqa: S608 -- fixed fragments only
        "ORDER BY i.started_at DESC, i.id LIMIT %(limit)s OFFSET %(offset)s",
        {**filters, "limit": limit, "offset": offset},
    )
    return [summary(r) for r in rows]


def stored(db: Any, interaction_id: str) -> dict[str, Any] | None:
    """The full stored record of one interaction (``interaction_id`` must be a UUID)."""
    row = db.fetchone(f"SELECT {_SUMMARY_COLUMNS} FROM interactions i WHERE i.id = %s", (interaction_id,))  # noqa: S608
    if row is None:
        return None
    record = summary(row)
    args = (interaction_id,)
    record["legs"] = [
        {"uuid": r["uuid"], "role": r["role"], "node": r["node"], "agent_id": r["agent_id"],
         "channel_name": r["channel_name"], "created_at": _iso(r["created_at"]),
         "answered_at": _iso(r["answered_at"]), "ended_at": _iso(r["ended_at"]), "hangup_cause": r["hangup_cause"]}
        for r in db.fetchall("SELECT uuid::text AS uuid, role, node, agent_id, channel_name, created_at, answered_at, ended_at, "
                             "hangup_cause FROM legs WHERE interaction_id = %s ORDER BY created_at",
                             args)
    ]
    record["offers"] = [
        {"leg_uuid": r["leg_uuid"], "agent_id": r["agent_id"], "queue": r["queue_name"],
         "offered_at": _iso(r["offered_at"]), "ended_at": _iso(r["ended_at"]), "outcome": r["outcome"]}
        for r in db.fetchall("SELECT leg_uuid::text AS leg_uuid, agent_id, queue_name, offered_at, ended_at, outcome "
                             "FROM agent_offers WHERE interaction_id = %s ORDER BY offered_at", args)
    ]
    record["queue_visits"] = [
        {"seq": r["seq"], "queue": r["queue_name"], "priority": r["priority"], "entered_at": _iso(r["entered_at"]),
         "answered_at": _iso(r["answered_at"]), "left_at": _iso(r["left_at"]), "outcome": r["outcome"],
         "agent_id": r["agent_id"]}
        for r in db.fetchall("SELECT * FROM queue_visits WHERE interaction_id = %s ORDER BY seq", args)
    ]
    record["segments"] = [
        {"agent_id": r["agent_id"], "kind": r["kind"], "queue": r["queue_name"], "started_at": _iso(r["started_at"]),
         "ended_at": _iso(r["ended_at"])}
        for r in db.fetchall("SELECT * FROM agent_segments WHERE interaction_id = %s ORDER BY started_at", args)
    ]
    record["recordings"] = [
        {"id": r["id"], "leg_uuid": r["leg_uuid"], "agent_id": r["agent_id"], "started_at": _iso(r["started_at"]),
         "ended_at": _iso(r["ended_at"]), "duration_ms": r["duration_ms"], "size_bytes": r["size_bytes"]}
        for r in db.fetchall("SELECT id::text AS id, leg_uuid::text AS leg_uuid, agent_id, started_at, ended_at, duration_ms, "
                             "size_bytes FROM recordings WHERE interaction_id = %s AND deleted_at IS NULL "
                             "ORDER BY started_at", args)
    ]
    record["timeline"] = timeline(db, interaction_id)
    return record


def timeline(db: Any, interaction_id: str) -> list[dict[str, Any]]:
    """The interaction's domain events as the store wrote them (``interaction_events``)."""
    return [
        {**(r["data"] or {}), "at": _iso(r["at"]), "type": r["type"], "agent_id": r["agent_id"],
         "event_id": r["event_id"]}
        for r in db.fetchall("SELECT event_id::text AS event_id, at, type, agent_id, data FROM interaction_events "
                             "WHERE interaction_id = %s ORDER BY at, interaction_events.event_id", (interaction_id,))
    ]
