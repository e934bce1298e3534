"""Supervisor applications: eavesdrop, three_way (mod_dptools) and intercept.

eavesdrop/three_way put a media bug on the target and never bridge (capture f):
``MEDIA_BUG_START``/``STOP`` on the target, a ``CALL_UPDATE`` on the spy, no
``CHANNEL_BRIDGE``. intercept really bridges, taking the target from its partner.
"""

from __future__ import annotations

from esl.simulator import bridge as bridges
from esl.simulator import lifecycle
from esl.simulator.apps import answer
from esl.simulator.core import Core, Leg
from esl.simulator.execute import app
from esl.simulator.model import CS

_EAVESDROP_KEYS = {"2": "whisper", "1": "other-half", "3": "three-way", "0": "listen"}


def _spy_mode(leg: Leg, app_name: str) -> str:
    if app_name == "three_way":
        return "three-way"
    if leg.ch.var("eavesdrop_bridge_aleg") == "true" and leg.ch.var("eavesdrop_bridge_bleg") == "true":
        return "barge"
    if leg.ch.var("eavesdrop_whisper_aleg") == "true":
        return "whisper"
    if leg.ch.var("eavesdrop_whisper_bleg") == "true":
        return "other-half"
    return "listen"


def _spy(core: Core, leg: Leg, data: str, app_name: str) -> None:
    """eavesdrop / three_way: a media bug on the target, never a ``CHANNEL_BRIDGE``
    (capture f); DTMF 2/1/3/0 switch the mode as mod_dptools documents."""
    target = core.find(data.strip())
    if target is None or target is leg:
        return
    leg.eavesdrop_mode = _spy_mode(leg, app_name)
    lifecycle.temp_read_codec(core, leg, lifecycle.L16)
    target.bugs.append(("eavesdrop", leg.uuid))
    bug = {"Media-Bug-Function": "eavesdrop", "Media-Bug-Target": target.uuid}
    core.fire("MEDIA_BUG_START", target, calling="BUG_START", before=bug)
    tp = target.ch.profile
    core.fire("CALL_UPDATE", leg, calling="SOFIA_UPDATE", before={
        "Direction": "SEND", "Sent-Callee-ID-Name": tp.caller_id_name if tp else "",
        "Sent-Callee-ID-Number": tp.caller_id_number if tp else "",
    })
    while not leg.interrupted() and not target.hanging_up:
        if leg.take("break") is not None:
            break
        if leg.dtmf:
            digit = leg.dtmf.popleft()
            if digit == "*":
                break
            leg.eavesdrop_mode = _EAVESDROP_KEYS.get(digit, leg.eavesdrop_mode)
            continue
        core.wait(leg, dtmf=True, breaks=True)
    if ("eavesdrop", leg.uuid) in target.bugs:
        target.bugs.remove(("eavesdrop", leg.uuid))
    if not target.destroyed:
        core.fire("MEDIA_BUG_STOP", target, calling="BUG_STOP", before=bug)
    lifecycle.temp_read_codec(core, leg, lifecycle.PCMU)
    leg.eavesdrop_mode = ""


@app("eavesdrop")
def eavesdrop(core: Core, leg: Leg, data: str) -> None:
    _spy(core, leg, data, "eavesdrop")


@app("three_way")
def three_way(core: Core, leg: Leg, data: str) -> None:
    _spy(core, leg, data, "three_way")


@app("intercept")
def intercept(core: Core, leg: Leg, data: str) -> None:
    """``intercept [-bleg] <uuid>`` in ``switch_ivr_intercept_session``'s order: the
    target and whoever it is bridged to are parked with CF_TRANSFER, so their bridge
    ends without either hanging up (``CHANNEL_UNBRIDGE`` on its originator); the
    target is answered and bridged to this leg; then the old partner is hung up
    (PICKED_OFF). Hanging the partner up first would take the target down with it."""
    args = data.split()
    bleg = bool(args) and args[0] == "-bleg"
    target = core.find(args[-1]) if args else None
    if target is not None and bleg:
        target = core.find(target.bridged_to or target.ch.var("signal_bond"))
    if target is None or target is leg:
        return
    if leg.ch.answer_state != "answered":
        answer(core, leg, "")
    partner = core.find(target.bridged_to) if target.bridged_to else None
    if partner is not None and target.bridge is not None:
        _part(core, target.bridge)
        lifecycle.state(core, target, CS.PARK)   # the new bridge waits for it to get there from park
    if target.ch.answer_state != "answered":
        lifecycle.answer(core, target)
    bridges.start_uuid_bridge(core, leg, target, via="intercept")
    if partner is not None:
        bridges.hangup(core, partner, "PICKED_OFF")


def _part(core: Core, bridge: bridges.Bridge) -> None:
    """End a bridge with both legs staying up (neither is told to follow the other)."""
    core.fire("CHANNEL_UNBRIDGE", bridge.a, calling="UNBRIDGE",
              before={"Bridge-A-Unique-ID": bridge.a.uuid, "Bridge-B-Unique-ID": bridge.b.uuid})
    bridges.detach(bridge.a)
    bridges.detach(bridge.b)
    bridge.unbridged.set()
