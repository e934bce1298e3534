"""What a change to a call means for its agents.

The call model knows legs; the agent model knows states. Rather than have every call
handler remember to tell the agents, :func:`links` reads, from an interaction value,
how each agent is tied to it right now (ringing on a leg, or talking, maybe holding the
customer or consulting), and :func:`agent_inputs` turns the difference between the
value before and after a fact into agent inputs (:class:`cti.agents.Offered`,
:class:`cti.agents.RingEnded`, :class:`cti.agents.CallEnded` ...). The same diff works
for a fact from the switch, a routing command or a resync, so the two models cannot
disagree about who is on which call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cti import agents as ag
from cti.calls import RESYNC_GONE
from cti.interaction import Interaction, LegRole, OfferOutcome


@dataclass(frozen=True, slots=True)
class Link:
    leg_uuid: str
    ringing: bool
    direction: str
    held: bool = False
    consulting: bool = False


def links(ix: Interaction | None) -> dict[int, Link]:
    """How each agent is tied to ``ix`` now (agents with a live agent or consult leg)."""
    found: dict[int, Link] = {}
    if ix is None:
        return found
    for leg in ix.legs.values():
        if leg.agent_id is None or leg.role not in (LegRole.AGENT, LegRole.CONSULT) or not leg.up:
            continue
        direction = "internal" if leg.role is LegRole.CONSULT else ix.direction.value
        if leg.answered_at is None:
            found[leg.agent_id] = Link(leg.uuid, True, direction)
        elif leg.uuid == ix.serving_leg:
            found[leg.agent_id] = Link(
                leg.uuid, False, direction, held=ix.held or not ix.bridged, consulting=ix.consult_leg is not None
            )
        else:
            found[leg.agent_id] = Link(leg.uuid, False, direction)
    return found


def agent_inputs(
    before: Interaction | None, after: Interaction, at: float, wrapup_limit: Callable[[str], float | None]
) -> list[tuple[int, ag.AgentInput]]:
    """Agent inputs that bring each agent in line with ``after`` (in order).
    ``wrapup_limit(queue)``: the after-call work of a queue; an agent's is that of the
    queue the call was offered to them from (a call transferred on to another queue
    leaves its first agent the wrap-up of the first queue)."""
    old, new = links(before), links(after)
    inputs: list[tuple[int, ag.AgentInput]] = []
    for agent_id in sorted(old.keys() | new.keys()):
        was, now = old.get(agent_id), new.get(agent_id)
        if was == now:
            continue
        if was is not None and (now is None or now.leg_uuid != was.leg_uuid):
            inputs.extend((agent_id, i) for i in _ended(after, was, at, wrapup_limit))
            was = None
        if now is None:
            continue
        if was is None:
            inputs.append((agent_id, _started(after, now, at)))
            if not now.ringing:
                inputs.extend((agent_id, i) for i in _substate(Link(now.leg_uuid, False, now.direction), now, at))
            continue
        if was.ringing and not now.ringing:
            inputs.append((agent_id, ag.RingAnswered(at, now.leg_uuid)))
            was = Link(now.leg_uuid, False, now.direction)
        inputs.extend((agent_id, i) for i in _substate(was, now, at))
    return inputs


def _started(ix: Interaction, link: Link, at: float) -> ag.AgentInput:
    if link.ringing:
        return ag.Offered(at, ix.id, link.leg_uuid, link.direction)
    return ag.CallAdopted(at, ix.id, link.leg_uuid, link.direction)


def _ended(ix: Interaction, link: Link, at: float, wrapup_limit: Callable[[str], float | None]) -> list[ag.AgentInput]:
    offer = ix.offer_for(link.leg_uuid)
    ended = ag.CallEnded(at, link.leg_uuid, wrapup_limit(offer.queue if offer is not None and offer.queue else ix.queue))
    if not link.ringing:
        return [ended]
    if offer is None:
        # a consultation that rang out: an internal call, nobody is blamed for it
        return [ag.RingEnded(at, link.leg_uuid, OfferOutcome.WITHDRAWN.value, agent_at_fault=False)]
    if offer.outcome is OfferOutcome.ANSWERED:
        # answered and gone within one fact: the agent did take the call
        return [ag.RingAnswered(at, link.leg_uuid), ended]
    leg = ix.legs.get(link.leg_uuid)
    at_fault = leg is None or leg.hangup_cause != RESYNC_GONE
    return [ag.RingEnded(at, link.leg_uuid, offer.outcome.value, agent_at_fault=at_fault)]


def _substate(was: Link, now: Link, at: float) -> list[ag.AgentInput]:
    if was.consulting != now.consulting:
        if now.consulting:
            return [ag.ConsultStarted(at, now.leg_uuid)]
        return [ag.ConsultEnded(at, now.leg_uuid, held=now.held)]
    if now.consulting or was.held == now.held:
        return []
    return [ag.Hold(at, now.leg_uuid) if now.held else ag.Unhold(at, now.leg_uuid)]
