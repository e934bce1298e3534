"""What one channel event says about a leg we already know, as call facts.

Pure translation: the tracker has found the interaction and the leg; this module reads
the event's own headers (Event-Name, Hangup-Cause, DTMF-Digit, Record-File-Path,
Application ...) and returns the facts for :func:`cti.calls.apply`. Times are the
switch's ``Event-Date-Timestamp``; ``Caller-Channel-Answered-Time`` is trusted over
the event time for answers, so a missed CHANNEL_ANSWER is recovered from whatever
event of the leg comes next.
"""

from __future__ import annotations

from collections.abc import Mapping

from cti.call_facts import (
    DialplanTransfer,
    Dtmf,
    DtmfSecret,
    LegAnswered,
    LegBridged,
    LegGone,
    LegHeld,
    LegHungUp,
    LegUnbridged,
    RecordingStarted,
    RecordingStopped,
    SupervisorJoined,
)
from cti.calls import CallFact
from cti.channel_vars import DTMF_SECRET
from cti.interaction import Leg, LegRole, SupervisorMode
from cti.legs import (
    SUPERVISOR_APPS,
    hangup_disposition,
    intercept_target,
    micros,
    supervisor_mode,
    transfer_destination,
)
from esl.events import Event

#: Channel events the tracker reads; every other event is ignored without a lookup.
HANDLED = frozenset({
    "CHANNEL_CREATE", "CHANNEL_ORIGINATE", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_ANSWER", "CHANNEL_EXECUTE", "CHANNEL_PARK", "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE",
    "CHANNEL_HOLD", "CHANNEL_UNHOLD", "DTMF", "RECORD_START", "RECORD_STOP",
    "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "CHANNEL_UUID",
})


def _int_or_none(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def other_leg(event: Event) -> str:
    """The uuid at the other end of a CHANNEL_BRIDGE / CHANNEL_UNBRIDGE.

    ``Bridge-A/B-Unique-ID`` name the bridge the event is about and win: when a leg
    is moved to a new bridge (``uuid_bridge``), the ``CHANNEL_UNBRIDGE`` of its old
    bridge already carries the *new* partner in ``Other-Leg-Unique-ID``.
    """
    a, b = event.get("Bridge-A-Unique-ID"), event.get("Bridge-B-Unique-ID")
    if a and b and event.uuid in (a, b):
        return b if a == event.uuid else a
    other = event.get("Other-Leg-Unique-ID")
    if other and other != event.uuid:
        return other
    return b if a == event.uuid else a


def dtmf_secret(headers: Mapping[str, str]) -> bool | None:
    """Whether ``cti_dtmf_secret`` is on, for events (and ``uuid_dump`` rows) that
    carry the channel's variables; None for the ones that carry none. A real
    ``DTMF`` event is one of those (capture d), so the flag is followed from the
    leg's other events: the ``CHANNEL_EXECUTE`` of the collection shows it on."""
    if "variable_uuid" not in headers:
        return None
    return headers.get(f"variable_{DTMF_SECRET}", "").lower() == "true"


def facts(event: Event, leg: Leg, previous_transfer: str = "") -> list[CallFact]:
    """The facts ``event`` states about ``leg`` (possibly none).

    Args:
        previous_transfer: the ``variable_transfer_source`` last seen on this leg, so
            that a transfer is reported once, not on every later event that repeats it.
    """
    name = event.name
    uuid, at = leg.uuid, event.timestamp
    found: list[CallFact] = []
    secret = dtmf_secret(event.headers)
    if secret is not None and secret != leg.dtmf_secret:
        found.append(DtmfSecret(uuid, secret, at))
    answered = micros(event.get("Caller-Channel-Answered-Time"))
    if name == "CHANNEL_ANSWER":
        found.append(LegAnswered(uuid, answered or at))
    elif answered is not None and leg.answered_at is None:
        found.append(LegAnswered(uuid, answered))
    if name == "CHANNEL_BRIDGE":
        found.append(LegBridged(uuid, other_leg(event), at))
    elif name == "CHANNEL_UNBRIDGE":
        found.append(LegUnbridged(uuid, other_leg(event), at))
    elif name in ("CHANNEL_HOLD", "CHANNEL_UNHOLD"):
        found.append(LegHeld(uuid, name == "CHANNEL_HOLD", at))
    elif name == "DTMF":
        found.append(Dtmf(uuid, event.get("DTMF-Digit"), at))
    elif name == "RECORD_START":
        found.append(RecordingStarted(uuid, event.get("Record-File-Path"), at))
    elif name == "RECORD_STOP":
        found.append(RecordingStopped(
            uuid, event.get("Record-File-Path"), at,
            duration_ms=_int_or_none(event.var("record_ms")), size_bytes=_int_or_none(event.var("record_file_size")),
        ))
    elif name == "CHANNEL_EXECUTE":
        found.extend(_execute(event, leg, previous_transfer))
    elif name == "CHANNEL_HANGUP":
        found.append(LegHungUp(uuid, at, event.get("Hangup-Cause"), event.sequence, hangup_disposition(event.headers)))
    elif name in ("CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"):
        found.append(LegGone(uuid, at, event.get("Hangup-Cause"), event.sequence, hangup_disposition(event.headers)))
    return found


def _execute(event: Event, leg: Leg, previous_transfer: str) -> list[CallFact]:
    application = event.get("Application")
    if application in SUPERVISOR_APPS and leg.role is LegRole.SUPERVISOR:
        target = event.get("Application-Data").strip()
        return [SupervisorJoined(leg.uuid, supervisor_mode(event.headers, application), target, event.timestamp)]
    if application == "intercept" and leg.role is LegRole.SUPERVISOR:
        target = intercept_target(event.get("Application-Data"))
        return [SupervisorJoined(leg.uuid, SupervisorMode.INTERCEPT, target, event.timestamp)]
    source = event.var("transfer_source")
    if leg.role is LegRole.CUSTOMER and source and source != previous_transfer:
        destination = transfer_destination(source)
        if destination is not None:
            return [DialplanTransfer(leg.uuid, destination, event.timestamp)]
    return []
