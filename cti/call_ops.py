"""Small pure helpers shared by the call handlers (:mod:`cti.calls`, :mod:`cti.call_media`,
:mod:`cti.call_commands`): building the next interaction value and its domain events.

Every helper returns a new value; none changes its argument.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cti.bus import DomainEvent
from cti.call_states import CallTrigger, next_state
from cti.interaction import Interaction, Leg, Offer, QueueVisit, TimelineEntry, frozen_map

Result = tuple[Interaction, list[DomainEvent]]


def move(ix: Interaction, trigger: CallTrigger) -> Interaction:
    state = next_state(ix.id, ix.state, trigger)
    return ix if state is ix.state else replace(ix, state=state)


def domain_event(ix: Interaction, type_: str, at: float, agent: int | None = None, **data: Any) -> DomainEvent:
    return DomainEvent(
        type=type_, data=data, interaction_id=ix.id, agent_id=agent,
        queue=ix.queue or None, node=ix.node or None, at=at,
    )


def with_leg(ix: Interaction, leg: Leg) -> Interaction:
    legs = dict(ix.legs)
    legs[leg.uuid] = leg
    return replace(ix, legs=frozen_map(legs))


def with_offer(ix: Interaction, offer: Offer) -> Interaction:
    return replace(ix, offers=tuple(offer if o.leg_uuid == offer.leg_uuid else o for o in ix.offers))


def note(ix: Interaction, type_: str, at: float, **detail: object) -> Interaction:
    return replace(ix, timeline=ix.timeline + (TimelineEntry(at, type_, detail),))


def serving_agent(ix: Interaction) -> int | None:
    leg = ix.legs.get(ix.serving_leg) if ix.serving_leg else None
    return leg.agent_id if leg is not None else None


def open_visit(ix: Interaction) -> QueueVisit | None:
    if ix.queue_visits and ix.queue_visits[-1].left_at is None:
        return ix.queue_visits[-1]
    return None


def close_visit(ix: Interaction, at: float, outcome: str, agent_id: int | None = None) -> Interaction:
    visit = open_visit(ix)
    if visit is None:
        return ix
    closed = replace(visit, left_at=at, outcome=outcome, agent_id=agent_id)
    if outcome == "answered":
        closed = replace(closed, answered_at=at)
    return replace(ix, queue_visits=ix.queue_visits[:-1] + (closed,))


def screen_pop(ix: Interaction) -> dict[str, Any]:
    return {
        "direction": ix.direction.value, "caller_number": ix.caller_number, "caller_name": ix.caller_name,
        "callee_number": ix.callee_number, "did": ix.did, "digits": ix.digits,
        "ivr_path": [e.detail.get("node") for e in ix.ivr_path], "queue": ix.queue,
        "campaign_id": ix.campaign_id, "contact_id": ix.contact_id,
    }


def offered(ix: Interaction, offer: Offer) -> DomainEvent:
    return domain_event(
        ix, "call.offered", offer.offered_at, offer.agent_id, agent_id=offer.agent_id,
        extension=offer.extension, leg_uuid=offer.leg_uuid, queue=offer.queue, screen_pop=screen_pop(ix),
    )
