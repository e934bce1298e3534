"""The public JSON shape of an interaction.

This is what ``call.ended`` carries, what webhooks deliver and what the store writer
maps onto ``interactions``, ``legs``, ``agent_offers``, ``agent_segments``,
``queue_visits`` and ``recordings`` (sql/002_interactions.sql): the field names follow
those columns. Times are ISO 8601 strings in UTC (``None`` when it did not happen),
durations are seconds rounded to milliseconds. A live interaction renders the same way
with its open periods counted up to ``now``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cti.interaction import Interaction


def iso(at: float | None) -> str | None:
    return None if at is None else datetime.fromtimestamp(at, UTC).isoformat()


def _secs(value: float) -> float:
    return round(value, 3)


def wait_seconds(ix: Interaction, now: float | None = None) -> float | None:
    """Time in queue before an agent answered (or the caller left); None if never queued."""
    if ix.queue_entered_at is None:
        return None
    end = ix.answered_at or ix.abandoned_at or ix.ended_at or now
    return None if end is None else _secs(max(0.0, end - ix.queue_entered_at))


def to_record(ix: Interaction, now: float | None = None) -> dict[str, Any]:
    """The full record of ``ix``; ``now`` counts open periods of a live call."""
    until = ix.ended_at if ix.ended_at is not None else now
    end_for_duration = ix.ended_at if ix.ended_at is not None else now
    return {
        "id": ix.id,
        "node": ix.node,
        "direction": ix.direction.value,
        "state": ix.state.value,
        "outcome": ix.outcome.value,
        "did": ix.did,
        "caller_number": ix.caller_number,
        "caller_name": ix.caller_name,
        "callee_number": ix.callee_number,
        "campaign_id": ix.campaign_id,
        "contact_id": ix.contact_id,
        "flow_name": ix.flow_name,
        "ivr_path": [{"at": iso(e.at), **e.detail} for e in ix.ivr_path],
        "digits": ix.digits,
        "queue": ix.queue,
        "priority": ix.priority,
        "agent_id": ix.agent_id,
        "started_at": iso(ix.started_at),
        "queue_entered_at": iso(ix.queue_entered_at),
        "offered_at": iso(ix.offered_at),
        "answered_at": iso(ix.answered_at),
        "abandoned_at": iso(ix.abandoned_at),
        "ended_at": iso(ix.ended_at),
        "wrapup_ended_at": iso(ix.wrapup_ended_at),
        "wait_seconds": wait_seconds(ix, now),
        "talk_seconds": _secs(ix.talk_seconds(until)),
        "hold_seconds": _secs(ix.hold_seconds(until)),
        "wrapup_seconds": _secs(ix.wrapup_seconds(now)),
        "duration_seconds": None if end_for_duration is None else _secs(end_for_duration - ix.started_at),
        "transfers": len(ix.transfers),
        "transfer_history": [
            {"kind": t.kind, "at": iso(t.at), "target": t.target, "from_agent_id": t.from_agent_id}
            for t in ix.transfers
        ],
        "disposition": ix.disposition,
        "notes": ix.notes,
        "hangup_cause": ix.hangup_cause,
        "hangup_by": ix.hangup_by,
        "legs": [_leg(ix, uuid) for uuid in ix.legs],
        "offers": [
            {
                "leg_uuid": o.leg_uuid, "agent_id": o.agent_id, "queue": o.queue, "extension": o.extension,
                "offered_at": iso(o.offered_at), "ended_at": iso(o.ended_at), "outcome": o.outcome.value,
            }
            for o in ix.offers
        ],
        "queue_visits": [
            {
                "seq": v.seq, "queue": v.queue, "priority": v.priority, "entered_at": iso(v.entered_at),
                "answered_at": iso(v.answered_at), "left_at": iso(v.left_at), "outcome": v.outcome,
                "agent_id": v.agent_id,
            }
            for v in ix.queue_visits
        ],
        "segments": [
            {
                "agent_id": s.agent_id, "kind": s.kind, "queue": s.queue, "started_at": iso(s.started_at),
                "ended_at": iso(s.ended_at), "seconds": _secs(s.seconds(now if s.kind == "wrapup" else until)),
            }
            for s in ix.segments
        ],
        "recordings": [
            {
                "id": r.id, "leg_uuid": r.leg_uuid, "agent_id": r.agent_id, "path": r.path,
                "started_at": iso(r.started_at), "ended_at": iso(r.ended_at),
                "duration_ms": r.duration_ms, "size_bytes": r.size_bytes,
            }
            for r in ix.recordings
        ],
        "supervisors": [
            {
                "leg_uuid": s.leg_uuid, "agent_id": s.agent_id, "extension": s.extension, "mode": s.mode.value,
                "target_uuid": s.target_uuid, "joined_at": iso(s.joined_at), "left_at": iso(s.left_at),
            }
            for s in ix.supervisors
        ],
        "timeline": [{"at": iso(e.at), "type": e.type, **e.detail} for e in ix.timeline],
    }


def _leg(ix: Interaction, uuid: str) -> dict[str, Any]:
    leg = ix.legs[uuid]
    return {
        "uuid": leg.uuid,
        "role": leg.role.value,
        "node": leg.node,
        "agent_id": leg.agent_id,
        "channel_name": leg.channel_name,
        "number": leg.number,
        "created_at": iso(leg.created_at),
        "answered_at": iso(leg.answered_at),
        "ended_at": iso(leg.hangup_at),
        "hangup_cause": leg.hangup_cause,
        "hangup_disposition": leg.hangup_disposition,
    }
