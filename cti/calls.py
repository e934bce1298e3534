"""Calls: the pure function that applies one fact to an interaction.

``apply(interaction, fact) -> (interaction, domain events)``. Facts come from two
places: channel events the tracker has already attributed to a leg (:class:`LegAdded`,
:class:`LegAnswered`, :class:`LegBridged`, :class:`LegHungUp` ...) and decisions of
routing, the dialer and the web (:class:`QueueEntered`, :class:`OfferStarted`,
:class:`WrapupEnded` ...), all in :mod:`cti.call_facts`. Each handler works out which
:class:`CallTrigger` the fact is, gets the next state from the one table in
:mod:`cti.call_states` (an illegal pair raises :class:`IllegalTransition`) and returns
a new immutable :class:`Interaction`. A fact that is already reflected (a second answer
or hangup of the same leg, a duplicate offer) returns the interaction unchanged and no
events, which is what makes replaying an event harmless.

Rules worth knowing:

* The interaction ends (``call.ended``, with the full record) when every leg but the
  supervisors' is gone, not at the first hangup: ``CHANNEL_HANGUP_COMPLETE`` is what
  carries ``variable_sip_hangup_disposition``, and the record is only complete then.
* Who hung up is read from ``variable_sip_hangup_disposition`` of the customer leg:
  ``recv_*`` means the customer did; ``send_*`` means we did, either because the agent's
  phone hung up on the bridged customer first (``agent``, if that leg has ``recv_*``) or
  because the middleware or the switch ended it (``system``). No disposition (loopback
  legs, failed originates) gives ``""``. Without a customer leg, the first leg to hang
  up (by time, then Event-Sequence) decides.
* A customer who leaves while queued or ringing an agent abandons that queue visit
  (``call.abandoned``); the interaction's outcome is ``abandoned`` unless an agent had
  answered it earlier.
* Talk, hold and consult periods are never edited by hand: :func:`cti.call_segments.sync`
  derives them after every fact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from cti import call_commands as commands
from cti import call_media as media
from cti.bus import DomainEvent
from cti.call_facts import (
    DialplanTransfer,
    Dtmf,
    DtmfSecret,
    IvrStep,
    LegAdded,
    LegAnswered,
    LegBridged,
    LegGone,
    LegHeld,
    LegHungUp,
    LegRenamed,
    LegUnbridged,
    OfferStarted,
    OriginateFailed,
    QueueEntered,
    QueueLeft,
    RecordingStarted,
    RecordingStopped,
    SupervisorJoined,
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
    open_visit,
    serving_agent,
    with_leg,
    with_offer,
)
from cti.call_record import to_record
from cti.call_segments import sync as sync_segments
from cti.call_states import TALKING, CallState, CallTrigger, IllegalTransition
from cti.interaction import Interaction, Leg, LegRole, Offer, OfferOutcome, Outcome, Transfer

S = CallState
T = CallTrigger
R = LegRole

CallFact = (
    LegAdded | LegAnswered | LegHungUp | LegGone | LegBridged | LegUnbridged | LegHeld | LegRenamed | Dtmf
    | DtmfSecret | RecordingStarted | RecordingStopped | SupervisorJoined | DialplanTransfer | IvrStep
    | QueueEntered | QueueLeft | OfferStarted | OriginateFailed | WrapupStarted | WrapupEnded
)

#: The hangup cause we record for a leg the switch no longer had when we resynced: how
#: it ended is unknown, so nobody (the agent included) is blamed for it.
RESYNC_GONE = "CTI_RESYNC_GONE"

#: Hangup causes of an unanswered agent leg -> how the ring ended.
RING_CAUSES: dict[str, OfferOutcome] = {
    "NO_ANSWER": OfferOutcome.NO_ANSWER,
    "NO_USER_RESPONSE": OfferOutcome.NO_ANSWER,
    "ALLOTTED_TIMEOUT": OfferOutcome.NO_ANSWER,
    "PROGRESS_TIMEOUT": OfferOutcome.NO_ANSWER,
    "USER_BUSY": OfferOutcome.REJECTED,
    "CALL_REJECTED": OfferOutcome.REJECTED,
    "USER_NOT_REGISTERED": OfferOutcome.UNREGISTERED,
    "SUBSCRIBER_ABSENT": OfferOutcome.UNREGISTERED,
    "ORIGINATOR_CANCEL": OfferOutcome.WITHDRAWN,
    "LOSE_RACE": OfferOutcome.WITHDRAWN,
    "PICKED_OFF": OfferOutcome.WITHDRAWN,
}

#: Hangup causes of an outbound customer leg that never answered -> outcome.
DIAL_CAUSES: dict[str, Outcome] = {
    "NO_ANSWER": Outcome.NO_ANSWER,
    "NO_USER_RESPONSE": Outcome.NO_ANSWER,
    "ALLOTTED_TIMEOUT": Outcome.NO_ANSWER,
    "ORIGINATOR_CANCEL": Outcome.NO_ANSWER,
    "USER_BUSY": Outcome.BUSY,
    "CALL_REJECTED": Outcome.BUSY,
}


def apply(ix: Interaction, fact: CallFact) -> Result:
    """Apply one fact to ``ix``; return the new interaction and the domain events.

    Raises:
        IllegalTransition: the fact is not allowed in the interaction's state.
    """
    handler = _HANDLERS[type(fact)]
    new, events = handler(ix, fact)
    if new is not ix:
        new = sync_segments(new, fact.at)
    return new, events


# --- legs -------------------------------------------------------------------------


def _leg_added(ix: Interaction, f: LegAdded) -> Result:
    answered_at = f.leg.answered_at
    leg = replace(f.leg, answered_at=None)
    old = ix.legs.get(leg.uuid)
    events: list[DomainEvent] = []
    if old is not None:
        if old.seen or not leg.seen:
            return ix, []
        merged = replace(
            old, seen=True, node=leg.node or old.node, channel_name=leg.channel_name or old.channel_name,
            number=old.number or leg.number, created_at=leg.created_at or old.created_at,
        )
        ix = move(with_leg(ix, merged), T.TIMELINE)
    else:
        ix, events = _new_leg(with_leg(ix, leg), leg, f.at)
    if answered_at is not None:
        ix, more = _leg_answered(ix, LegAnswered(leg.uuid, answered_at))
        events += more
    return ix, events


def _new_leg(ix: Interaction, leg: Leg, at: float) -> Result:
    if leg.role is R.CUSTOMER and ix.customer_leg is None:
        return move(replace(ix, customer_leg=leg.uuid), T.TIMELINE), []
    if leg.role is R.AGENT and leg.agent_id is not None:
        offer = Offer(leg.uuid, leg.agent_id, ix.queue, leg.created_at or at, leg.number)
        trigger = T.OFFER if ix.state in (S.IVR, S.QUEUED, S.OFFERING, S.DIALING) else T.TIMELINE
        ix = move(replace(ix, offers=ix.offers + (offer,), offered_at=ix.offered_at or offer.offered_at), trigger)
        return ix, [offered(ix, offer)]
    if leg.role is R.CONSULT and ix.state in (S.CONNECTED, S.ON_HOLD) and ix.consult_leg is None:
        ix = replace(move(ix, T.CONSULT_START), consult_leg=leg.uuid)
        by = serving_agent(ix)
        event = domain_event(
            ix, "call.consult_started", at, by, leg_uuid=leg.uuid, by_agent_id=by,
            target_agent_id=leg.agent_id, number=leg.number,
        )
        return ix, [event]
    return move(ix, T.TIMELINE), []


def _leg_answered(ix: Interaction, f: LegAnswered) -> Result:
    leg = ix.legs.get(f.uuid)
    if leg is None or leg.answered_at is not None or not leg.up:
        return ix, []
    ix = with_leg(ix, replace(leg, answered_at=f.at))
    if leg.uuid == ix.customer_leg:
        return move(ix, T.CUSTOMER_ANSWERED), []
    offer = ix.offer_for(leg.uuid)
    if offer is not None and offer.outcome is OfferOutcome.RINGING:
        ix = with_offer(ix, replace(offer, outcome=OfferOutcome.ANSWERED, ended_at=f.at))
        return move(ix, T.AGENT_ANSWERED), []
    return move(ix, T.TIMELINE), []


def _leg_hungup(ix: Interaction, f: LegHungUp) -> Result:
    leg = ix.legs.get(f.uuid)
    if leg is None or leg.hangup_at is not None:
        return ix, []
    leg = replace(
        leg, hangup_at=f.at, hangup_seq=f.seq, hangup_cause=f.cause,
        hangup_disposition=f.disposition or leg.hangup_disposition,
    )
    ix = with_leg(ix, leg)
    offer = ix.offer_for(leg.uuid)
    if offer is not None and offer.outcome is OfferOutcome.RINGING:
        return _ring_ended(ix, offer, f.cause, f.at)
    if leg.uuid == ix.customer_leg:
        return _customer_left(ix, leg, f.at)
    if leg.uuid == ix.serving_leg:
        return _serving_left(ix)
    if leg.uuid == ix.consult_leg:
        return _consult_ended(ix, "cancelled", f.at)
    if leg.role is R.SUPERVISOR:
        return _supervisor_left(ix, leg.uuid, f.at)
    return move(ix, T.TIMELINE), []


def ring_outcome(ix: Interaction, cause: str) -> OfferOutcome:
    """How an unanswered ring ended, from the leg's hangup cause and the call around it."""
    customer = ix.customer
    if customer is not None and not customer.up:
        return OfferOutcome.CALLER_GONE
    if cause in RING_CAUSES:
        return RING_CAUSES[cause]
    if any(o.outcome is OfferOutcome.ANSWERED for o in ix.offers):
        return OfferOutcome.WITHDRAWN
    return OfferOutcome.FAILED


def _ring_ended(ix: Interaction, offer: Offer, cause: str, at: float) -> Result:
    outcome = ring_outcome(ix, cause)
    ix = with_offer(ix, replace(offer, outcome=outcome, ended_at=at))
    if ix.state is S.OFFERING and not ix.ringing_offers():
        trigger = T.RING_ENDED_REQUEUE if open_visit(ix) is not None else T.RING_ENDED_TO_IVR
    else:
        trigger = T.RING_ENDED
    ix = move(ix, trigger)
    event = domain_event(
        ix, "call.offer_failed", at, offer.agent_id, agent_id=offer.agent_id, leg_uuid=offer.leg_uuid,
        outcome=outcome.value, hangup_cause=cause,
    )
    return ix, [event]


def _customer_left(ix: Interaction, leg: Leg, at: float) -> Result:
    events: list[DomainEvent] = []
    visit = open_visit(ix)
    if ix.state in (S.QUEUED, S.OFFERING):
        waited = round(at - visit.entered_at, 3) if visit is not None else None
        ix = close_visit(ix, at, "abandoned")
        events.append(domain_event(ix, "call.abandoned", at, wait_seconds=waited, queue=ix.queue))
        outcome = Outcome.ANSWERED if ix.answered_at is not None else Outcome.ABANDONED
        ix = replace(ix, abandoned_at=at if outcome is Outcome.ABANDONED else None)
    elif ix.answered_at is not None:
        outcome = Outcome.ANSWERED
    elif leg.answered_at is None and ix.direction.value == "outbound":
        outcome = DIAL_CAUSES.get(leg.hangup_cause, Outcome.FAILED)
    else:
        outcome = Outcome.SELF_SERVICE
    ix = close_visit(ix, at, "left")
    return move(replace(ix, outcome=outcome), T.CUSTOMER_HUNGUP), events


def _serving_left(ix: Interaction) -> Result:
    customer = ix.customer
    released = ix.serving_leg if ix.bridged and customer is not None and customer.up else ix.released_by
    ix = replace(ix, serving_leg=None, bridged=False, held=False, released_by=released)
    if ix.state not in TALKING:
        return move(ix, T.TIMELINE), []
    return move(ix, T.AGENT_LEFT), []


def _consult_ended(ix: Interaction, outcome: str, at: float) -> Result:
    leg_uuid = ix.consult_leg
    ix = replace(ix, consult_leg=None)
    if ix.state is S.CONSULTING:
        trigger = T.CONSULT_END if ix.bridged and not ix.held else T.CONSULT_END_HELD
    else:
        trigger = T.TIMELINE
    ix = move(ix, trigger)
    agent = serving_agent(ix)
    return ix, [domain_event(ix, "call.consult_ended", at, agent, leg_uuid=leg_uuid, outcome=outcome)]


def _supervisor_left(ix: Interaction, leg_uuid: str, at: float) -> Result:
    for index, session in enumerate(ix.supervisors):
        if session.leg_uuid == leg_uuid and session.left_at is None:
            closed = replace(session, left_at=at)
            sessions = ix.supervisors[:index] + (closed,) + ix.supervisors[index + 1:]
            ix = move(replace(ix, supervisors=sessions), T.TIMELINE)
            event = domain_event(
                ix, "call.supervisor_left", at, serving_agent(ix), leg_uuid=leg_uuid,
                mode=session.mode.value, supervisor_agent_id=session.agent_id, extension=session.extension,
            )
            return ix, [event]
    return move(ix, T.TIMELINE), []


def _leg_gone(ix: Interaction, f: LegGone) -> Result:
    leg = ix.legs.get(f.uuid)
    if leg is None or leg.gone:
        return ix, []
    events: list[DomainEvent] = []
    if leg.hangup_at is None:
        ix, events = _leg_hungup(ix, LegHungUp(f.uuid, f.at, f.cause, f.seq, f.disposition))
        leg = ix.legs[f.uuid]
    leg = replace(
        leg, gone=True, hangup_cause=leg.hangup_cause or f.cause,
        hangup_disposition=leg.hangup_disposition or f.disposition,
    )
    ix = with_leg(ix, leg)
    parties = [lg for lg in ix.legs.values() if lg.role is not R.SUPERVISOR]
    if parties and all(lg.gone for lg in parties):
        ix, more = _end(ix, parties, f.at)
        return ix, events + more
    return move(ix, T.TIMELINE), events


def _first_hangup(parties: list[Leg]) -> Leg:
    return min(parties, key=lambda lg: (lg.hangup_at or 0.0, lg.hangup_seq or 1 << 62))


def _side(leg: Leg) -> str:
    disposition = leg.hangup_disposition
    if disposition.startswith("recv_"):
        return "customer" if leg.role is R.CUSTOMER else "agent"
    return "system" if disposition.startswith("send_") else ""


def hangup_by(ix: Interaction, parties: list[Leg]) -> str:
    """``customer``, ``agent``, ``system`` or ``""`` (see the module docstring)."""
    customer = ix.customer
    if customer is None:
        return _side(_first_hangup(parties))
    side = _side(customer)
    if side == "system" and ix.released_by is not None and _side(ix.legs[ix.released_by]) == "agent":
        return "agent"
    return side


def _end(ix: Interaction, parties: list[Leg], at: float) -> Result:
    events: list[DomainEvent] = []
    for session in ix.supervisors:
        if session.left_at is None:
            ix, more = _supervisor_left(ix, session.leg_uuid, at)
            events += more
    ended_at = max(lg.hangup_at or at for lg in parties)
    customer = ix.customer
    cause_leg = customer if customer is not None else _first_hangup(parties)
    outcome = ix.outcome
    if outcome is Outcome.LIVE:
        outcome = Outcome.ANSWERED if ix.answered_at is not None else Outcome.FAILED
    ix = close_visit(ix, ended_at, "left")
    ix = replace(
        move(ix, T.ALL_LEGS_GONE), ended_at=ended_at, outcome=outcome,
        hangup_cause=cause_leg.hangup_cause, hangup_by=hangup_by(ix, parties),
        serving_leg=None, bridged=False, held=False, consult_leg=None,
    )
    ix = sync_segments(ix, ended_at)
    events.append(domain_event(ix, "call.ended", at, ix.agent_id, **to_record(ix)))
    return ix, events


def _bridged(ix: Interaction, f: LegBridged) -> Result:
    a, b = ix.legs.get(f.uuid), ix.legs.get(f.other)
    customer = ix.customer
    if a is None or b is None or customer is None or customer.uuid not in (a.uuid, b.uuid):
        return move(note(ix, "bridged", f.at, legs=[f.uuid, f.other]), T.TIMELINE), []
    other = b if a.uuid == customer.uuid else a
    if not other.up or not customer.up:
        return ix, []
    if other.uuid == ix.serving_leg:
        if ix.bridged:
            return ix, []
        events: list[DomainEvent] = []
        ix = replace(ix, bridged=True)
        if ix.consult_leg is not None:
            ix, events = _consult_ended(ix, "cancelled", f.at)
        return move(ix, T.BRIDGED_HELD if ix.held else T.BRIDGED), events
    return _new_serving(ix, other, f.at)


def _new_serving(ix: Interaction, other: Leg, at: float) -> Result:
    previous = ix.legs.get(ix.serving_leg) if ix.serving_leg else None
    events: list[DomainEvent] = []
    transfer = other.role is R.TRANSFER or other.uuid == ix.consult_leg or (previous is not None and previous.up)
    if transfer:
        kind = "attended" if other.uuid == ix.consult_leg or other.role is R.CONSULT else "blind"
        target = f"agent:{other.agent_id}" if other.agent_id is not None else other.number
        from_agent = previous.agent_id if previous is not None else ix.agent_id
        ix = replace(ix, transfers=ix.transfers + (Transfer(kind, at, target, from_agent),))
        events.append(domain_event(
            ix, "call.transferred", at, other.agent_id, kind=kind, target=target,
            from_agent_id=from_agent, to_agent_id=other.agent_id, leg_uuid=other.uuid,
        ))
        if other.uuid == ix.consult_leg:
            ix = replace(ix, consult_leg=None)
            events.append(domain_event(ix, "call.consult_ended", at, from_agent, leg_uuid=other.uuid, outcome="completed"))
    else:
        visit = open_visit(ix)
        waited = round(at - visit.entered_at, 3) if visit is not None else None
        ix = close_visit(ix, at, "answered", other.agent_id)
        ix = replace(ix, answered_at=ix.answered_at or at)
        events.append(domain_event(ix, "call.answered", at, other.agent_id, agent_id=other.agent_id,
                             leg_uuid=other.uuid, wait_seconds=waited))
    agent = other.agent_id if other.agent_id is not None else ix.agent_id
    ix = replace(ix, serving_leg=other.uuid, bridged=True, held=False, agent_id=agent, released_by=None)
    return move(ix, T.BRIDGED), events


def _unbridged(ix: Interaction, f: LegUnbridged) -> Result:
    pair = {f.uuid, f.other}
    customer = ix.customer
    serving = ix.legs.get(ix.serving_leg) if ix.serving_leg else None
    if customer is None or serving is None or pair != {customer.uuid, serving.uuid}:
        return ix, []
    if not ix.bridged or not customer.up or not serving.up:
        return ix, []
    return move(replace(ix, bridged=False), T.UNBRIDGED), []


def _held(ix: Interaction, f: LegHeld) -> Result:
    if f.uuid not in (ix.customer_leg, ix.serving_leg) or ix.state not in TALKING or ix.held == f.held:
        return ix, []
    ix = replace(ix, held=f.held)
    agent = serving_agent(ix)
    if f.held:
        return move(ix, T.HOLD), [domain_event(ix, "call.held", f.at, agent, leg_uuid=f.uuid)]
    trigger = T.UNHOLD if ix.bridged and ix.consult_leg is None else T.UNHOLD_WAITING
    return move(ix, trigger), [domain_event(ix, "call.resumed", f.at, agent, leg_uuid=f.uuid)]


def _originate_failed(ix: Interaction, f: OriginateFailed) -> Result:
    leg = ix.legs.get(f.leg_uuid)
    if leg is None or not leg.up:
        return ix, []
    cause = f.reason.strip().removeprefix("-ERR").strip() or "FAILED"
    return _leg_gone(ix, LegGone(f.leg_uuid, f.at, cause=cause))


_HANDLERS: dict[type, Callable[[Interaction, Any], Result]] = {
    LegAdded: _leg_added,
    LegAnswered: _leg_answered,
    LegHungUp: _leg_hungup,
    LegGone: _leg_gone,
    LegBridged: _bridged,
    LegUnbridged: _unbridged,
    LegHeld: _held,
    LegRenamed: media.renamed,
    Dtmf: media.dtmf,
    DtmfSecret: media.dtmf_secret,
    RecordingStarted: media.recording_started,
    RecordingStopped: media.recording_stopped,
    SupervisorJoined: media.supervisor_joined,
    DialplanTransfer: media.dialplan_transfer,
    IvrStep: commands.ivr_step,
    QueueEntered: commands.queue_entered,
    QueueLeft: commands.queue_left,
    OfferStarted: commands.offer_started,
    OriginateFailed: _originate_failed,
    WrapupStarted: commands.wrapup_started,
    WrapupEnded: commands.wrapup_ended,
}

__all__ = ["RESYNC_GONE", "CallFact", "IllegalTransition", "Result", "apply", "hangup_by", "ring_outcome"]
