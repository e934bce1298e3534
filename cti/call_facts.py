"""The facts :func:`cti.calls.apply` understands, one small immutable type each.

Leg facts are what the tracker read from a channel event once it knew which
interaction and role the leg has; command facts are decisions of routing, the dialer
and the web. Every fact carries ``at``: the switch's event time for leg facts, the
caller's clock for commands (epoch seconds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cti.interaction import Leg, SupervisorMode


@dataclass(frozen=True, slots=True)
class LegAdded:
    """A leg joins the interaction (first event of a channel, or an originate we sent)."""

    leg: Leg
    at: float


@dataclass(frozen=True, slots=True)
class LegAnswered:
    uuid: str
    at: float


@dataclass(frozen=True, slots=True)
class LegHungUp:
    """``CHANNEL_HANGUP``: ``seq`` orders hang-ups (Event-Sequence), ``disposition`` is
    ``variable_sip_hangup_disposition`` when the event carries it."""

    uuid: str
    at: float
    cause: str
    seq: int = 0
    disposition: str = ""


@dataclass(frozen=True, slots=True)
class LegGone:
    """``CHANNEL_HANGUP_COMPLETE`` / ``CHANNEL_DESTROY``: the channel no longer exists."""

    uuid: str
    at: float
    cause: str = ""
    seq: int = 0
    disposition: str = ""


@dataclass(frozen=True, slots=True)
class LegBridged:
    uuid: str
    other: str
    at: float


@dataclass(frozen=True, slots=True)
class LegUnbridged:
    uuid: str
    other: str
    at: float


@dataclass(frozen=True, slots=True)
class LegHeld:
    uuid: str
    held: bool
    at: float


@dataclass(frozen=True, slots=True)
class Dtmf:
    """A key the leg received (recorded masked while the leg's ``dtmf_secret`` is on)."""

    uuid: str
    digit: str
    at: float


@dataclass(frozen=True, slots=True)
class DtmfSecret:
    """``variable_cti_dtmf_secret`` of a leg changed (routing sets it around a secret
    collection): DTMF of that leg is masked while it is on."""

    uuid: str
    secret: bool
    at: float


@dataclass(frozen=True, slots=True)
class RecordingStarted:
    uuid: str
    path: str
    at: float


@dataclass(frozen=True, slots=True)
class RecordingStopped:
    uuid: str
    path: str
    at: float
    duration_ms: int | None = None
    size_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class SupervisorJoined:
    """A supervisor leg started eavesdrop/three_way on ``target_uuid`` (no bridge event exists)."""

    uuid: str
    mode: SupervisorMode
    target_uuid: str
    at: float


@dataclass(frozen=True, slots=True)
class DialplanTransfer:
    """The customer leg was sent to dialplan ``destination`` (``uuid_transfer``)."""

    uuid: str
    destination: str
    at: float


@dataclass(frozen=True, slots=True)
class IvrStep:
    """Routing's IVR timeline: ``detail`` carries ``kind`` (``node_entered``,
    ``node_left``, ``invalid_input``, ``no_input``), ``exit``, ``seconds``,
    ``attempt``, ``digits_length`` as :mod:`reports.ivr_report` reads them."""

    flow: str
    node: str
    at: float
    digits: str = ""
    detail: Mapping[str, str | int | float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QueueEntered:
    queue: str
    priority: int
    at: float


@dataclass(frozen=True, slots=True)
class QueueLeft:
    """The call left its queue without an agent: voicemail, callback, overflow to a flow."""

    outcome: str
    at: float


@dataclass(frozen=True, slots=True)
class OfferStarted:
    """Routing originated ``leg_uuid`` to the agent's phone."""

    agent_id: int
    leg_uuid: str
    at: float
    queue: str = ""
    extension: str = ""


@dataclass(frozen=True, slots=True)
class OriginateFailed:
    """``BACKGROUND_JOB -ERR <reason>`` for an originate of ``leg_uuid``."""

    leg_uuid: str
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class WrapupStarted:
    agent_id: int
    at: float


@dataclass(frozen=True, slots=True)
class WrapupEnded:
    agent_id: int
    at: float
    disposition: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class LegRenamed:
    """``CHANNEL_UUID``: the switch renamed a leg (loopback legs get their origination uuid late)."""

    old: str
    new: str
    at: float
