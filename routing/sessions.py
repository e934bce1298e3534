"""What the routing engine keeps per inbound call, and the one table of its phases.

A :class:`Session` is the shell's mutable record of a managed inbound call: its
customer leg and switch, what the caller is hearing, the IVR state it carries between
steps, the queue it waits in and the agent legs ringing for it. Its :class:`Phase`
moves only through :data:`TRANSITIONS` (:meth:`Session.move`); anything else raises
:class:`SessionStateError`, which the engine logs and counts -- typically a late
event racing a hang-up (an agent answering for a caller who just left).

Life of a call: ``ARRIVING`` (known, waiting for the park and the directory lookups)
``-> IVR -> QUEUED -> RINGING -> BRIDGING`` (an agent answered; the caller may hear the
agent's id) ``-> CONNECTED``. A ring that fails goes back to ``QUEUED``; an overflow to
a flow or to voicemail goes back to ``IVR``; a caller who takes the callback offer
leaves their place to a callback (``CALLBACK``, the leg is hung up). An agent who
transfers the call to a queue sends it ``CONNECTED -> TRANSFERRING`` (the caller is on
the way back to park) ``-> QUEUED``. ``ENDED`` is final: the caller left, or the call
was handed elsewhere.

Every wait for the switch has a bound: an application we wait for carries its
``Pending.deadline``, and ``BRIDGING`` / ``TRANSFERRING`` carry ``Session.deadline``
(engine-clock epoch seconds); :mod:`routing.recovery` acts on the ones that pass.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from routing.decisions import Announce, OfferCallback
from routing.flows import Flow
from routing.ivr_state import IvrState, TimelineEntry
from routing.lanes import Lane
from routing.site import CallerFacts
from routing.steps import Execute
from routing.waiting import WaitingCall


class Phase(enum.Enum):
    ARRIVING = "arriving"
    IVR = "ivr"
    QUEUED = "queued"
    RINGING = "ringing"
    BRIDGING = "bridging"
    CONNECTED = "connected"
    CALLBACK = "callback"
    TRANSFERRING = "transferring"
    ENDED = "ended"


P = Phase
_LIVE = frozenset(P) - {P.ENDED}

#: (phase, trigger) -> next phase. Anything missing is illegal.
TRANSITIONS: dict[tuple[Phase, str], Phase] = {
    (P.ARRIVING, "ivr"): P.IVR,
    (P.IVR, "ivr"): P.IVR,              # a transfer to another flow
    (P.QUEUED, "ivr"): P.IVR,           # overflow to a flow or to voicemail
    (P.ARRIVING, "enqueue"): P.QUEUED,  # picked up again after a middleware restart
    (P.IVR, "enqueue"): P.QUEUED,
    (P.QUEUED, "enqueue"): P.QUEUED,    # overflow to another queue, moved by a supervisor
    (P.QUEUED, "offer"): P.RINGING,
    (P.RINGING, "offer"): P.RINGING,
    (P.RINGING, "requeue"): P.QUEUED,   # the last ring failed
    (P.BRIDGING, "requeue"): P.QUEUED,  # the bridge failed
    (P.RINGING, "answered"): P.BRIDGING,
    (P.BRIDGING, "bridged"): P.CONNECTED,
    (P.QUEUED, "callback"): P.CALLBACK,
    (P.CONNECTED, "transfer"): P.TRANSFERRING,   # an agent sent the call back to a queue
    (P.TRANSFERRING, "enqueue"): P.QUEUED,       # parked again: it waits in that queue
    **{(phase, "end"): P.ENDED for phase in _LIVE},
}


class SessionStateError(Exception):
    """A trigger the phase table does not allow for this call."""

    def __init__(self, interaction_id: str, phase: Phase, trigger: str) -> None:
        super().__init__(f"call {interaction_id}: {trigger} is not allowed while {phase.value}")
        self.interaction_id = interaction_id
        self.phase = phase
        self.trigger = trigger


@dataclass(frozen=True, slots=True)
class Pending:
    """Why we ran an application whose completion we wait for.

    ``kind`` is ``ivr`` (resume the IVR), ``announce`` (a queue announcement; the
    music comes back after it), ``callback_offer`` (``digit`` accepts; the answer is
    in channel variable ``variable``) or ``agent_announce`` (bridge after it).
    ``step`` is the IVR application, kept so it can be run again when its completion
    was lost; ``deadline`` (engine time) is when waiting longer means it never comes.
    """

    kind: str
    variable: str = ""
    digit: str = ""
    step: Execute | None = None
    deadline: float = math.inf


@dataclass
class Session:
    """One managed inbound call (see the module docstring)."""

    iid: str
    leg: str
    node: str
    lane: Lane
    caller_number: str = ""
    caller_name: str = ""
    did: str = ""
    phase: Phase = Phase.ARRIVING
    parked: bool = False
    gone: bool = False
    facts: CallerFacts | None = None
    # IVR
    flow: Flow | None = None
    ivr: IvrState | None = None
    timeline: list[TimelineEntry] = field(default_factory=list)
    language: str = "en"
    priority_boost: int = 0
    # queue
    queue: str = ""
    waiting: WaitingCall | None = None
    music: bool = False
    media: str = ""
    deferred: list[Announce | OfferCallback] = field(default_factory=list)
    offers: dict[str, int] = field(default_factory=dict)
    answered_leg: str = ""
    answered_agent: int | None = None
    pending: dict[str, Pending] = field(default_factory=dict)
    # bounds and transfers
    deadline: float = math.inf          # BRIDGING: the bridge event; TRANSFERRING: the park
    first_queued_at: float | None = None
    transfer_leg: str = ""              # the agent leg a transfer to a queue leaves behind

    @property
    def call_id(self) -> str:
        """The router's id for the call: the interaction id."""
        return self.iid

    @property
    def display_number(self) -> str:
        return self.caller_number

    @property
    def display_name(self) -> str:
        return self.caller_name

    def move(self, trigger: str) -> Phase:
        try:
            self.phase = TRANSITIONS[(self.phase, trigger)]
        except KeyError:
            raise SessionStateError(self.iid, self.phase, trigger) from None
        return self.phase

    @property
    def waiting_for_agent(self) -> bool:
        """In line or ringing: the caller hears the queue's music."""
        return self.phase in (Phase.QUEUED, Phase.RINGING)
