"""Call handlers for decisions of routing, the dialer and the web: IVR steps, queue
entry and exit, offers to agents, and after-call work (see :mod:`cti.calls`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cti.bus import DomainEvent
from cti.call_facts import (
    IvrStep,
    OfferStarted,
    QueueEntered,
    QueueLeft,
    WrapupEnded,
    WrapupStarted,
)
from cti.call_ops import (
    Result,
    close_visit,
    domain_event,
    move,
    note,
    offered,
    serving_agent,
    with_leg,
)
from cti.call_record import to_record
from cti.call_states import TALKING, CallState, CallTrigger
from cti.interaction import (
    Interaction,
    Leg,
    LegRole,
    Offer,
    QueueVisit,
    Segment,
    TimelineEntry,
    Transfer,
)

S = CallState
T = CallTrigger


#: IVR timeline kinds that put a node on the path (no kind: a caller of the old API).
_ENTERED = ("", "node_entered")


def ivr_step(ix: Interaction, f: IvrStep) -> Result:
    """Every step is published (``call.ivr_step``, stored in ``interaction_events``);
    only entered nodes go on ``ivr_path``, and leaving one adds its ``exit`` and
    ``seconds`` (and what else the step says) to that node's entry."""
    kind = str(f.detail.get("kind", ""))
    path = ix.ivr_path
    if kind in _ENTERED:
        path = path + (TimelineEntry(f.at, "ivr_step", {"flow": f.flow, "node": f.node, "digits": f.digits}),)
    elif kind == "node_left":
        path = _left(path, f)
    ix = move(replace(ix, ivr_path=path, flow_name=ix.flow_name or f.flow), T.IVR_STEP)
    data: dict[str, Any] = {**f.detail, "flow": f.flow, "node": f.node, "digits": f.digits}
    return ix, [domain_event(ix, "call.ivr_step", f.at, None, **data)]


def _left(path: tuple[TimelineEntry, ...], f: IvrStep) -> tuple[TimelineEntry, ...]:
    for index in range(len(path) - 1, -1, -1):
        entry = path[index]
        if entry.detail.get("node") == f.node:
            detail = {**entry.detail, **{k: v for k, v in f.detail.items() if k not in ("kind", "flow", "node")}}
            if f.digits:
                detail["digits"] = f.digits
            return path[:index] + (replace(entry, detail=detail),) + path[index + 1:]
    return path


def queue_entered(ix: Interaction, f: QueueEntered) -> Result:
    events: list[DomainEvent] = []
    ix = close_visit(ix, f.at, "overflowed")
    if ix.state in TALKING:
        from_agent = serving_agent(ix)
        target = f"queue:{f.queue}"
        ix = replace(ix, transfers=ix.transfers + (Transfer("blind", f.at, target, from_agent),),
                     serving_leg=None, bridged=False, held=False)
        events.append(domain_event(ix, "call.transferred", f.at, from_agent, kind="blind", target=target,
                             from_agent_id=from_agent, to_agent_id=None, leg_uuid=None))
    visit = QueueVisit(len(ix.queue_visits) + 1, f.queue, f.priority, f.at)
    ix = replace(
        move(ix, T.QUEUE), queue=f.queue, priority=f.priority, queue_visits=ix.queue_visits + (visit,),
        queue_entered_at=ix.queue_entered_at or f.at,
    )
    events.append(domain_event(ix, "call.queued", f.at, queue=f.queue, priority=f.priority, visit=visit.seq))
    return ix, events


def queue_left(ix: Interaction, f: QueueLeft) -> Result:
    ix = move(ix, T.QUEUE_LEFT)
    return note(close_visit(ix, f.at, f.outcome), "queue_left", f.at, outcome=f.outcome), []


def offer_started(ix: Interaction, f: OfferStarted) -> Result:
    if f.leg_uuid in ix.legs:
        return ix, []
    ix = move(ix, T.OFFER)
    leg = Leg(f.leg_uuid, LegRole.AGENT, node=ix.node, agent_id=f.agent_id, number=f.extension, seen=False, created_at=f.at)
    offer = Offer(f.leg_uuid, f.agent_id, f.queue or ix.queue, f.at, f.extension)
    ix = replace(with_leg(ix, leg), offers=ix.offers + (offer,), offered_at=ix.offered_at or f.at)
    return ix, [offered(ix, offer)]


def wrapup_started(ix: Interaction, f: WrapupStarted) -> Result:
    if f.agent_id in ix.wrapups_pending:
        return ix, []
    segment = Segment(f.agent_id, "wrapup", f.at, ix.queue)
    ix = replace(ix, wrapups_pending=ix.wrapups_pending | {f.agent_id}, segments=ix.segments + (segment,))
    return move(ix, T.WRAPUP_RECORDED), []


def wrapup_ended(ix: Interaction, f: WrapupEnded) -> Result:
    pending = f.agent_id in ix.wrapups_pending
    if not pending and not (f.disposition or f.notes):
        return ix, []
    seconds: float | None = None
    segments = list(ix.segments)
    if pending:
        for index in range(len(segments) - 1, -1, -1):
            seg = segments[index]
            if seg.agent_id == f.agent_id and seg.kind == "wrapup" and seg.ended_at is None:
                segments[index] = replace(seg, ended_at=max(f.at, seg.started_at))
                seconds = round(segments[index].seconds(), 3)
                break
    ix = replace(
        ix, segments=tuple(segments), wrapups_pending=ix.wrapups_pending - {f.agent_id},
        disposition=f.disposition or ix.disposition, notes=f.notes or ix.notes,
        wrapup_ended_at=f.at if pending else ix.wrapup_ended_at,
    )
    final = pending and ix.state is S.ENDED and not ix.wrapups_pending
    ix = move(ix, T.WRAPUP_FINISHED if final else T.WRAPUP_RECORDED)
    data: dict[str, Any] = {
        "agent_id": f.agent_id, "disposition": f.disposition, "notes": f.notes,
        "wrapup_seconds": seconds, "final": final,
    }
    if final:
        data["record"] = to_record(ix)
    return ix, [domain_event(ix, "call.wrapup_ended", f.at, f.agent_id, **data)]
