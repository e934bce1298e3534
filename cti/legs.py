"""Which leg is what: reading a channel's identity from its event headers.

Every leg the middleware creates or takes over carries our channel variables
(:mod:`cti.channel_vars`) in each event that has ``variable_*`` headers: interaction,
role, agent, queue. An inbound call parked by our dialplan carries
``variable_cti_managed=true`` and ``variable_cti_did`` before the middleware tags it.
Other legs are known only through FreeSWITCH linkage (the tracker uses
:func:`link_candidates`): ``Other-Leg-Unique-ID`` on the bridge, ``Channel-Call-UUID``,
``variable_bridge_uuid``; supervisor legs through ``CHANNEL_EXECUTE`` of eavesdrop or
three_way whose Application-Data is the target uuid (those apps never emit
CHANNEL_BRIDGE). The far half of a loopback pair (``variable_loopback_leg=B``) inherits
the originate's variables but is FreeSWITCH's own plumbing, never one of our legs.

The same reader takes a resync row (``show channels as json`` merged with
``uuid_dump``), whose keys are the event header names plus the ``show`` columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cti import channel_vars as cv
from cti.call_states import CallState
from cti.interaction import Direction, Interaction, Leg, LegRole, SupervisorMode

_ROLES = {role.value: role for role in LegRole}
_MODES = {mode.value: mode for mode in SupervisorMode}
SUPERVISOR_APPS = frozenset({"eavesdrop", "three_way"})


def _var(headers: Mapping[str, str], name: str) -> str:
    return headers.get(f"variable_{name}", "")


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() else None


def micros(value: str) -> float | None:
    """A ``Caller-Channel-*-Time`` header (microseconds, ``0`` = never) as epoch seconds."""
    number = _int(value)
    return number / 1_000_000 if number else None


@dataclass(frozen=True, slots=True)
class LegIdentity:
    """What one event (or resync row) says about the channel it belongs to."""

    uuid: str
    interaction_id: str = ""
    role: LegRole | None = None
    agent_id: int | None = None
    queue: str = ""
    managed: bool = False
    did: str = ""
    campaign_id: int | None = None
    contact_id: int | None = None
    supervisor_mode: SupervisorMode | None = None
    target_uuid: str = ""
    loopback_b: bool = False
    channel_name: str = ""
    caller_number: str = ""
    caller_name: str = ""
    destination: str = ""
    call_direction: str = ""
    extension: str = ""
    created_at: float | None = None
    answered_at: float | None = None

    @property
    def tagged(self) -> bool:
        """True when our variables say which interaction the leg belongs to."""
        return bool(self.interaction_id) and self.role is not None


def read_identity(headers: Mapping[str, str]) -> LegIdentity:
    """Read the leg identity from event headers or a resync row."""
    uuid = headers.get("Unique-ID") or headers.get("uuid", "")
    channel = headers.get("Channel-Name") or headers.get("name", "")
    created = micros(headers.get("Caller-Channel-Created-Time", ""))
    if created is None and _int(headers.get("created_epoch", "")):
        created = float(headers["created_epoch"])
    return LegIdentity(
        uuid=uuid,
        interaction_id=_var(headers, cv.INTERACTION_ID),
        role=_ROLES.get(_var(headers, cv.ROLE)),
        agent_id=_int(_var(headers, cv.AGENT_ID)),
        queue=_var(headers, cv.QUEUE),
        managed=_var(headers, cv.MANAGED) == "true",
        did=_var(headers, cv.DID),
        campaign_id=_int(_var(headers, cv.CAMPAIGN_ID)),
        contact_id=_int(_var(headers, cv.CONTACT_ID)),
        supervisor_mode=_MODES.get(_var(headers, cv.SUPERVISOR_MODE)),
        target_uuid=_var(headers, cv.TARGET_UUID),
        loopback_b=_var(headers, "loopback_leg") == "B",
        channel_name=channel,
        caller_number=headers.get("Caller-Orig-Caller-ID-Number") or headers.get("Caller-Caller-ID-Number")
        or headers.get("cid_num", ""),
        caller_name=headers.get("Caller-Orig-Caller-ID-Name") or headers.get("Caller-Caller-ID-Name")
        or headers.get("cid_name", ""),
        destination=headers.get("Caller-Destination-Number") or headers.get("dest", ""),
        call_direction=headers.get("Call-Direction") or headers.get("direction", ""),
        extension=_var(headers, "dialed_user") or sofia_user(channel),
        created_at=created,
        answered_at=micros(headers.get("Caller-Channel-Answered-Time", "")),
    )


def sofia_user(channel_name: str) -> str:
    """``1001`` from ``sofia/internal/1001@127.0.0.1:5090``; ``""`` for gateways and
    other technologies (their user part is a number, not one of our phones)."""
    parts = channel_name.split("/", 2)
    if len(parts) != 3 or parts[0] != "sofia" or parts[1] == "gateway" or "/" in parts[2]:
        return ""
    return parts[2].split("@", 1)[0]


def link_candidates(headers: Mapping[str, str]) -> list[str]:
    """Uuids of other legs this channel is linked to, most specific first."""
    own = headers.get("Unique-ID") or headers.get("uuid", "")
    found: list[str] = []
    for value in (
        headers.get("Other-Leg-Unique-ID", ""),
        headers.get("variable_bridge_uuid", ""),
        headers.get("b_uuid", ""),
        headers.get("Channel-Call-UUID") or headers.get("call_uuid", ""),
    ):
        if value and value != own and value not in found:
            found.append(value)
    return found


def supervisor_mode(headers: Mapping[str, str], application: str) -> SupervisorMode:
    """The monitoring mode of an eavesdrop/three_way leg.

    Our own ``cti_supervisor_mode`` wins; otherwise mod_dptools' variables tell the
    eavesdrop flavours apart: ``eavesdrop_whisper_aleg``/``_bleg`` = whisper,
    ``eavesdrop_bridge_aleg`` and ``_bleg`` = full barge; three_way is a barge;
    intercept takes the call over.
    """
    own = _MODES.get(_var(headers, cv.SUPERVISOR_MODE))
    if own is not None:
        return own
    if application == "intercept":
        return SupervisorMode.INTERCEPT
    if application == "three_way":
        return SupervisorMode.BARGE
    if _var(headers, "eavesdrop_bridge_aleg") == "true" and _var(headers, "eavesdrop_bridge_bleg") == "true":
        return SupervisorMode.FULL_BARGE
    if "true" in (_var(headers, "eavesdrop_whisper_aleg"), _var(headers, "eavesdrop_whisper_bleg")):
        return SupervisorMode.WHISPER
    return SupervisorMode.LISTEN


#: mod_dptools eavesdrop's mode keys, read from the eavesdropper's received DTMF (the
#: supervisor's keypad or ``uuid_recv_dtmf``): 2 = speak to the target leg only, 1 = to
#: the other half only, 3 = to both (three-way), 0 = back to listening. Our supervisor
#: legs eavesdrop on the agent's leg, so 2 is a whisper to the agent.
EAVESDROP_KEYS: dict[str, str] = {"0": "nobody", "1": "other_half", "2": "target", "3": "both"}


def mode_after_digit(digit: str, target_is_customer: bool) -> SupervisorMode | None:
    """The monitoring mode an eavesdrop leg is in after it received ``digit`` (None:
    the digit does not change the mode). Whoever hears the supervisor decides: nobody
    = listen, both = barge, only the agent side = whisper. Speaking to the customer
    alone is not a mode we model, so it also gives None."""
    heard_by = EAVESDROP_KEYS.get(digit)
    if heard_by is None:
        return None
    agent_side = "other_half" if target_is_customer else "target"
    return {"nobody": SupervisorMode.LISTEN, "both": SupervisorMode.BARGE,
            agent_side: SupervisorMode.WHISPER}.get(heard_by)


def intercept_target(application_data: str) -> str:
    """The uuid ``intercept [-bleg] <uuid>`` takes over (its last argument)."""
    words = application_data.split()
    return words[-1] if words else ""


def transfer_destination(transfer_source: str) -> str | None:
    """The dialplan destination of a ``uuid_transfer`` (``variable_transfer_source``).

    FreeSWITCH writes ``<epoch>:<uuid>:bl_xfer:<dest>/<context>/<dialplan>`` for a
    blind transfer and ``...:uuid_br:<uuid>`` for a bridge; only the first is a transfer.
    """
    parts = transfer_source.split(":", 3)
    if len(parts) != 4 or parts[2] != "bl_xfer":
        return None
    return parts[3].split("/", 1)[0]


def hangup_disposition(headers: Mapping[str, str]) -> str:
    return _var(headers, "sip_hangup_disposition")


def interaction_from(iid: str, who: LegIdentity, role: LegRole, node: str, at: float) -> Interaction:
    """An interaction first seen through one of its legs: a managed inbound call, or a
    tagged leg after a restart. The direction comes from the customer leg when that is
    the one seen; otherwise a campaign variable means outbound, anything else inbound."""
    customer = role is LegRole.CUSTOMER
    inbound = who.call_direction == "inbound" if customer else who.campaign_id is None
    return Interaction(
        iid,
        Direction.INBOUND if inbound else Direction.OUTBOUND,
        CallState.DIALING if customer and not inbound else CallState.IVR,
        node=node,
        started_at=who.created_at or at,
        did=who.did or (who.destination if customer and inbound else ""),
        caller_number=who.caller_number if customer else "",
        caller_name=who.caller_name if customer and inbound else "",
        callee_number=who.destination if customer and not inbound else "",
        campaign_id=who.campaign_id,
        contact_id=who.contact_id,
        queue=who.queue,
    )


def leg_from(who: LegIdentity, role: LegRole, agent_id: int | None, node: str, at: float) -> Leg:
    """The :class:`Leg` for a channel first seen now. The number shown for it is the
    caller's for an inbound customer, the dialled one for everything we called."""
    if role is LegRole.CUSTOMER:
        number = who.caller_number if who.call_direction == "inbound" else who.destination
    else:
        number = who.extension or who.destination
    return Leg(
        who.uuid, role, node=node, agent_id=agent_id, channel_name=who.channel_name, number=number,
        created_at=who.created_at or at, answered_at=who.answered_at,
    )


def partner_identity(headers: Mapping[str, str], uuid: str) -> LegIdentity:
    """The far end of a bridge as the ``Other-Leg-*`` headers of its partner describe it."""
    other = {k.removeprefix("Other-Leg-"): v for k, v in headers.items() if k.startswith("Other-Leg-")}
    channel = other.get("Channel-Name", "")
    return LegIdentity(
        uuid=uuid, channel_name=channel, caller_number=other.get("Caller-ID-Number", ""),
        destination=other.get("Destination-Number", ""), call_direction=other.get("Direction", ""),
        extension=sofia_user(channel), created_at=micros(other.get("Channel-Created-Time", "")),
        answered_at=micros(other.get("Channel-Answered-Time", "")),
    )


def linked_role(anchor: LegRole, agent_id: int | None) -> LegRole:
    """The role of an untagged leg linked to one of ours: bridged to the customer it is an
    agent (its phone is a logged-in agent's) or a transfer target; linked to any other
    leg it is a consultation."""
    if anchor is LegRole.CUSTOMER:
        return LegRole.AGENT if agent_id is not None else LegRole.TRANSFER
    return LegRole.CONSULT
