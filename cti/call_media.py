"""Call handlers for what happens around the conversation: DTMF on the timeline (masked
while the leg collects a secret), recordings, supervisors joining (and switching mode:
eavesdrop keys 0/2/3 on their leg, or intercept), dialplan transfers of the customer
leg, leg renames.

None of these changes who talks to whom; they add to the record (see :mod:`cti.calls`
for the dispatch and the rules).
"""

from __future__ import annotations

import uuid as uuidlib
from dataclasses import replace

from cti.call_facts import (
    DialplanTransfer,
    Dtmf,
    DtmfSecret,
    LegRenamed,
    RecordingStarted,
    RecordingStopped,
    SupervisorJoined,
)
from cti.call_ops import Result, domain_event, move, note, serving_agent, with_leg
from cti.call_states import CallState, CallTrigger
from cti.interaction import (
    Interaction,
    LegRole,
    Recording,
    SupervisorMode,
    SupervisorSession,
    Transfer,
    frozen_map,
)
from cti.legs import mode_after_digit

T = CallTrigger
#: What a key of a secret collection is recorded as: that a key was pressed, not which.
SECRET_DIGIT = "•"
#: Recording ids are uuid5(leg, path, start): the same recording always gets the same id,
#: so the store can write it idempotently.
_RECORDING_NS = uuidlib.UUID("6f1d3c52-4b0e-4bd9-9a57-0d2f1f6c7a10")


def renamed(ix: Interaction, f: LegRenamed) -> Result:
    leg = ix.legs.get(f.old)
    if leg is None or f.new in ix.legs:
        return ix, []

    def swap(uuid: str | None) -> str | None:
        return f.new if uuid == f.old else uuid

    legs = {f.new if uuid == f.old else uuid: value for uuid, value in ix.legs.items()}
    legs[f.new] = replace(leg, uuid=f.new)
    ix = replace(
        ix, legs=frozen_map(legs), customer_leg=swap(ix.customer_leg), serving_leg=swap(ix.serving_leg),
        consult_leg=swap(ix.consult_leg),
        offers=tuple(replace(o, leg_uuid=f.new) if o.leg_uuid == f.old else o for o in ix.offers),
        recordings=tuple(replace(r, leg_uuid=f.new) if r.leg_uuid == f.old else r for r in ix.recordings),
        supervisors=tuple(replace(s, leg_uuid=f.new) if s.leg_uuid == f.old else s for s in ix.supervisors),
    )
    return move(note(ix, "renamed", f.at, old=f.old, new=f.new), T.TIMELINE), []


def dtmf(ix: Interaction, f: Dtmf) -> Result:
    leg = ix.legs.get(f.uuid)
    if leg is None:
        return ix, []
    digit = SECRET_DIGIT if leg.dtmf_secret else f.digit
    digits = ix.digits + digit if leg.role is LegRole.CUSTOMER else ix.digits
    ix = note(replace(ix, digits=digits), "dtmf", f.at, digit=digit, leg_uuid=f.uuid, role=leg.role.value)
    ix = move(ix, T.TIMELINE)
    if leg.role is LegRole.SUPERVISOR and digit != SECRET_DIGIT:
        return _supervisor_key(ix, f)
    return ix, []


def dtmf_secret(ix: Interaction, f: DtmfSecret) -> Result:
    leg = ix.legs.get(f.uuid)
    if leg is None or leg.dtmf_secret == f.secret:
        return ix, []
    return move(with_leg(ix, replace(leg, dtmf_secret=f.secret)), T.TIMELINE), []


def _supervisor_key(ix: Interaction, f: Dtmf) -> Result:
    """A digit an eavesdropping supervisor leg received (keypad or ``uuid_recv_dtmf``)
    switches its mode as mod_dptools does (:func:`cti.legs.mode_after_digit`). Assumes
    the leg runs ``eavesdrop`` (three_way ignores digits; our legs never use it)."""
    found = _open_session(ix, f.uuid)
    if found is None or found[1].mode is SupervisorMode.INTERCEPT:
        return ix, []
    mode = mode_after_digit(f.digit, found[1].target_uuid == ix.customer_leg)
    return (ix, []) if mode is None else _mode_changed(ix, found, mode, f.at)


def _open_session(ix: Interaction, leg_uuid: str) -> tuple[int, SupervisorSession] | None:
    for index, session in enumerate(ix.supervisors):
        if session.leg_uuid == leg_uuid and session.left_at is None:
            return index, session
    return None


def _mode_changed(ix: Interaction, found: tuple[int, SupervisorSession], mode: SupervisorMode, at: float) -> Result:
    """The same supervisor leg now listens, whispers, barges or took the call over:
    published as ``call.supervisor_joined`` again, with ``switched_from``."""
    index, session = found
    if mode is session.mode:
        return ix, []
    changed = replace(session, mode=mode)
    ix = move(replace(ix, supervisors=ix.supervisors[:index] + (changed,) + ix.supervisors[index + 1:]), T.TIMELINE)
    event = domain_event(
        ix, "call.supervisor_joined", at, serving_agent(ix), leg_uuid=session.leg_uuid, mode=mode.value,
        switched_from=session.mode.value, target_uuid=session.target_uuid, supervisor_agent_id=session.agent_id,
        extension=session.extension,
    )
    return ix, [event]


def recording_started(ix: Interaction, f: RecordingStarted) -> Result:
    if any(r.leg_uuid == f.uuid and r.path == f.path and r.ended_at is None for r in ix.recordings):
        return ix, []
    leg = ix.legs.get(f.uuid)
    agent = leg.agent_id if leg is not None and leg.agent_id is not None else serving_agent(ix)
    rec_id = str(uuidlib.uuid5(_RECORDING_NS, f"{f.uuid}:{f.path}:{f.at:.6f}"))
    ix = move(replace(ix, recordings=ix.recordings + (Recording(rec_id, f.uuid, f.path, f.at, agent),)), T.TIMELINE)
    return ix, [domain_event(ix, "call.recording_started", f.at, agent, recording_id=rec_id, path=f.path, leg_uuid=f.uuid)]


def recording_stopped(ix: Interaction, f: RecordingStopped) -> Result:
    recordings = list(ix.recordings)
    for index in range(len(recordings) - 1, -1, -1):
        rec = recordings[index]
        if rec.path == f.path and rec.ended_at is None:
            break
    else:
        started = f.at - (f.duration_ms or 0) / 1000
        rec_id = str(uuidlib.uuid5(_RECORDING_NS, f"{f.uuid}:{f.path}:{started:.6f}"))
        recordings.append(Recording(rec_id, f.uuid, f.path, started, serving_agent(ix)))
        index = len(recordings) - 1
    rec = replace(recordings[index], ended_at=f.at, duration_ms=f.duration_ms, size_bytes=f.size_bytes)
    recordings[index] = rec
    ix = move(replace(ix, recordings=tuple(recordings)), T.TIMELINE)
    event = domain_event(
        ix, "call.recording_stopped", f.at, rec.agent_id, recording_id=rec.id, path=rec.path,
        leg_uuid=rec.leg_uuid, duration_ms=rec.duration_ms, size_bytes=rec.size_bytes,
    )
    return ix, [event]


def supervisor_joined(ix: Interaction, f: SupervisorJoined) -> Result:
    leg = ix.legs.get(f.uuid)
    if leg is None or not leg.up:
        return ix, []
    found = _open_session(ix, f.uuid)
    if found is not None:   # e.g. a listening leg transferred into intercept
        return _mode_changed(ix, found, f.mode, f.at)
    if any(s.leg_uuid == f.uuid for s in ix.supervisors):
        return ix, []
    session = SupervisorSession(f.uuid, f.mode, f.target_uuid, f.at, leg.agent_id, leg.number)
    ix = move(replace(ix, supervisors=ix.supervisors + (session,)), T.TIMELINE)
    event = domain_event(
        ix, "call.supervisor_joined", f.at, serving_agent(ix), leg_uuid=f.uuid, mode=f.mode.value,
        target_uuid=f.target_uuid, supervisor_agent_id=leg.agent_id, extension=leg.number,
    )
    return ix, [event]


def dialplan_transfer(ix: Interaction, f: DialplanTransfer) -> Result:
    """A ``uuid_transfer`` of the customer leg. Back to the call's own DID while it
    waits in a queue is routing putting the caller back through our inbound extension
    (a transfer to a queue, already recorded by ``queue_entered``), not a transfer."""
    if f.uuid != ix.customer_leg:
        return ix, []
    if f.destination == ix.did and ix.did and ix.state is CallState.QUEUED:
        return move(note(ix, "requeued", f.at, destination=f.destination), T.TIMELINE), []
    if f.destination == "park" or (ix.answered_at is None and ix.serving_leg is None):
        return move(note(ix, "parked" if f.destination == "park" else "dialplan", f.at, destination=f.destination), T.TIMELINE), []
    from_agent = serving_agent(ix) or ix.agent_id
    ix = move(replace(ix, transfers=ix.transfers + (Transfer("blind", f.at, f.destination, from_agent),)), T.TIMELINE)
    event = domain_event(ix, "call.transferred", f.at, from_agent, kind="blind", target=f.destination,
                   from_agent_id=from_agent, to_agent_id=None, leg_uuid=f.uuid)
    return ix, [event]
