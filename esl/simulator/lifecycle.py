"""The event sequences every channel goes through, as the real captures show them.

Each function here fires a fixed run of events for one step of a channel's life:
its state changes, ringing, pre-answer, answer, the caller-id flip of an answered
outbound leg, and the hangup (``CHANNEL_HANGUP`` at once from whoever hangs up, the
rest -- ``CS_HANGUP``, ``HANGUP_COMPLETE``, ``DESTROY`` -- from the channel's own
greenlet once its application has unwound, see :func:`finish`).
"""

from __future__ import annotations

import re
import time

from esl.simulator.core import Core, Interrupt, Leg
from esl.simulator.model import CS, CallSignal, OtherLeg
from esl.simulator.templates import MEDIA, Q850, SIP_HANGUP, SIP_STATUS, Template, fill

_VAR = re.compile(r"\$\{([A-Za-z0-9_]+)\}")


def set_vars(leg: Leg, template: Template) -> None:
    for name, value in fill(template, leg.ctx):
        leg.ch.set_var(name, value)


def expand(core: Core, leg: Leg | None, text: str) -> str:
    """``${var}`` expansion: channel variables, then profile fields, then globals."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if leg is not None:
            if name in leg.ch.variables:
                return leg.ch.variables[name]
            profile = leg.ch.profile
            special = {
                "uuid": leg.uuid,
                "channel_name": leg.ch.name,
                "destination_number": profile.destination_number if profile else "",
                "caller_id_number": profile.caller_id_number if profile else "",
                "caller_id_name": profile.caller_id_name if profile else "",
                "context": profile.context if profile else "",
                "ani": profile.ani if profile else "",
            }
            if name in special:
                return special[name]
        return core.global_vars.get(name, "")

    return _VAR.sub(value, text)


# -- states -------------------------------------------------------------------------


def state(core: Core, leg: Leg, cs: CS) -> None:
    """The state machine entered ``cs``: both state fields move, ``CHANNEL_STATE``."""
    leg.ch.state = cs
    leg.ch.running_state = cs
    core.fire("CHANNEL_STATE", leg, calling="STATE")


def request(leg: Leg, cs: CS) -> None:
    """A state change was requested (only ``Channel-State-Number`` moves)."""
    leg.ch.state = cs


def callstate(core: Core, leg: Leg, signal: CallSignal) -> None:
    previous = leg.ch.signal(signal)
    core.fire(
        "CHANNEL_CALLSTATE", leg, calling="CALLSTATE",
        before={
            "Original-Channel-Call-State": previous.value,
            "Channel-Call-State-Number": str(leg.ch.callstate.number),
        },
    )


def presence(core: Core, leg: Leg, status: str, info_state: str, answered: bool = False) -> None:
    """``PRESENCE_IN`` of a directory user's leg (only legs with a presence id)."""
    if not leg.ch.presence_id:
        return
    count = int(leg.ctx.get("presence_count", "0"))
    leg.ctx["presence_count"] = str(count + 1)
    where = (
        ("src/switch_channel.c", "switch_channel_perform_mark_answered", "3906")
        if answered else ("src/switch_core_state_machine.c", "check_presence", "521")
    )
    core.fire("PRESENCE_IN", leg, calling="PRESENCE", after=(
        ("proto", "any"), ("login", "src/switch_channel.c"), ("from", leg.ch.presence_id),
        ("rpid", "unknown"), ("status", status), ("event_type", "presence"),
        ("alt_event_type", "dialog"), ("presence-call-info-state", info_state),
        ("presence-call-direction", leg.ch.direction), ("event_count", str(count)),
        ("Presence-Calling-File", where[0]), ("Presence-Calling-Function", where[1]),
        ("Presence-Calling-Line", where[2]),
    ))


# -- media and answer ---------------------------------------------------------------


PCMU = ("PCMU", "8000", "64000")
L16 = ("L16", "8000", "128000")


def codecs(core: Core, leg: Leg, codec: tuple[str, str, str] = PCMU) -> None:
    """Read and write codecs set (``CODEC`` x2); from now on events carry them."""
    name, rate, bits = codec
    leg.ch.codec = codec
    core.fire("CODEC", leg, calling="READ_CODEC" if codec is PCMU else "TEMP_READ_CODEC", after=(
        ("channel-read-codec-name", name), ("channel-read-codec-rate", rate),
        ("channel-read-codec-bit-rate", bits),
    ))
    core.fire("CODEC", leg, calling="WRITE_CODEC", after=(
        ("Channel-Write-Codec-Name", name), ("Channel-Write-Codec-Rate", rate),
        ("Channel-Write-codec-bit-rate", bits),
    ))


def temp_read_codec(core: Core, leg: Leg, codec: tuple[str, str, str]) -> None:
    """A temporary read codec (eavesdrop reads L16, then back to PCMU): one ``CODEC``."""
    name, rate, bits = codec
    core.fire("CODEC", leg, calling="TEMP_READ_CODEC", after=(
        ("channel-read-codec-name", name), ("channel-read-codec-rate", rate),
        ("channel-read-codec-bit-rate", bits),
    ))


def pre_answer(core: Core, leg: Leg) -> None:
    """Early media on an inbound leg (what the ``answer`` app does first)."""
    if leg.ch.answer_state != "ringing":
        return
    if leg.ch.codec is None:
        codecs(core, leg)
    set_vars(leg, MEDIA)
    leg.ch.set_var("endpoint_disposition", "EARLY MEDIA")
    leg.ch.answer_state = "early"
    if leg.ch.profile is not None:
        leg.ch.profile.progress_media_us = core.now_us()
    core.fire("CHANNEL_PROGRESS_MEDIA", leg, calling="PROGRESS_MEDIA")
    callstate(core, leg, CallSignal.PRE_ANSWER)


def answer(core: Core, leg: Leg, *, answered_vars: Template = ()) -> None:
    """``CHANNEL_ANSWER`` then ``CHANNEL_CALLSTATE`` ACTIVE (no-op if answered)."""
    if leg.ch.answer_state in ("answered", "hangup"):
        return
    leg.ch.answer_state = "answered"
    if leg.ch.profile is not None:
        leg.ch.profile.answered_us = core.now_us()
    set_vars(leg, answered_vars)
    core.fire("CHANNEL_ANSWER", leg, calling="ANSWER")
    presence(core, leg, "answered", "active", answered=True)
    callstate(core, leg, CallSignal.ANSWER)
    leg.answered_event.set()
    leg.poke()


def flip_cid(core: Core, leg: Leg) -> None:
    """``switch_channel_flip_cid`` on an answered outbound leg: the callee id becomes
    the caller id (``CALL_UPDATE`` RECV), as the captures show on agent legs."""
    profile = leg.ch.profile
    if profile is None:
        return
    old_number = profile.caller_id_number
    profile.caller_id_name, profile.caller_id_number = profile.callee_id_name, profile.callee_id_number
    profile.callee_id_name, profile.callee_id_number = "", old_number
    if leg.kind != "loopback_a":
        profile.network_addr = leg.ctx.get("remote_ip", "")
    leg.ctx["callee_direction"] = "RECV"
    leg.ch.set_var("pre_transfer_caller_id_number", old_number)
    leg.ch.set_var("channel_cid_flipped", "yes")
    core.fire("CALL_UPDATE", leg, calling="FLIP_CID", before={"Direction": "RECV"})


def call_update_sent(core: Core, leg: Leg, peer: Leg, *, originator: bool) -> None:
    """mod_sofia's ``CALL_UPDATE`` (SEND) when a bridge changes what the phone shows:
    the originator's phone is told its own callee id (what ``check_bridge_export``
    copied from the peer), the peer's phone the originator's caller id (capture b)."""
    source = leg.ch.profile if originator else peer.ch.profile
    if originator:
        number = source.callee_id_number if source else ""
        name = (source.callee_id_name or number) if source else ""
    else:
        number = source.caller_id_number if source else ""
        name = (source.caller_id_name or number) if source else ""
    leg.ctx["callee_direction"] = "SEND"
    leg.ch.set_var("last_sent_callee_id_name", name)
    leg.ch.set_var("last_sent_callee_id_number", number)
    core.fire("CALL_UPDATE", leg, calling="SOFIA_UPDATE", before={
        "Direction": "SEND", "Sent-Callee-ID-Name": name, "Sent-Callee-ID-Number": number,
        "Bridged-To": peer.uuid,
    })


def link(leg: Leg, peer: Leg, kind: str) -> None:
    """Remember the partner's profile (``Other-Leg-*``) as it is now."""
    if peer.ch.profile is not None:
        leg.ch.other = OtherLeg(kind=kind, profile=peer.ch.profile.snapshot())


# -- hangup -------------------------------------------------------------------------


def hangup(core: Core, leg: Leg, cause: str = "NORMAL_CLEARING", *, remote: bool = False) -> bool:
    """Hang ``leg`` up now: ``CHANNEL_HANGUP`` fires here; the channel's greenlet then
    unwinds its application and runs :func:`finish`. ``remote`` means the far end
    sent BYE (``sip_hangup_disposition=recv_bye``). Returns False if already down.
    """
    if leg.hanging_up or leg.destroyed:
        return False
    leg.hanging_up = True
    leg.ch.hangup_cause = cause or "NORMAL_CLEARING"
    leg.ch.answer_state = "hangup"
    request(leg, CS.HANGUP)
    if leg.ch.profile is not None:
        leg.ch.profile.hangup_us = core.now_us()
    if leg.kind not in ("loopback_a", "loopback_b"):
        status = SIP_STATUS.get(leg.ch.hangup_cause, 500)
        sip = dict(leg.ctx, sip_status=str(status), q850=str(Q850.get(leg.ch.hangup_cause, 16)))
        for name, value in fill(SIP_HANGUP, sip):
            leg.ch.set_var(name, value)
        leg.ctx["sip_disposition"] = "recv_bye" if remote else "send_bye"
    core.fire("CHANNEL_HANGUP", leg, calling="HANGUP")
    if remote and leg.kind not in ("loopback_a", "loopback_b"):
        leg.ch.set_var("sip_hangup_disposition", "recv_bye")
    leg.push(Interrupt("hangup", {"cause": leg.ch.hangup_cause}))
    return True


def _cdr(core: Core, leg: Leg) -> list[tuple[str, str]]:
    """The CDR variables set at ``CHANNEL_HANGUP_COMPLETE`` (a faithful subset)."""
    now = core.now_us()
    profile = leg.ch.profile
    created = leg.ch.created_us or now
    answered = profile.answered_us if profile else 0
    bridged = profile.bridged_us if profile else 0

    def stamp(us: int) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(us / 1_000_000)) if us else ""

    bill_us = now - answered if answered else 0
    out = [
        ("hangup_cause", leg.ch.hangup_cause),
        ("hangup_cause_q850", str(Q850.get(leg.ch.hangup_cause, 16))),
        ("digits_dialed", "none"),
        ("start_stamp", stamp(created)),
        ("answer_stamp", stamp(answered)),
        ("bridge_stamp", stamp(bridged)),
        ("end_stamp", stamp(now)),
        ("start_epoch", str(created // 1_000_000)),
        ("start_uepoch", str(created)),
        ("answer_epoch", str(answered // 1_000_000)),
        ("answer_uepoch", str(answered)),
        ("bridge_epoch", str(bridged // 1_000_000)),
        ("bridge_uepoch", str(bridged)),
        ("end_epoch", str(now // 1_000_000)),
        ("end_uepoch", str(now)),
        ("last_app", leg.ctx.get("last_app", "")),
        ("last_arg", leg.ctx.get("last_arg", "")),
        ("caller_id", f'"{profile.caller_id_name}" <{profile.caller_id_number}>' if profile else ""),
        ("duration", str((now - created) // 1_000_000)),
        ("billsec", str(bill_us // 1_000_000)),
        ("mduration", str((now - created) // 1000)),
        ("billmsec", str(bill_us // 1000)),
        ("uduration", str(now - created)),
        ("billusec", str(bill_us)),
        ("waitsec", str(((answered or now) - created) // 1_000_000)),
        ("waitmsec", str(((answered or now) - created) // 1000)),
    ]
    return out


def finish(core: Core, leg: Leg) -> None:
    """The rest of a hangup, from the channel's own greenlet (idempotent)."""
    if leg.destroyed:
        return
    if not leg.hanging_up:
        hangup(core, leg, "NORMAL_CLEARING")
    leg.interrupts.clear()
    leg.privates.clear()
    for callback in leg.on_hangup:
        callback()
    state(core, leg, CS.HANGUP)
    callstate(core, leg, CallSignal.HANGUP)
    for callback in leg.on_down:
        callback()
    request(leg, CS.REPORTING)
    presence(core, leg, "CS_HANGUP", "idle")
    state(core, leg, CS.REPORTING)
    for name, value in _cdr(core, leg):
        leg.ch.set_var(name, value)
    if leg.kind.startswith("loopback"):
        leg.ch.set_var("is_loopback", "1")
    elif not leg.ch.var("sip_hangup_disposition"):
        leg.ch.set_var("sip_hangup_disposition", leg.ctx.get("sip_disposition", "send_bye"))
    core.fire("CHANNEL_HANGUP_COMPLETE", leg, calling="HANGUP_COMPLETE",
              before={"Hangup-Cause": leg.ch.hangup_cause})
    request(leg, CS.DESTROY)
    core.scheduler.delete_group(leg.uuid)
    core.fire("CHANNEL_DESTROY", leg, calling="DESTROY")
    state(core, leg, CS.DESTROY)
    leg.destroyed = True
    leg.answered_event.set()
    core.remove_leg(leg)
