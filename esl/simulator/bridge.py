"""Bridges between two channels and what happens to one when the other leaves.

``uuid_bridge A B`` (and ``intercept``, and the ``bridge`` application) join two legs;
A, the *originator*, fires ``CHANNEL_BRIDGE`` and later ``CHANNEL_UNBRIDGE`` -- the
other leg never does (capture b). When one side leaves, the survivor follows
mod_dptools/switch_ivr_bridge.c: ``park_after_bridge=true`` parks it,
``transfer_after_bridge=<dest>`` transfers it, otherwise a peer leg hangs up with the
same cause and an originator carries on with its dialplan (which, after a park that
``uuid_bridge`` interrupted, is empty, so it hangs up NORMAL_CLEARING).

Hangups always go through :func:`hangup` here so the partner is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import gevent.event

from esl.simulator import lifecycle
from esl.simulator.core import Core, Interrupt, Leg
from esl.simulator.model import CS


@dataclass(slots=True)
class Bridge:
    """Two joined legs; ``a`` is the originator."""

    a: Leg
    b: Leg
    via: str = "uuid_bridge"
    joined: gevent.event.Event = field(default_factory=gevent.event.Event)
    peer_down: gevent.event.Event = field(default_factory=gevent.event.Event)
    unbridged: gevent.event.Event = field(default_factory=gevent.event.Event)

    def other(self, leg: Leg) -> Leg:
        return self.b if leg is self.a else self.a


def survivor_plan(leg: Leg, *, originator: bool) -> tuple[str, str]:
    """What a leg does when its bridge ends without it hanging up:
    ``("park", "")``, ``("transfer", dest)``, ``("continue", "")`` (an originator goes
    on with its dialplan) or ``("hangup", "")``."""
    if leg.ch.var("park_after_bridge").lower() in ("true", "yes", "on", "1"):
        return ("park", "")
    transfer = leg.ch.var("transfer_after_bridge")
    if transfer:
        return ("transfer", transfer)
    if originator and leg.ch.var("hangup_after_bridge").lower() not in ("true", "yes", "on", "1"):
        return ("continue", "")
    return ("hangup", "")


def hangup(core: Core, leg: Leg, cause: str = "NORMAL_CLEARING", *, remote: bool = False) -> bool:
    """Hang a leg up and deal with its bridge partner and eavesdroppers.

    A partner that has already left this bridge (``uuid_bridge``d elsewhere while this
    leg had not yet noticed) is not this leg's partner any more and is left alone.
    """
    if not lifecycle.hangup(core, leg, cause, remote=remote):
        return False
    _tell_spies(core, leg)
    bridge = leg.bridge
    if bridge is not None and bridge.other(leg).bridge is bridge:
        partner = bridge.other(leg)
        originator = bridge.a is partner
        plan, _ = survivor_plan(partner, originator=originator)
        if plan == "hangup" and not partner.hanging_up:
            lifecycle.hangup(core, partner, leg.ch.hangup_cause)
            _tell_spies(core, partner)
        else:
            partner.push(Interrupt("unbridge", {"originator": originator}))
    return True


def _tell_spies(core: Core, leg: Leg) -> None:
    """Eavesdroppers on a leg that hangs up stop (their loop sees the target down)."""
    for spy_uuid in [owner for _, owner in leg.bugs]:
        spy = core.find(spy_uuid)
        if spy is not None:
            spy.push(Interrupt("break", {"reason": "target-gone"}))


def start_uuid_bridge(core: Core, a: Leg, b: Leg, *, via: str = "uuid_bridge") -> None:
    """What ``switch_ivr_uuid_bridge`` does at once; each leg's greenlet then leaves
    its application -- or the bridge it is in, which its originator ends with
    ``CHANNEL_UNBRIDGE`` -- and runs the new bridge (see ``execute.run_bridge``).

    Both legs are asked for ``CS_HIBERNATE`` (``CS_CONSUME_MEDIA`` if already there):
    until their greenlets get round to it, what they fire says
    ``Channel-State-Number: 8`` (capture b), and a leg still in ``CS_SOFT_EXECUTE``
    from an earlier bridge does not look ready to the new originator."""
    now = core.now_us()
    ts = f"{now // 1_000_000}:{core.new_uuid()}:uuid_br:"
    for leg, other in ((a, b), (b, a)):
        leg.ch.set_var("bridge_channel", other.ch.name)
        leg.ch.set_var("bridge_uuid", other.uuid)
        leg.ch.set_var("signal_bond", other.uuid)
        profile = leg.ch.profile
        if profile is not None:
            leg.ch.set_var("original_destination_number", profile.destination_number)
            leg.ch.set_var("original_caller_id_name", profile.caller_id_name)
            leg.ch.set_var("original_caller_id_number", profile.caller_id_number)
        leg.ch.set_var("transfer_history", ts + other.uuid)
        leg.ch.set_var("transfer_source", ts + other.uuid)
    lifecycle.link(a, b, "originatee")
    lifecycle.link(b, a, "originator")
    for leg in (a, b):
        lifecycle.request(leg, CS.CONSUME_MEDIA if leg.ch.state is CS.HIBERNATE else CS.HIBERNATE)
    a.ch.set_var("uuid_bridge", b.uuid)
    for leg, other in ((a, b), (b, a)):
        profile = leg.ch.profile
        if profile is not None:
            profile.profile_index += 1
            profile.profile_created_us = now
            profile.transfer_source = ts + other.uuid
    if a.ch.profile is not None and b.ch.profile is not None:
        a.ch.profile.callee_id_name = b.ch.profile.callee_id_name
        a.ch.profile.callee_id_number = b.ch.profile.callee_id_number
        b.ch.profile.caller_id_name = a.ch.profile.caller_id_name
        b.ch.profile.caller_id_number = a.ch.profile.caller_id_number
    bridge = Bridge(a=a, b=b, via=via)
    a.push(Interrupt("bridge", {"bridge": bridge}))
    b.push(Interrupt("bridge", {"bridge": bridge}))


def detach(leg: Leg) -> None:
    """Forget the bridge on one side (after ``CHANNEL_UNBRIDGE``)."""
    bridge = leg.bridge
    leg.bridge = None
    leg.bridged_to = ""
    leg.ch.set_var("bridge_to", None)
    leg.ch.call_uuid = leg.uuid
    leg.ch.set_var("call_uuid", leg.uuid)
    if bridge is not None:
        leg.ch.set_var("last_bridge_role", "originator" if bridge.a is leg else "originatee")
