"""What the store keeps of each domain event, as rows: the pure half of the store writer.

The store writer journals one small record per domain event it keeps
(:func:`journal_record`) and later turns a batch of them into rows (:func:`plan`);
:mod:`cti.store_sql` writes the rows. Nothing here does I/O, so the mapping is tested
without a database.

What is kept:

* ``interaction_events`` (the timeline): one row per ``call.*`` event, keyed by the
  domain event id. ``call.ended`` / ``call.wrapup_ended`` carry the whole interaction
  record; the timeline keeps only its scalar fields (the rest lives in the tables).
* ``interactions``: a row as soon as ``call.created`` arrives (a crash mid-call still
  leaves one), then the full record from ``call.ended`` and from the final
  ``call.wrapup_ended``, with its legs, offers, segments, queue visits and recordings
  under their natural keys. A non-final ``call.wrapup_ended`` (another agent still
  wraps up, or a disposition added during the call) updates disposition and notes.
* ``agent_state_history``: one row per ``agent.state_changed``, keyed by event id.

Replays must change nothing and an older record must never overwrite a newer one, so
every write to ``interactions`` carries a revision that only grows along an
interaction's life: ``stage * 10**16 + event time in microseconds``, with the stage
``created < partial < ended < final``. Times alone would not do: commands are stamped
with the middleware's clock and channel events with the switch's, and a wrap-up that
ends one second after the hangup on a switch whose clock runs ahead would look older
than the hangup. Two records of the same stage are ordered by time, ties by journal
order (the writer applies a batch in order and ``<=`` lets the later one win).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from cti.bus import DomainEvent
from cti.customers import number_candidates

AGENT_STATE = "agent.state_changed"

#: Fields of the interaction record that are lists (kept in their own tables, not in
#: the timeline row of ``call.ended``).
RECORD_LISTS = frozenset({
    "legs", "offers", "segments", "queue_visits", "recordings", "supervisors", "timeline",
    "ivr_path", "transfer_history",
})


class Stage(IntEnum):
    CREATED = 0
    PARTIAL = 1
    ENDED = 2
    FINAL = 3


_STAGE_SPAN = 10**16


def is_stored(event_type: str) -> bool:
    """True for the domain events the store keeps (the rest are live-only)."""
    return event_type.startswith("call.") or event_type == AGENT_STATE


def journal_record(event: DomainEvent, appended_at: float) -> dict[str, Any]:
    """The journal line for ``event``; ``t`` is when it was journalled (for the age
    of the oldest record still waiting for the database)."""
    return {
        "id": event.id, "type": event.type, "at": event.at, "iid": event.interaction_id,
        "agent_id": event.agent_id, "queue": event.queue, "node": event.node, "data": event.data,
        "t": appended_at,
    }


def revision(stage: Stage, at: float) -> int:
    """The interaction revision of a record (see the module docstring)."""
    return int(stage) * _STAGE_SPAN + int(round(at * 1_000_000))


# --- rows -------------------------------------------------------------------------------


@dataclass
class Plan:
    """The rows one batch of records becomes, ready for :mod:`cti.store_sql`."""

    created: list[tuple[Any, ...]] = field(default_factory=list)
    full: dict[str, tuple[int, Mapping[str, Any]]] = field(default_factory=dict)
    partial: list[tuple[Any, ...]] = field(default_factory=list)
    timeline: list[tuple[Any, ...]] = field(default_factory=list)
    agent_history: list[tuple[Any, ...]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.created or self.full or self.partial or self.timeline or self.agent_history)


def plan(records: Iterable[Mapping[str, Any]], region: str | None = None) -> Plan:
    """Rows for ``records`` (journal order). Of several full records of one interaction
    in the batch only the newest is kept: it contains everything the older ones had."""
    out = Plan()
    for rec in records:
        kind = rec["type"]
        if kind == AGENT_STATE:
            out.agent_history.append(_agent_row(rec))
            continue
        iid = rec.get("iid")
        if not iid:
            continue
        data = rec.get("data") or {}
        out.timeline.append(_timeline_row(rec, iid, data))
        if kind == "call.created":
            out.created.append(_created_row(rec, iid, data, region))
        elif kind == "call.ended":
            _keep_full(out, iid, revision(Stage.ENDED, rec["at"]), data)
        elif kind == "call.wrapup_ended":
            if data.get("final") and isinstance(data.get("record"), Mapping):
                _keep_full(out, iid, revision(Stage.FINAL, rec["at"]), data["record"])
            elif data.get("disposition") or data.get("notes"):
                out.partial.append((iid, data.get("disposition") or "", data.get("notes") or "",
                                    revision(Stage.PARTIAL, rec["at"])))
    return out


def _keep_full(out: Plan, iid: str, rev: int, record: Mapping[str, Any]) -> None:
    kept = out.full.get(iid)
    if kept is None or kept[0] <= rev:
        out.full[iid] = (rev, record)


def _timeline_row(rec: Mapping[str, Any], iid: str, data: Mapping[str, Any]) -> tuple[Any, ...]:
    if rec["type"] == "call.ended":
        detail = {k: v for k, v in data.items() if k not in RECORD_LISTS}
    elif rec["type"] == "call.wrapup_ended":
        detail = {k: v for k, v in data.items() if k != "record"}
    else:
        detail = dict(data)
    if rec.get("queue") and "queue" not in detail:
        detail["queue"] = rec["queue"]
    return (rec["id"], iid, rec["at"], rec["type"], rec.get("agent_id"), detail)


def _agent_row(rec: Mapping[str, Any]) -> tuple[Any, ...]:
    data = rec.get("data") or {}
    return (
        rec["id"], rec["agent_id"], rec["at"], data.get("state", ""), data.get("reason") or "",
        data.get("extension") or "", rec.get("iid"), data.get("previous_state") or "",
    )


def customer_numbers(direction: str, caller: str, callee: str, region: str | None) -> list[str]:
    """Spellings of the customer's number: the caller of an inbound call, the callee
    of an outbound one, none for internal calls."""
    if direction == "inbound":
        return number_candidates(caller or "", region)
    if direction == "outbound":
        return number_candidates(callee or "", region)
    return []


def _created_row(rec: Mapping[str, Any], iid: str, data: Mapping[str, Any], region: str | None) -> tuple[Any, ...]:
    direction = data.get("direction") or "inbound"
    caller, callee = data.get("caller_number") or "", data.get("callee_number") or ""
    return (
        iid, rec.get("node") or "", direction, data.get("did") or "", caller, data.get("caller_name") or "",
        callee, customer_numbers(direction, caller, callee, region), data.get("campaign_id"),
        data.get("contact_id"), rec.get("queue") or "", rec["at"], revision(Stage.CREATED, rec["at"]),
    )


def interaction_row(iid: str, rev: int, record: Mapping[str, Any], region: str | None) -> tuple[Any, ...]:
    """The ``interactions`` row of a full record (column order of ``store_sql.UPSERT_FULL``)."""
    r = record
    direction = r.get("direction") or "inbound"
    caller, callee = r.get("caller_number") or "", r.get("callee_number") or ""
    extras = {
        "state": r.get("state"), "priority": r.get("priority"), "wait_seconds": r.get("wait_seconds"),
        "duration_seconds": r.get("duration_seconds"), "transfer_history": r.get("transfer_history") or [],
        "supervisors": r.get("supervisors") or [],
    }
    return (
        iid, r.get("node") or "", direction, r.get("did") or "", caller, r.get("caller_name") or "", callee,
        customer_numbers(direction, caller, callee, region), r.get("campaign_id"), r.get("contact_id"),
        r.get("flow_name") or "", r.get("ivr_path") or [], r.get("digits") or "", r.get("queue") or "",
        r.get("agent_id"), r.get("started_at"), r.get("queue_entered_at"), r.get("offered_at"),
        r.get("answered_at"), r.get("abandoned_at"), r.get("ended_at"), r.get("wrapup_ended_at"),
        r.get("talk_seconds") or 0.0, r.get("hold_seconds") or 0.0, r.get("wrapup_seconds") or 0.0,
        int(r.get("transfers") or 0), r.get("outcome") or "live", r.get("disposition") or "",
        r.get("notes") or "", r.get("hangup_cause") or "", r.get("hangup_by") or "", extras, rev,
    )


def leg_rows(iid: str, record: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    started = record.get("started_at")
    return [
        (leg["uuid"], iid, leg.get("node") or "", leg["role"], leg.get("agent_id"), leg.get("channel_name") or "",
         leg.get("created_at") or started, leg.get("answered_at"), leg.get("ended_at"), leg.get("hangup_cause") or "")
        for leg in record.get("legs") or []
    ]


def offer_rows(iid: str, record: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (iid, o["leg_uuid"], o["agent_id"], o.get("queue") or "", o["offered_at"], o.get("ended_at"),
         o.get("outcome") or "ringing")
        for o in record.get("offers") or []
    ]


def segment_rows(iid: str, record: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (iid, s["agent_id"], s["kind"], s["started_at"], s.get("ended_at"), s.get("queue") or "")
        for s in record.get("segments") or []
    ]


def visit_rows(iid: str, record: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (iid, v["seq"], v["queue"], v["entered_at"], v.get("priority") or 0, v.get("answered_at"),
         v.get("left_at"), v.get("outcome") or "waiting", v.get("agent_id"))
        for v in record.get("queue_visits") or []
    ]


def recording_rows(iid: str, record: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (rec["id"], iid, rec.get("leg_uuid"), rec.get("agent_id"), record.get("queue") or "",
         record.get("caller_number") or "", rec["path"], rec["started_at"], rec.get("ended_at"),
         rec.get("duration_ms"), rec.get("size_bytes"))
        for rec in record.get("recordings") or []
    ]


def unique_by(rows: Sequence[tuple[Any, ...]], key: slice) -> list[tuple[Any, ...]]:
    """The last row for each key: one ``INSERT ... ON CONFLICT DO UPDATE`` may not
    touch the same row twice."""
    seen: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for row in rows:
        seen[row[key]] = row
    return list(seen.values())


__all__ = [
    "AGENT_STATE", "RECORD_LISTS", "Plan", "Stage", "customer_numbers", "interaction_row", "is_stored",
    "journal_record", "leg_rows", "offer_rows", "plan", "recording_rows", "revision", "segment_rows",
    "unique_by", "visit_rows",
]
