"""The interaction record: one customer contact and everything that happened to it.

These are immutable values. :mod:`cti.calls` builds a new :class:`Interaction` for
every fact it applies; nothing here changes in place, so a snapshot handed to the web
or the store can never change under its reader. Times are epoch seconds taken from the
switch's ``Event-Date-Timestamp`` (or the caller's clock for commands);
:mod:`cti.call_record` renders the public JSON shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from cti.call_states import FINAL, CallState


class Direction(Enum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class LegRole(Enum):
    """Same names as ``cti_role`` (:data:`cti.channel_vars.ROLES`)."""

    CUSTOMER = "customer"
    AGENT = "agent"
    CONSULT = "consult"
    TRANSFER = "transfer"
    SUPERVISOR = "supervisor"


class OfferOutcome(Enum):
    """How a ring on an agent's phone ended (``agent_offers.outcome``)."""

    RINGING = "ringing"
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    UNREGISTERED = "unregistered"
    CALLER_GONE = "caller_gone"
    FAILED = "failed"
    WITHDRAWN = "withdrawn"        # the middleware cancelled it (another agent answered ...)


class Outcome(Enum):
    """How the contact ended (``interactions.outcome``)."""

    LIVE = "live"
    ANSWERED = "answered"          # an agent talked to the customer
    ABANDONED = "abandoned"        # the customer hung up while queued or ringing an agent
    SELF_SERVICE = "self_service"  # ended in the IVR (or an agentless outbound message)
    NO_ANSWER = "no_answer"        # outbound: nobody answered
    BUSY = "busy"                  # outbound: busy or rejected
    FAILED = "failed"              # outbound: the call could not be placed


class SupervisorMode(Enum):
    LISTEN = "listen"
    WHISPER = "whisper"            # talks to the agent only
    BARGE = "barge"                # three_way: talks to both
    FULL_BARGE = "full_barge"      # eavesdrop bridged to both legs
    INTERCEPT = "intercept"        # the supervisor took the call over (mod_dptools intercept)


@dataclass(frozen=True, slots=True)
class Leg:
    """One channel of the interaction. ``seen`` is False for a leg we asked the switch
    to create (originate) whose first event has not arrived yet."""

    uuid: str
    role: LegRole
    node: str = ""
    agent_id: int | None = None
    channel_name: str = ""
    number: str = ""
    seen: bool = True
    created_at: float | None = None
    answered_at: float | None = None
    hangup_at: float | None = None
    hangup_seq: int = 0
    hangup_cause: str = ""
    hangup_disposition: str = ""
    gone: bool = False
    dtmf_secret: bool = False   # cti_dtmf_secret is on: its DTMF is masked

    @property
    def up(self) -> bool:
        return self.hangup_at is None and not self.gone


@dataclass(frozen=True, slots=True)
class Offer:
    leg_uuid: str
    agent_id: int
    queue: str
    offered_at: float
    extension: str = ""
    ended_at: float | None = None
    outcome: OfferOutcome = OfferOutcome.RINGING


@dataclass(frozen=True, slots=True)
class Segment:
    """A talk, hold, consult or wrap-up period of one agent."""

    agent_id: int
    kind: str
    started_at: float
    queue: str = ""
    ended_at: float | None = None

    def seconds(self, until: float | None = None) -> float:
        end = self.ended_at if self.ended_at is not None else until
        return 0.0 if end is None else max(0.0, end - self.started_at)


@dataclass(frozen=True, slots=True)
class QueueVisit:
    seq: int
    queue: str
    priority: int
    entered_at: float
    answered_at: float | None = None
    left_at: float | None = None
    outcome: str = "waiting"   # answered, abandoned, overflowed, voicemail, callback, transferred
    agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class Recording:
    id: str
    leg_uuid: str
    path: str
    started_at: float
    agent_id: int | None = None
    ended_at: float | None = None
    duration_ms: int | None = None
    size_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class SupervisorSession:
    leg_uuid: str
    mode: SupervisorMode
    target_uuid: str
    joined_at: float
    agent_id: int | None = None
    extension: str = ""
    left_at: float | None = None


@dataclass(frozen=True, slots=True)
class Transfer:
    kind: str          # blind | attended
    at: float
    target: str        # agent:<id>, queue:<name> or a number / dialplan destination
    from_agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: float
    type: str
    detail: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Interaction:
    """One customer contact from its first leg to the end of after-call work."""

    id: str
    direction: Direction
    state: CallState
    node: str = ""
    started_at: float = 0.0
    outcome: Outcome = Outcome.LIVE
    did: str = ""
    caller_number: str = ""
    caller_name: str = ""
    callee_number: str = ""
    campaign_id: int | None = None
    contact_id: int | None = None
    flow_name: str = ""
    ivr_path: tuple[TimelineEntry, ...] = ()
    digits: str = ""
    queue: str = ""
    priority: int = 0
    queue_entered_at: float | None = None
    offered_at: float | None = None
    answered_at: float | None = None
    abandoned_at: float | None = None
    ended_at: float | None = None
    wrapup_ended_at: float | None = None
    agent_id: int | None = None          # the agent who answered last
    customer_leg: str | None = None
    serving_leg: str | None = None       # the leg serving the customer (agent, consult, transfer)
    bridged: bool = False                # customer and serving leg are bridged now
    held: bool = False
    consult_leg: str | None = None
    released_by: str | None = None       # the serving leg that hung up on a bridged customer
    legs: Mapping[str, Leg] = field(default_factory=lambda: MappingProxyType({}))
    offers: tuple[Offer, ...] = ()
    segments: tuple[Segment, ...] = ()
    queue_visits: tuple[QueueVisit, ...] = ()
    recordings: tuple[Recording, ...] = ()
    supervisors: tuple[SupervisorSession, ...] = ()
    transfers: tuple[Transfer, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    disposition: str = ""
    notes: str = ""
    hangup_cause: str = ""
    hangup_by: str = ""
    wrapups_pending: frozenset[int] = frozenset()

    @property
    def finished(self) -> bool:
        """Nothing more will happen: every leg gone and nobody wrapping up."""
        return self.state in FINAL and not self.wrapups_pending

    @property
    def customer(self) -> Leg | None:
        return self.legs.get(self.customer_leg) if self.customer_leg else None

    def offer_for(self, leg_uuid: str) -> Offer | None:
        for offer in self.offers:
            if offer.leg_uuid == leg_uuid:
                return offer
        return None

    def ringing_offers(self) -> list[Offer]:
        return [o for o in self.offers if o.outcome is OfferOutcome.RINGING]

    def talk_seconds(self, until: float | None = None) -> float:
        return sum((s.seconds(until) for s in self.segments if s.kind == "talk"), 0.0)

    def hold_seconds(self, until: float | None = None) -> float:
        return sum((s.seconds(until) for s in self.segments if s.kind == "hold"), 0.0)

    def wrapup_seconds(self, until: float | None = None) -> float:
        return sum((s.seconds(until) for s in self.segments if s.kind == "wrapup"), 0.0)


def frozen_map(values: Mapping[str, Leg]) -> Mapping[str, Leg]:
    """A read-only view of a fresh dict (legs are replaced wholesale, never edited)."""
    return MappingProxyType(dict(values))
